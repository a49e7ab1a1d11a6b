// The invariants of drivers/invariants.hpp, judged over a trace: a fresh kernel fed the trace's
// events (a new one at each restart) with an InvariantChecker watching its commands. A trace that
// replays exactly breaks the same invariants the recorded run broke, so `tasklane replay` shows
// them and `tasklane sim` can prove that the trace it wrote reproduces what it found.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "tasklane/drivers/trace.hpp"

namespace tasklane::cli {

struct InvariantReport {
  std::vector<std::string> violations;  // the first InvariantChecker::max_kept
  std::size_t violation_count = 0;
};

InvariantReport check_trace_invariants(const drivers::Trace& trace);

// Reads a trace file with a progress bar; on failure says why on stderr as "tasklane COMMAND: ..."
// and answers nullopt (the caller exits with exit_bad_usage).
std::optional<drivers::Trace> read_trace_file(Console& console, bool progress, const std::string& path,
                                              const char* command);

}  // namespace tasklane::cli
