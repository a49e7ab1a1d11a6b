#include "trace_check.hpp"

#include "tasklane/drivers/invariants.hpp"

namespace tasklane::cli {

InvariantReport check_trace_invariants(const drivers::Trace& trace) {
  Kernel kernel(trace.config);
  sim::InvariantChecker checker(kernel);  // holds `kernel` by reference: a restart assigns a fresh one to it
  bool restarting = false;
  for (const auto& entry : trace.entries) {
    if (std::holds_alternative<drivers::TraceRestart>(entry)) {
      kernel = Kernel(trace.config);
      restarting = true;
      continue;
    }
    const auto* e = std::get_if<TimedEvent>(&entry);
    if (!e) continue;  // recorded commands: replay_trace compares them; here the kernel answers
    if (restarting) {
      const auto* restore = std::get_if<event::Restore>(&e->event);
      checker.on_restart(restore ? restore->snapshot : Snapshot{});
      restarting = false;
    }
    if (const auto* spawn = std::get_if<event::Spawn>(&e->event)) {
      if (auto id = kernel.spawn(spawn->spec, e->at)) checker.on_spawned(id.value());
    } else {
      apply(kernel, *e);
    }
    while (auto c = kernel.poll()) checker.on_command(e->at, *c);
    checker.after_input(e->at);
  }
  return InvariantReport{checker.violations(), checker.violation_count()};
}

}  // namespace tasklane::cli
