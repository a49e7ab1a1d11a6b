// Short one-line texts for kernel values, for the traces a failing property prints.
//
// The JSON codec would do, but a counterexample is read by a person: `spawn bg_3 alice prio=high
// key=s1/p1 timeout=20ms` says more at a glance than a JSON object, and these texts do not depend
// on the codec being right.
#pragma once

#include <string>

#include "tasklane/command.hpp"
#include "tasklane/config.hpp"
#include "tasklane/event.hpp"

namespace tasklane::property {

std::string describe(Duration d);
std::string describe(const TaskSpec& spec);
std::string describe(const Outcome& outcome);
std::string describe(const AbortSelector& which);
std::string describe(const FlushSelector& which);
std::string describe(const PauseSelector& which);
std::string describe(const Event& event);
std::string describe(const Command& command);
std::string describe(const Config& config);

}  // namespace tasklane::property
