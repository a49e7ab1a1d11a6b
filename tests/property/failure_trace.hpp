// Failing property cases leave a trace file behind that reproduces them: the events of the failing
// kernel lifetime with the commands a fresh kernel answers to them, in the format of drivers/trace
// (`tasklane replay FILE` checks it; read_trace() loads it for a debugger or a new unit test).
//
// The file is $TASKLANE_FAILURE_TRACE_DIR/tasklane-property-failure-<pid>.trace (default directory:
// the system's temp directory). Every failure overwrites it, so once rapidcheck has shrunk a
// counterexample the file holds the smallest failing case, the one rapidcheck reports.
#pragma once

#include <filesystem>
#include <vector>

#include "tasklane/kernel.hpp"

namespace tasklane::property {

// Writes `events` (one kernel lifetime, starting from a fresh kernel or with its Restore) and
// returns the file's path, or an empty path when it could not be written.
std::filesystem::path write_failure_trace(const Config& config, const std::vector<TimedEvent>& events);

// Where write_failure_trace() writes in this process.
std::filesystem::path failure_trace_path();

}  // namespace tasklane::property
