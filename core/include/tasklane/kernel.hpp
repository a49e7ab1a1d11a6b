// Kernel: the sans-IO state machine behind every tasklane driver.
//
// The host calls an input method with the time it read from its clock, then drains poll() and
// carries out each command, then arms one timer for next_deadline() and calls tick() when it
// fires. The kernel never reads a clock, starts a thread or touches a file, so the same inputs
// with the same times always give the same commands.
//
//   tasklane::Kernel kernel(tasklane::Config{});
//   auto id = kernel.spawn(spec, now);
//   kernel.drain([&](auto& command) { driver.carry_out(command); });  // or: while (auto c = kernel.poll())
//   if (auto at = kernel.next_deadline()) timer.arm(*at);
//
// Time that goes backwards is taken as the last time seen. No input throws; bad input answers a
// typed error (spawn, send) or is ignored and counted (complete or heartbeat for an unknown or stale
// attempt). A kernel is not thread-safe, const reads included (list() and has_running() build the
// per-owner index at their first call): one thread at a time, the driver's owner.
#pragma once

#include <array>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tasklane/command.hpp"
#include "tasklane/config.hpp"
#include "tasklane/errors.hpp"
#include "tasklane/event.hpp"
#include "tasklane/outcome.hpp"
#include "tasklane/result.hpp"
#include "tasklane/selectors.hpp"
#include "tasklane/snapshot.hpp"
#include "tasklane/stats.hpp"

namespace tasklane {

// How a spawn was taken: a new task, or the live task that holds the spec's dedup key.
struct Admission {
  TaskId id;                      // the new task, or the live one the spawn was folded into
  bool deduplicated = false;      // true: no task was made; `id` already held the dedup key
  std::optional<TaskId> replaced; // DedupMode::ReplacePending: the pending task the new one replaced
  friend bool operator==(const Admission&, const Admission&) = default;
};

class Kernel {
 public:
  explicit Kernel(Config config = {});
  ~Kernel();
  Kernel(Kernel&&) noexcept;
  Kernel& operator=(Kernel&&) noexcept;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // ---- inputs -------------------------------------------------------------------------------

  // Accepts a task. Fails with a SpawnError naming what to fix (see errors.hpp). A task with
  // dependencies (spec.after) waits for them (TaskInfo::waiting_for); one whose AllSucceeded
  // dependency already failed or was cancelled is accepted and ends at once, with the reason.
  // A spec passed as an rvalue is moved into the task once (a TaskSpec is ~750 bytes); from a const
  // one only the fields the task keeps are copied (a spec used as a template costs no whole copy).
  Result<TaskId, SpawnError> spawn(TaskSpec&& spec, Time now);
  Result<TaskId, SpawnError> spawn(const TaskSpec& spec, Time now);
  // spawn, also saying whether the spec's dedup key folded it into a live task or replaced one.
  Result<Admission, SpawnError> admit(TaskSpec&& spec, Time now);
  Result<Admission, SpawnError> admit(const TaskSpec& spec, Time now);

  // Attempt `attempt` of task `id` ended. Ignored (and counted) for an unknown task, a task that is
  // not running, or an attempt that is no longer current (it timed out, or a newer one started).
  void complete(TaskId id, std::uint32_t attempt, Outcome outcome, Time now);

  // Attempt `attempt` of task `id` is alive: its heartbeat deadline moves to now + spec.heartbeat.
  // Emits nothing. Ignored (and counted in stats().ignored_heartbeats) for an unknown task, a task
  // that is not running, or an attempt that is no longer current; like every input it first fires
  // the timers due, so a heartbeat at or after the deadline comes too late.
  void heartbeat(TaskId id, std::uint32_t attempt, Time now);

  // Fires every timer due at or before `now`: delays, backoffs, cooldowns, timeouts, polls.
  void tick(Time now);

  // Queued-work runner (seed 001). poke(session) asks to run that session's queued work unless it
  // is in flight; poke(nullopt) runs any session's work, but only while no session is in flight.
  void poke(std::optional<std::string> session, std::string reason, Time now);
  // The host's answer to a RunQueuedWork command: the session it submitted, or nullopt for idle.
  void answer_queued_work(std::uint64_t request, std::optional<std::string> submitted, Time now);
  // A submitted session finished its queued work: it leaves flight and is driven again.
  void complete_session(std::string session, std::string reason, Time now);

  // Cancels the selected live tasks; returns how many of them were newly cancelled. A pending task
  // ends Cancelled at once; a running one gets a Cancel command and ends Cancelled when its work
  // returns. A pending waiter (TaskSpec::after, AllSucceeded) of a cancelled task ends Cancelled too,
  // selected or not; only selected tasks are counted. A repeating task's series id (its first run's
  // id) selects the series' current run too, by Task and as a Tree root with its descendants.
  std::size_t abort(const AbortSelector& which, Time now);
  // abort of one task: false for an unknown task, a terminal one, or one already being cancelled.
  // The id of a repeating task's first run names its series: it cancels the series' current run,
  // and so the series (TaskSpec::repeat).
  bool cancel(TaskId id, Time now);

  // Pauses the selected queued work: a rule, so that tasks spawned (or retried) later that match it
  // are paused too. Paused tasks stay pending (TaskInfo::paused) and keep their place: their spawn
  // order, and their position in their sequence lane, where a paused head holds the tasks behind
  // it. Running attempts are not touched. Returns how many pending tasks were newly paused (0 when
  // the rule was already in force). Rules are durable through the snapshot.
  std::size_t pause(const PauseSelector& which, Time now);
  // Lifts the rule: the tasks it held that no other rule holds become ready again, in their
  // original order. Returns how many were resumed (0 when no such rule was in force).
  std::size_t resume(const PauseSelector& which, Time now);

  // Waits for the selected tasks that no earlier flush took; a FlushDone command with the first
  // error among them follows once every one is terminal (at once when none is live). A task that
  // failed while no flush waited for it keeps its error for the next flush that selects it, across a
  // restart too when it is durable: its record says so (TaskInfo::error_unflushed), and the flush
  // that takes the error persists the record again without the mark.
  FlushId flush(const FlushSelector& which, Time now);

  // Sends a message from `from` (the caller's owner id) to a sub-agent's inbox: a Deliver command
  // when an attempt runs, else the message waits in the task's record (TaskInfo::undelivered,
  // persisted when the task is durable) for the next start. A message meets the payload limits
  // (MessageTooLarge); at most 256 messages, within Config::max_payload_bytes together, wait (InboxFull).
  Result<void, SendError> send(TaskId to, std::string from, Json message, Time now);

  // Stops starting work, drains or cancels what runs, then emits PersistSnapshot and Stopped.
  void shutdown(ShutdownMode mode, Time now);

  // Loads durable state (normally once, at start, before any spawn). Tasks that were running come
  // back Failed "task orphaned: runtime restarted while running", or pending again where their
  // retry policy says requeue_on_restart and attempts remain. Ids the kernel already has are skipped.
  // Pause rules come back from the snapshot; durable waiters link again to the dependencies they
  // still wait for, and one that is gone (not durable) counts as ended unsuccessfully. A failed
  // record marked error_unflushed hands its error to the next flush that selects it; messages a
  // sub-agent's record holds (TaskInfo::undelivered) go to its next attempt. A record whose
  // priority or dedup, repeat or dependency mode is outside its enum (a snapshot built by hand, or
  // decoded from JSON that holds a number there) comes back with the default: Normal,
  // keep_existing, fixed_rate, all_succeeded.
  void restore(const Snapshot& snapshot, Time now);

  // ---- outputs ------------------------------------------------------------------------------

  std::optional<Command> poll();               // drain until nullopt after every input
  // The same commands as poll() until nullopt, in the same order, lent in place instead of moved
  // out: `sink` is called with each as its alternative (`command::Start&`, `command::Notify&`, ...;
  // a generic lambda or an overload set) and may move from it, not keep it. A command polled is
  // moved and destroyed twice; this is the drivers' hot path. Commands queued by inputs the sink
  // makes are drained too, after the ones queued before them. When the sink throws, the commands
  // after the one it threw on stay queued. The sink must not destroy or assign the kernel.
  template <class Sink>
  void drain(Sink&& sink) {
    auto each = [&sink](CommandRef c) { std::visit([&sink](auto* command) { sink(*command); }, c); };
    drain_lent(&each, [](void* f, CommandRef c) { (*static_cast<decltype(each)*>(f))(c); });
  }
  std::optional<Time> next_deadline() const;   // the one time the driver must call tick() at

  // ---- reads --------------------------------------------------------------------------------

  // A copy of the task's record; nullopt when unknown or forgotten. The kernel keeps tasks in a
  // compact form (a TaskInfo is 480 bytes, the kernel's record 136), so this copies: a driver that
  // reads a few fields per command calls glance() instead.
  std::optional<TaskInfo> get(TaskId id) const;
  // The fields a driver reads on its hot path, without a copy. The views stay valid until the
  // kernel's next input.
  std::optional<TaskGlance> glance(TaskId id) const;
  std::vector<TaskInfo> list(std::string_view owner) const;  // by id
  bool has_running(std::string_view owner) const;            // any unfinished task of the owner
  // A repeating task's series (named by its first run's id): the run that is live now, pending or
  // running; nullopt once the series is over. Right after a run's Notify, its next run, if any.
  std::optional<TaskId> current_run(TaskId series) const;
  Snapshot snapshot() const;                                 // durable state as a value
  const KernelStats& stats() const;
  const Config& config() const;
  std::size_t unfinished() const;  // pending + running
  std::size_t running() const;     // attempts the kernel counts as running
  // unfinished() and running() per priority, indexed by Priority, and the delayed among the
  // pending: what a metrics layer reports as gauges without keeping a table of its own.
  struct PriorityLoad {
    std::array<std::size_t, priority_count> unfinished{};
    std::array<std::size_t, priority_count> running{};
    // Pending tasks whose due time (run_after, a retry's backoff) is ahead of last_time(), whatever
    // else holds them; they leave this count when the kernel fires their due timer (any input at or
    // after the due time does) or when they end. Once shutdown began, no due timer fires.
    std::array<std::size_t, priority_count> delayed{};
    friend bool operator==(const PriorityLoad&, const PriorityLoad&) = default;
  };
  const PriorityLoad& load() const;
  bool stopping() const;
  bool stopped() const;
  Time last_time() const;

 private:
  void drain_lent(void* sink, void (*call)(void*, CommandRef));
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tasklane
