#include "trace_check.hpp"

#include <ostream>

#include "progress.hpp"
#include "tasklane/drivers/invariants.hpp"

namespace tasklane::cli {

InvariantReport check_trace_invariants(const drivers::Trace& trace) {
  Kernel kernel(trace.config);
  sim::InvariantChecker checker(kernel);  // holds `kernel` by reference: a restart assigns a fresh one to it
  bool restarting = false;
  // Whether the process died during the input at `i`: a restart mark follows its commands.
  auto died_during = [&](std::size_t i) {
    for (std::size_t j = i + 1; j < trace.entries.size(); ++j) {
      if (std::holds_alternative<Command>(trace.entries[j])) continue;
      return std::holds_alternative<drivers::TraceRestart>(trace.entries[j]);
    }
    return false;
  };
  for (std::size_t i = 0; i < trace.entries.size(); ++i) {
    const auto& entry = trace.entries[i];
    if (std::holds_alternative<drivers::TraceRestart>(entry)) {
      kernel = Kernel(trace.config);
      restarting = true;
      continue;
    }
    const auto* e = std::get_if<TimedEvent>(&entry);
    if (!e) continue;  // recorded commands: replay_trace compares them; here the kernel answers
    if (restarting) {
      const auto* restore = std::get_if<event::Restore>(&e->event);
      // As the simulation's restarts: the restored records are what the store kept.
      checker.on_restart(restore ? restore->snapshot : Snapshot{}, sim::InvariantChecker::Restart::FromJournal);
      restarting = false;
    }
    if (const auto* spawn = std::get_if<event::Spawn>(&e->event)) {
      // As tasklane sim does: a spawn the process died during is known from the restored records.
      if (auto id = kernel.spawn(spawn->spec, e->at); id && !died_during(i)) checker.on_spawned(id.value());
    } else {
      apply(kernel, *e);
    }
    while (auto c = kernel.poll()) checker.on_command(e->at, *c);
    checker.after_input(e->at);
  }
  return InvariantReport{checker.violations(), checker.violation_count()};
}

std::optional<drivers::Trace> read_trace_file(Console& console, bool progress, const std::string& path,
                                              const char* command) {
  ProgressBar bar(console, progress, "reading", 0);
  auto read = drivers::read_trace(path, [&](std::uint64_t done, std::uint64_t total) {
    bar.set_total(total);
    bar.update(done);
  });
  if (!read) {
    console.err << "tasklane " << command << ": " << read.error() << "\n";
    return std::nullopt;
  }
  return std::move(read).value();
}

}  // namespace tasklane::cli
