// InvariantChecker: watches a kernel through the commands it emits and its read API, and writes
// down every broken invariant as a sentence with the virtual time. Shared by the simulation soak,
// the property tests and the fuzz targets, which all hold the kernel to the same rules:
//
//   1. every accepted task gets exactly one Notify, and no Start after it;
//   2. running() <= Config::max_running, unfinished() <= Config::capacity, and running() equals the
//      attempts that were started and have not ended;
//   3. tasks with one SequenceKey start in id order and never overlap: a task starts only when every
//      earlier task of its key has its Notify, and no later one has started;
//   4. no Start before created_at + run_after (nor before the record's due), no two starts under
//      one quota key closer than the cooldown, no Cancel{TimedOut} before the attempt's deadline
//      (the earlier of its timeout and its heartbeat deadline, moved by each heartbeat it was fed),
//      no start under a rate limit without a free token (checked as GCRA, independently of the
//      kernel's bucket);
//   5. a task's attempt numbers go up by one at every Start;
//   6. at most one FlushDone per flush id;
//   7. a task with dependencies starts only after the Notify of each one the checker knows, and
//      with AllSucceeded only when each of them completed;
//   8. no task starts while a pause rule selects it (its owner, or its key's purpose); the rules
//      come from the Pause and Resume inputs (watch() feeds them) and, at a restart, the snapshot.
//
// With the simulation:
//   tasklane::sim::InvariantChecker checker(sim.kernel());
//   tasklane::sim::watch(sim, checker);
//   auto id = sim.spawn(spec);
//   if (id) checker.on_spawned(id.value());
//   ...
//   EXPECT_TRUE(checker.violations().empty());
//
// Feeding a kernel directly (a fuzz target): after each input, hand every polled command to
// on_command(now, c), then call after_input(now). Across a crash, call on_restart(snapshot) before
// feeding the restore to the fresh kernel.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tasklane/drivers/simulation.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane::sim {

class InvariantChecker {
 public:
  // `kernel` must outlive the checker; Simulation::kernel() does across crash().
  explicit InvariantChecker(const Kernel& kernel);

  // The kernel accepted a spawn. (The next run of a repeating series is learnt from its
  // predecessor's Notify.) Without it a task is known from its first Start or Notify, and
  // lane order and liveness can only be checked for tasks the checker has seen.
  void on_spawned(TaskId id);
  void on_command(Time at, const Command& command);
  // The kernel was fed a heartbeat (after the input). Without these, a heartbeat deadline is taken
  // from the start alone, which only makes the timeout check laxer.
  void on_heartbeat(Time at, TaskId id, std::uint32_t attempt);
  // The kernel was fed a pause or a resume (rule 8); call before after_input() of that input.
  void on_pause(const PauseSelector& which);
  void on_resume(const PauseSelector& which);
  // The counting checks, and noticing attempts that ended without a command (a failure that retries).
  void after_input(Time at);
  // The kernel was replaced by a fresh one that is about to restore `restored`: work in flight
  // died, tasks that are not in the snapshot are gone without a Notify (they were not durable).
  // Exact: `restored` is the dead kernel's own snapshot, and must agree with what the checker saw.
  // FromJournal: it is what the durable store kept (Simulation::durable_state()), which may be behind
  // the last records the kernel asked for: the restored records are taken as the truth, a notified
  // task may come back unfinished, and cooldowns restart from the restored quota usage.
  enum class Restart : std::uint8_t { Exact, FromJournal };
  void on_restart(const Snapshot& restored, Restart how = Restart::Exact);

  // Accepted tasks that have no Notify yet: empty at the end of a run that let everything finish.
  std::vector<TaskId> unnotified() const;

  // What was broken, in order; the first `max_kept` sentences are kept, the rest only counted.
  std::vector<std::string> violations() const { return violations_; }
  std::size_t violation_count() const { return violation_count_; }
  bool ok() const { return violation_count_ == 0; }

  static constexpr std::size_t max_kept = 64;

 private:
  struct Track {
    std::optional<SequenceKey> key;
    std::string owner;
    std::optional<QuotaSpec> quota;
    std::optional<RateLimit> rate_limit;
    std::vector<TaskId> after;
    DependencyMode after_mode = DependencyMode::AllSucceeded;
    TaskStatus final_status = TaskStatus::Pending;  // as notified
    Duration timeout{0};
    bool has_timeout = false;
    std::optional<Duration> heartbeat;
    bool durable = false;
    Time earliest{0};  // created_at + run_after
    std::uint32_t attempt = 0;  // the last attempt started
    std::optional<Time> deadline;  // of the last attempt
    std::optional<Time> heartbeat_deadline;  // of the last attempt
    bool started = false;
    bool attempt_live = false;
    bool notified = false;
  };

  Track& learn(TaskId id);
  Track make_track(const TaskInfo& info) const;
  void end_attempt(TaskId id, Track& track);
  void on_start(Time at, const command::Start& start);
  void on_cancel(Time at, const command::Cancel& cancel);
  void on_notify(Time at, const command::Notify& notify);
  void restart_from_journal(const Snapshot& restored);
  void check_paused_starts();
  void violation(Time at, std::string what);
  Time observe(Time at);

  const Kernel& kernel_;
  std::map<TaskId, Track> tasks_;
  std::set<TaskId> live_attempts_;  // started, not known to have ended
  std::map<SequenceKey, std::set<TaskId>> lanes_;  // per key, the tasks without a Notify yet
  std::map<std::string, Time> quota_last_start_;
  std::map<std::string, Time> rate_tat_;  // per limiter key: the theoretical arrival time of the next start
  std::set<FlushId> flushes_done_;
  std::set<std::string> paused_owners_;
  std::set<std::string> paused_purposes_;
  std::vector<std::pair<Time, TaskId>> starts_this_input_;  // for rule 8, judged in after_input
  std::vector<std::string> violations_;
  std::size_t violation_count_ = 0;
  Time last_at_ = Time::min();  // the driver's clock may start below zero
};

// Hooks the checker to a simulation: every command, and the counting checks after every input.
void watch(Simulation& sim, InvariantChecker& checker);

// "12.345 ms": how the checker and the demo print virtual time.
std::string format_time(Time at);

}  // namespace tasklane::sim
