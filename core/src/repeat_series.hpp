// Repeating tasks (TaskSpec::repeat): which run of a series is current, whether an ended run has a
// successor, when the successor is due and what its spec is. The kernel spawns the successor; see
// the Repeat comment in task_spec.hpp for the rules.
//
// A series is named by its first run's id. RepeatSeries maps it to the series' current live run, so
// that Kernel::cancel(series id) reaches the run that is live now, and so that a restore after a
// crash that kept both an orphaned run and its persisted successor spawns no second successor.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tasklane/task_info.hpp"

namespace tasklane::detail {

class RepeatSeries {
 public:
  // A live (pending or running) run of `series`; the newest live run is the current one.
  void live(TaskId series, TaskId run) {
    auto [it, inserted] = current_.try_emplace(series, run);
    if (!inserted && it->second < run) it->second = run;
  }
  // The run ended: the series has no live run until its successor (if any) is spawned.
  void ended(TaskId series, TaskId run) {
    const auto it = current_.find(series);
    if (it != current_.end() && it->second == run) current_.erase(it);
  }
  std::optional<TaskId> current(TaskId series) const {
    const auto it = current_.find(series);
    if (it == current_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() const { return current_.size(); }

 private:
  std::map<TaskId, TaskId> current_;
};

// Whether a run that ended in `status` may be followed by another: not when cancelled, not after
// `times` runs. (A run that never started is decided by the caller: it cuts the series.)
inline bool series_goes_on(const Repeat* repeat, std::uint32_t run, TaskStatus status) {
  if (!repeat || status == TaskStatus::Cancelled) return false;
  return !repeat->times || run < *repeat->times;
}

struct NextRun {
  Time due;
  std::uint64_t skipped = 0;  // fixed-rate slots passed over
};

// When the run after the one whose slot was `slot`, which ended at `now`, is due. A fixed-rate
// series' slots are counted from the run's own slot, created_at + spec.run_after (the successor's
// run_after is the delay to its slot, so every run's slot is on the first run's grid).
inline NextRun next_run(const Repeat& repeat, Time slot, Time now) {
  if (repeat.mode == RepeatMode::FixedDelay) return NextRun{now + repeat.every, 0};
  if (now < slot) return NextRun{slot + repeat.every, 0};
  const auto passed = static_cast<std::uint64_t>((now - slot) / repeat.every);  // whole periods since the slot
  return NextRun{slot + repeat.every * static_cast<Duration::rep>(passed + 1), passed};
}

// The successor's spec: the run's own, except the dependencies (they gate the first run only) and
// the delay, which points at the next slot.
inline TaskSpec successor_spec(const TaskSpec& spec, Time due, Time now) {
  TaskSpec next = spec;
  next.after.clear();
  next.after_mode = DependencyMode::AllSucceeded;
  next.run_after = due - now;
  return next;
}

inline std::string series_end_message(const std::string& why) { return "series ended: " + why; }

}  // namespace tasklane::detail
