// KernelHarness, repeating tasks: when a run of a series ends, the property predicts the next run
// from the rules in task_spec.hpp (Repeat), independently of core/src/repeat_series.hpp: whether
// there is one, its id, spec, slot and number, or why the series ends.
#include "describe.hpp"
#include "harness.hpp"

namespace tasklane::property {

void KernelHarness::expect_next_run(TaskId id, TaskFacts& run, TaskStatus status) {
  if (!run.series) return;
  const Repeat& repeat = *run.spec.repeat;
  if (status == TaskStatus::Cancelled) return Coverage::instance().hit("series ended by a cancel");
  if (repeat.times && run.run >= *repeat.times) return Coverage::instance().hit("series ran its times");
  for (const auto& [other, f] : tasks_) {  // a restore found the next run already persisted
    if (other != id && f.in_kernel && f.phase != Phase::Terminal && f.series == run.series) {
      HARNESS_EXPECT(scope_.restoring, to_string(id) + " ended while " + to_string(other) + " of its series was live");
      return;
    }
  }
  const auto cut = [&](const std::string& why) {
    run.series_end = "series ended: " + why;
    ++expected_stats_.series_cut;
    Coverage::instance().hit("series cut");
  };
  if (stopping_) return cut("runtime is shutting down");
  if (run.attempt == 0) return cut("run " + std::to_string(run.run) + " never started");
  std::uint64_t skipped = 0;
  const Time due = next_slot(run.spec, run.created_at, now_, skipped);
  TaskSpec spec = run.spec;
  spec.after.clear();
  spec.after_mode = DependencyMode::AllSucceeded;
  spec.run_after = due - now_;
  if (!admission_refusals(spec, std::nullopt).empty()) {
    Coverage::instance().hit("next run refused");
    return cut("run " + std::to_string(run.run + 1) + " refused: ");  // the kernel's reason follows; checked by prefix
  }
  const TaskId next{next_id_};
  TaskFacts f;
  f.spec = spec;
  f.created_at = now_;
  f.due = due;
  f.considered_at = now_;
  f.series = run.series;
  f.run = run.run + 1;
  tasks_.emplace(next, std::move(f));
  unflushed_[next] = UnflushedFacts{spec.key.to_optional(), false, std::nullopt};
  ++next_id_;
  ++expected_stats_.spawned;
  ++expected_stats_.repeated;
  expected_stats_.repeat_slots_skipped += skipped;
  Coverage::instance().hit(repeat.mode == RepeatMode::FixedRate ? "next run at a fixed rate" : "next run after a fixed delay");
  if (skipped > 0) Coverage::instance().hit("fixed-rate slots skipped");
  if (status != TaskStatus::Completed) Coverage::instance().hit("next run after a failed run");
  if (scope_.restoring) Coverage::instance().hit("next run of a run orphaned at restore");
  if (spec.quota && spec.quota->cooldown.count() > 0) Coverage::instance().hit("repeating task under a cooldown");
  if (spec.durable) {
    const auto persisted = successor_persists_.find(next);
    HARNESS_EXPECT(persisted != successor_persists_.end(),
                   "the next run " + to_string(next) + " of durable " + to_string(id) + " must be persisted before its Notify");
    const TaskInfo& r = persisted->second;
    HARNESS_EXPECT(r.spec == spec && r.series == run.series && r.run == run.run + 1 && r.created_at == now_ &&
                       r.due == due && r.status == TaskStatus::Pending && r.attempt == 0,
                   "the next run's record must be run " + std::to_string(run.run + 1) + " of " + to_string(*run.series) +
                       ", due at " + describe(due));
    journal_[next] = r;
    successor_persists_.erase(persisted);
  }
}

// A Persist of a next run is only taken with its predecessor's Notify, in the same batch.
void KernelHarness::check_successor_persists() {
  HARNESS_EXPECT(successor_persists_.empty(),
                 "Persist of " + (successor_persists_.empty() ? std::string() : to_string(successor_persists_.begin()->first)) +
                     ", a task the kernel does not have (no run of its series ended)");
}

}  // namespace tasklane::property
