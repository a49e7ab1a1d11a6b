#include "agent_workload.hpp"

#include <array>
#include <set>

#include "tasklane/drivers/invariants.hpp"
#include "tasklane/drivers/splitmix64.hpp"

namespace tasklane::cli {
namespace {

constexpr std::array<const char*, 5> sessions = {"session-0", "session-1", "session-2", "session-3", "session-4"};

// Per kind: how long its work takes and the timeout its spec carries (0: none).
struct KindShape {
  const char* kind;
  std::int64_t min_ms;
  std::int64_t max_ms;
  std::int64_t timeout_ms;
};
constexpr std::array<KindShape, 6> kinds = {{
    {"summarize", 5, 60, 200},
    {"memory_write", 2, 20, 0},
    {"compaction", 50, 200, 500},
    {"sub_agent", 50, 300, 400},
    {"embedding", 1, 30, 0},
    {"critical_alert", 1, 5, 0},
}};

const KindShape& shape_of(const std::string& kind) {
  for (const auto& k : kinds) {
    if (kind == k.kind) return k;
  }
  return kinds[0];
}

sim::WorkPlan plan_work(const sim::WorkRequest& w, bool faults) {
  sim::SplitMix64 rng(w.random);
  const KindShape& shape = shape_of(w.start.kind);
  sim::WorkPlan plan;
  plan.duration = milliseconds(shape.min_ms + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(shape.max_ms - shape.min_ms + 1))));
  plan.outcome = Outcome::success(Json{{"kind", w.start.kind}, {"attempt", w.start.attempt}});
  if (!faults) return plan;
  plan.cancel_latency = milliseconds(static_cast<std::int64_t>(rng.below(30)));
  const std::uint64_t roll = rng.below(100);
  if (roll < 15) {
    plan.outcome = Outcome::failure("model API answered 503", true, "unavailable");
  } else if (roll < 18) {
    plan.outcome = Outcome::failure("bad request: context too long", false, "invalid");
  } else if (roll < 23 && shape.timeout_ms > 0) {
    plan.duration = milliseconds(2 * shape.timeout_ms);  // runs past its timeout; its completion comes late
  } else if (roll < 26 && shape.timeout_ms > 0) {
    plan.never_returns = true;  // hangs until the timeout cancels it
  }
  return plan;
}

TaskSpec make_spec(sim::SplitMix64& rng, std::uint64_t number) {
  const std::string session = sessions[rng.below(sessions.size())];
  const KindShape& shape = kinds[rng.below(kinds.size())];
  TaskSpec spec;
  spec.kind = shape.kind;
  spec.owner = session;
  spec.payload = {{"n", number}};
  if (shape.timeout_ms > 0) spec.timeout = milliseconds(shape.timeout_ms);
  const std::string kind = shape.kind;
  if (kind == "summarize") {
    spec.retry.max_attempts = 2;
    spec.retry.initial_backoff = milliseconds(20);
  } else if (kind == "memory_write") {
    spec.priority = Priority::High;
    spec.key = SequenceKey{"agent", session, "facts"};
    spec.durable = true;
    spec.retry.max_attempts = 3;
    spec.retry.initial_backoff = milliseconds(10);
    spec.retry.requeue_on_restart = true;
  } else if (kind == "compaction") {
    spec.priority = Priority::Low;
    spec.key = SequenceKey{"agent", session, "compaction"};
    spec.quota = QuotaSpec{session + "/compaction", milliseconds(100), 0, true};
    spec.durable = true;
  } else if (kind == "sub_agent") {
    spec.inbox = true;
    spec.name = "helper-" + std::to_string(number);
  } else if (kind == "embedding") {
    spec.priority = Priority::Low;
    spec.run_after = milliseconds(static_cast<std::int64_t>(rng.below(100)));
    spec.retry.max_attempts = 4;
    spec.retry.initial_backoff = milliseconds(5);
    spec.retry.jitter = 0.5;
    spec.retry.non_retryable_errors = {"invalid"};
  } else {
    spec.priority = Priority::Critical;
  }
  return spec;
}

// Per thousand chances at each site (sim_faults.hpp); hangs only where the workload can end them.
sim::Faults fault_rates() {
  sim::Faults f;
  f.late_timer = 50;
  f.early_timer = 20;
  f.duplicate_completion = 20;
  f.stale_completion = 20;
  f.persist_error = 20;
  f.crash = 1;
  f.hang = 10;
  return f;
}

}  // namespace

WorkloadRun run_agent_workload(const WorkloadOptions& options,
                               const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  WorkloadRun run;
  run.config.max_running = options.max_running;
  run.config.capacity = 512;
  run.config.retained_terminal = 256;  // an agent host keeps a window of finished tasks, not all of them
  run.config.seed = options.seed;
  sim::Simulation simulation(run.config, options.seed);
  for (const auto& k : kinds) {
    simulation.on_kind(k.kind, [faults = options.faults](const sim::WorkRequest& w) { return plan_work(w, faults); });
  }
  sim::InvariantChecker checker(simulation.kernel());
  sim::watch(simulation, checker);
  // A crash fault restarts the process from what the store kept (Simulation::durable_state()).
  simulation.on_restart([&checker](const Snapshot& restored) {
    checker.on_restart(restored, sim::InvariantChecker::Restart::FromJournal);
  });
  std::set<TaskId> hanging;  // hang faults: work that will never return
  simulation.on_fault([&](const sim::FaultRecord& f) {
    if (f.kind == sim::FaultKind::Hang && f.task) hanging.insert(*f.task);
    if (f.kind == sim::FaultKind::Crash) run.stats += simulation.kernel().stats();  // the dying kernel's counts
  });
  if (options.faults) simulation.set_faults(fault_rates());

  sim::SplitMix64 rng(options.seed ^ 0x7461736b6c616e65ULL);  // the workload's own draws, apart from the simulation's
  std::vector<TaskId> spawned;
  std::vector<TaskId> sub_agents;
  for (std::uint64_t step = 0; step < options.steps; ++step) {
    if (progress && step % 64 == 0) progress(step, options.steps);
    const std::uint64_t roll = rng.below(100);
    if (roll < 55) {
      const std::size_t restarts_before = simulation.restarts().size();
      auto id = simulation.spawn(make_spec(rng, step));
      // A crash fault during the spawn: the task lives on only if its record reached the store,
      // and the checker learns that from the restart.
      if (id && simulation.restarts().size() == restarts_before) {
        checker.on_spawned(id.value());
        spawned.push_back(id.value());
        if (const std::optional<TaskInfo> info = simulation.kernel().get(id.value()); info && info->spec.inbox) sub_agents.push_back(id.value());
      }
    } else if (roll < 75) {
      simulation.advance_by(milliseconds(static_cast<std::int64_t>(rng.below(21))));
    } else if (roll < 82) {
      if (!sub_agents.empty()) {
        const TaskId to = sub_agents[rng.below(sub_agents.size())];
        const std::optional<TaskInfo> info = simulation.kernel().get(to);
        (void)simulation.send(to, info ? info->spec.owner : std::string("someone"), Json{{"step", step}});
      }
    } else if (roll < 87) {
      if (!spawned.empty()) simulation.abort(abort_selector::Task{spawned[rng.below(spawned.size())]});
    } else if (roll < 91) {
      if (rng.chance(50)) {
        simulation.flush(flush_selector::Scope{sessions[rng.below(sessions.size())]});
      } else {
        simulation.flush(flush_selector::All{});
      }
    } else if (roll < 92) {
      simulation.abort(abort_selector::Owner{sessions[rng.below(sessions.size())]});
    } else {
      simulation.advance_by(milliseconds(1));
    }
  }
  if (progress) progress(options.steps, options.steps);
  // Faults stop; work that hangs is cancelled, as a user cancels a stuck job; the rest must end.
  simulation.set_faults(sim::Faults{});
  for (const TaskId id : hanging) (void)simulation.abort(abort_selector::Task{id});
  simulation.run_until_idle(seconds(3600));
  run.unnotified = checker.unnotified();
  simulation.shutdown(ShutdownMode::Drain);
  simulation.run_until_idle(seconds(3600));

  run.trace = simulation.trace();
  run.restarts = simulation.restarts();
  run.violations = checker.violations();
  run.violation_count = checker.violation_count();
  run.fault_findings = simulation.fault_findings();
  for (const auto& f : simulation.fault_log()) ++run.faults_used[sim::to_string(f.kind)];
  run.stats += simulation.kernel().stats();
  run.commands = simulation.commands().size();
  run.command_hash = simulation.command_hash();
  run.end = simulation.now();
  return run;
}

}  // namespace tasklane::cli
