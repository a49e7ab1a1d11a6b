// KernelHarness: the system under test of the model-based property (kernel_model_test.cpp).
//
// It holds the tasklane::Kernel, the virtual clock, every input fed so far (as TimedEvents, one
// list per kernel lifetime) and every command drained after each, plus a ledger: what the
// property knows about each task from the inputs it gave and the commands it saw (its status,
// attempt, deadline, owner, key, pending messages), which flushes are open, the queued-work
// runner's reference model and the counters the kernel must report.
//
// Each input method feeds one input, checks the expectation of that input (spawn refused exactly
// for a reason that applies, abort's count, a stale completion that changes nothing, ...), walks
// the drained commands checking each against the ledger, then compares the ledger with the
// kernel's reads and checks the ARCHITECTURE.md invariants. A failed check throws a rapidcheck
// failure whose message ends with the trace of the current kernel lifetime.
//
//   KernelHarness h(config);
//   h.spawn(spec, Duration{0});
//   h.complete_current(0, Outcome::success(), Duration{0});
//   h.finish_case();   // runs everything to its end, then replays the trace for determinism
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runner_model.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane::property {

// Where the property believes a task is. AttemptEnded: the attempt is over (completed, timed out,
// orphaned) and the kernel has not yet said whether the task ends or waits for a retry.
enum class Phase : std::uint8_t { Pending, Running, AttemptEnded, Terminal };
enum class EndedBy : std::uint8_t { None, Completion, Timeout, Restore };

struct TaskFacts {
  TaskSpec spec;
  Time created_at{0};
  Phase phase = Phase::Pending;
  EndedBy ended_by = EndedBy::None;
  std::uint32_t attempt = 0;      // attempts started so far
  std::optional<Time> deadline;   // of the running attempt (its per-attempt timeout)
  std::optional<Time> heartbeat_deadline;  // of the running attempt: its start or last heartbeat + spec.heartbeat
  std::string timeout_error;      // the error of the timeout that ended the last attempt
  bool cancel_requested = false;
  bool in_kernel = true;          // get() has it: false once forgotten, or dropped by a restart
  bool indexed = true;            // the current kernel knows it, perhaps only as a forgotten link of a tree
  bool lost = false;              // dropped by a restart before it ended: it never gets a Notify
  int notifies = 0;
  TaskStatus final_status = TaskStatus::Pending;
  std::optional<std::string> final_error;
  Json final_result;
  Time due{0};                    // the kernel's due while pending
  Time considered_at{0};          // last time the kernel looked at it outside a timer
  std::deque<Json> undelivered;   // sent, not yet delivered
  bool resumed = false;           // a resume released it: its next start is "start after a resume"
  std::set<TaskId> waiting_for;   // dependencies (spec.after) whose Notify has not come yet
  // A dependency ended so that this waiter must end too (AllSucceeded): its Notify is due in the
  // same input, with this status and this error.
  std::optional<std::pair<TaskStatus, std::string>> dependency_verdict;
  // Repeating tasks: the series (its first run's id) and this run's number; why no run followed.
  std::optional<TaskId> series;
  std::uint32_t run = 0;
  std::optional<std::string> series_end;
};

struct FlushFacts {
  std::set<TaskId> live;
  std::optional<TaskId> emptied_by;  // the task whose end left nothing to wait for
  std::optional<TaskId> first_error_task;
  std::string first_error;
  void note_error(TaskId id, const std::string& error) {
    if (!first_error_task || id < *first_error_task) {
      first_error_task = id;
      first_error = error;
    }
  }
};

struct UnflushedFacts {
  std::optional<SequenceKey> key;
  bool terminal = false;
  std::optional<std::string> error;
  bool kept_across_restart = false;  // a terminal error from an earlier kernel's lifetime
};

// How often each path of the kernel was reached, over every case of the process: the property
// asserts at the end that its generator still reaches each one.
class Coverage {
 public:
  static Coverage& instance();
  void hit(const std::string& path) { ++counts_[path]; }
  const std::map<std::string, std::uint64_t>& counts() const { return counts_; }

 private:
  std::map<std::string, std::uint64_t> counts_;
};

enum class CompleteMode : std::uint8_t { Current, Late, Stale, Unknown };

class KernelHarness {
 public:
  explicit KernelHarness(Config config);

  // ---- inputs (each one kernel input, checked) ------------------------------------------------
  void spawn(const TaskSpec& spec, Duration skew);
  // Ends the current attempt of the pick-th running task (by id) with `outcome`. With no running
  // task it completes an unknown id instead.
  void complete_current(std::size_t pick, const Outcome& outcome, Duration skew);
  // Completes a running attempt that has a deadline, arriving at or after that deadline.
  void complete_late(std::size_t pick, const Outcome& outcome, Duration past_deadline);
  // Completes an attempt the kernel must ignore: an older attempt, the attempt after the current
  // one, an attempt of a pending or finished task, or of a task lost in a restart.
  void complete_stale(std::size_t pick, const Outcome& outcome);
  void complete_unknown(std::uint64_t beyond, const Outcome& outcome);
  // A heartbeat for the pick-th running attempt (current), or one the kernel must ignore (stale:
  // an older or later attempt, a pending, finished or lost task; or an unknown id).
  void heartbeat(std::size_t pick, bool current);
  void tick_by(Duration d);
  void tick_to_deadline(Duration before);  // next_deadline() - before, never backwards
  void tick_in_the_past(Duration ago);     // a tick stamped earlier than the last input: taken as now
  void poke(const std::optional<std::string>& session, const std::string& reason, Duration skew);
  void complete_session(const std::string& session, const std::string& reason, Duration skew);
  void answer_queued_work(bool outstanding, std::uint64_t wrong_offset, const std::optional<std::string>& submitted);
  void abort(const AbortSelector& which, bool via_cancel, Duration skew);
  void flush(const FlushSelector& which, Duration skew);
  void send(TaskId to, const std::optional<std::string>& from, const Json& message, Duration skew);
  void shutdown(ShutdownMode mode);
  void pause(const PauseSelector& which, bool resume, Duration skew);  // harness_pause.cpp
  void restart(Duration skew);

  // Completes everything still running and ticks until nothing is unfinished; then checks that
  // every task had exactly one Notify, and replays each kernel lifetime's trace into a fresh kernel.
  void finish_case();

  // ---- reads for the commands ------------------------------------------------------------------
  TaskId pick_task(std::size_t pick) const;  // any id the kernel gave, or the next one (unknown)
  std::optional<TaskId> pick_parent(std::size_t pick) const;  // mostly a given id, sometimes an unknown one
  TaskId pick_dependency(std::size_t pick) const;  // mostly a given id; sometimes the spawn's own or a later one
  std::uint64_t next_id() const { return next_id_; }
  Time now() const { return now_; }
  const Config& config() const { return config_; }

 private:
  enum class Input : std::uint8_t {
    Spawn, Complete, Tick, Poke, Answer, SessionDone, Abort, Flush, Send, Shutdown, Restore, Heartbeat, Pause
  };

  struct Scope {
    Input input = Input::Tick;
    bool fires_timers = false;
    bool restoring = false;
    std::optional<TaskId> completed;  // the task whose attempt this completion ended
    std::optional<TaskId> replaced;   // spawn: the pending task its dedup key replaces
    bool completed_ok = false;
    std::set<TaskId> selected;        // abort: the tasks the selector reaches
    std::optional<FlushId> new_flush;
    std::optional<ShutdownMode> shutdown;
    std::vector<TaskId> started;
    std::vector<command::RunQueuedWork> runs;
    std::optional<Snapshot> persisted_snapshot;
  };

  struct Lifetime {
    std::vector<TimedEvent> events;
    std::vector<std::vector<Command>> outputs;  // what was drained after each event
  };

  // harness.cpp: the flow of one input
  void begin_input(Input input, Duration skew, bool fires_timers);
  void record(Event event);
  std::vector<Command> drain();
  void complete_attempt(TaskId id, std::uint32_t attempt, const Outcome& outcome, Duration skew);
  void fire_due_timers();
  void complete_ignored(TaskId id, std::uint32_t attempt, const Outcome& outcome);
  std::vector<SpawnErrorCode> spec_refusals(const TaskSpec& spec) const;
  std::vector<SpawnErrorCode> admission_refusals(const TaskSpec& spec, std::optional<TaskId> replacing) const;
  std::optional<TaskId> dedup_holder(const TaskSpec& spec) const;
  std::vector<SendErrorCode> send_refusals(TaskId to, const std::string& from, const Json& message) const;
  std::vector<TaskId> select(const AbortSelector& which) const;
  void collect_tree(TaskId root, std::vector<TaskId>& into) const;
  bool links_a_tree(TaskId id) const;
  bool parent_known(TaskId id) const;
  TaskFacts* live_facts(TaskId id);
  const TaskFacts* live_facts(TaskId id) const;

  // harness_ledger.cpp: each drained command against the ledger
  void process(const std::vector<Command>& batch);
  void on_start(const command::Start& c);
  void on_cancel(const command::Cancel& c);
  void on_notify(const command::Notify& c);
  void on_persist(const command::Persist& c);
  void on_deliver(const command::Deliver& c);
  void on_flush_done(const command::FlushDone& c, const std::vector<Command>& batch, std::size_t at);
  void on_run_queued_work(const command::RunQueuedWork& c);
  void note_terminal_for_flushes(TaskId id, const std::optional<std::string>& error);
  // harness_repeat.cpp: the run a repeating task's ended run leads to, written from task_spec.hpp's rules
  void expect_next_run(TaskId id, TaskFacts& run, TaskStatus status);
  void check_successor_persists();
  // harness_dependencies.cpp: what a dependency's end means for its waiters
  void hand_to_waiters(TaskId dependency, TaskStatus status, const std::optional<std::string>& error);
  void expect_dependency_verdicts_at_spawn(TaskFacts& waiter);
  void expect_lost_dependencies_at_restore();
  void check_dependencies(TaskId id, const TaskFacts& f, const TaskInfo& info);
  // harness_pause.cpp: the pause rules, written from the rules in kernel.hpp
  bool held(const TaskSpec& spec) const;  // a pause rule in force matches it
  void check_pauses();
  bool paused(const TaskFacts& f) const { return f.in_kernel && f.phase == Phase::Pending && held(f.spec); }

  // harness_checks.cpp: the ledger against the kernel's reads, and the invariants
  void end_input();
  void forget_oldest_terminal();
  void check_tasks();
  void check_scheduling();
  void check_durability();
  void check_owners();
  bool ready(TaskId id, const TaskFacts& f) const;
  bool ready_but_for_tokens(TaskId id, const TaskFacts& f) const;
  // The rate limits as GCRA (virtual scheduling), a formulation independent of the kernel's bucket.
  bool rate_token_free(const RateLimit& limit) const;
  Time rate_next_token(const RateLimit& limit) const;
  void check_rate_limits(const std::vector<TaskId>& ready_ids);
  bool lane_head(TaskId id, const TaskFacts& f) const;

  // harness_lifetime.cpp: restart, the final drain, replay
  Snapshot expected_restore(const Snapshot& before) const;
  void check_replay();

  [[noreturn]] void fail(const char* condition, const std::string& message, int line) const;

  Config config_;
  Kernel kernel_;
  Time now_{0};
  std::vector<Lifetime> lifetimes_;

  // the ledger, over every lifetime
  std::map<TaskId, TaskFacts> tasks_;
  std::uint64_t next_id_ = 0;
  std::map<TaskId, TaskInfo> journal_;  // the last Persist of each durable task
  std::map<std::string, std::uint32_t> quota_starts_;
  std::map<std::string, Time> quota_last_start_;
  std::map<std::string, Time> rate_tat_;  // per limiter key: the theoretical arrival time of the next start
  std::optional<Time> fire_time_;  // the last input that fired due timers
  std::map<SequenceKey, TaskId> lane_heads_;
  std::set<std::string> paused_owners_;    // pause rules: durable through the snapshot, so over every lifetime
  std::set<std::string> paused_purposes_;
  std::map<TaskId, TaskInfo> successor_persists_;  // Persists of runs the kernel spawned before their predecessor's Notify

  // the ledger, per kernel lifetime
  KernelStats expected_stats_;
  bool stopping_ = false;
  bool stopped_ = false;
  bool seen_input_ = false;
  std::optional<Time> next_poll_;
  RunnerModel runner_;
  std::map<FlushId, FlushFacts> flushes_;
  std::map<TaskId, FlushId> claimed_by_;
  std::map<TaskId, UnflushedFacts> unflushed_;
  FlushId next_flush_ = 1;
  std::deque<TaskId> terminal_order_;  // retained finished tasks, oldest first

  Scope scope_;
};

// Throws a rapidcheck failure naming the condition and the trace when `condition` is false.
#define HARNESS_EXPECT(condition, message)                   \
  do {                                                       \
    if (!(condition)) fail(#condition, (message), __LINE__); \
  } while (false)

inline const std::string orphan_error = "task orphaned: runtime restarted while running";

// The next slot of a repeating run that ended at `now` (task_spec.hpp's Repeat), stepping period by
// period: fixed rate, the first slot of the run's grid strictly after now (counting the ones
// passed over); fixed delay, now + every.
inline Time next_slot(const TaskSpec& spec, Time created_at, Time now, std::uint64_t& skipped) {
  const Repeat& repeat = *spec.repeat;
  skipped = 0;
  if (repeat.mode == RepeatMode::FixedDelay) return now + repeat.every;
  Time due = created_at + spec.run_after + repeat.every;
  while (due <= now) {
    due += repeat.every;
    ++skipped;
  }
  return due;
}

// When the running attempt ends unless it completes: the earlier of its timeout and heartbeat deadlines.
inline std::optional<Time> attempt_end(const TaskFacts& f) {
  if (f.deadline && f.heartbeat_deadline) return std::min(*f.deadline, *f.heartbeat_deadline);
  return f.deadline ? f.deadline : f.heartbeat_deadline;
}

}  // namespace tasklane::property
