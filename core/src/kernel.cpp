// The kernel's state and its transitions. Each input clamps time, changes state, then settles:
// starts what may start, checks whether a shutdown is complete, and drops stale timers.
#include "tasklane/kernel.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "command_queue.hpp"
#include "dependency_graph.hpp"
#include "tasklane/flat_id_map.hpp"
#include "flush_tracker.hpp"
#include "heartbeats.hpp"
#include "ring_fifo.hpp"
#include "id_set.hpp"
#include "id_table.hpp"
#include "pause_rules.hpp"
#include "queued_work_runner.hpp"
#include "quota_book.hpp"
#include "rate_limiter.hpp"
#include "ready_queue.hpp"
#include "repeat_series.hpp"
#include "rng.hpp"
#include "sequence_lanes.hpp"
#include "spawn_checks.hpp"
#include "string_pool.hpp"
#include "task_record.hpp"
#include "timer_queue.hpp"

namespace tasklane {

using detail::TimerKind;

namespace {

// One task in the kernel's table: its compact record and the kernel's bookkeeping for it. The
// bookkeeping starts in the record's tail padding (a derived class may use it): 168 bytes in all.
struct Entry : detail::TaskRecord {
  // One 32-bit unit in the record's tail padding (TaskRecord ends at 132 bytes, `id` starts at 136).
  std::uint32_t ready : 1 = 0;  // queued in the ReadyQueue (which keeps no membership of its own)
  // Pending, its due time ahead, its due timer armed: counted in PriorityLoad::delayed until that
  // timer fires or the task ends.
  std::uint32_t delayed : 1 = 0;
  std::uint32_t flush_claim : detail::flush_claim_bits = 0;  // the flush that waits for this live task (FlushTracker)
  TaskId id;
  std::uint64_t due_generation = 0;  // invalidates TaskDue timers armed before the last change
  // The running attempt's deadlines, detail::no_deadline when it has none.
  Time attempt_deadline = detail::no_deadline;    // per-attempt timeout
  Time heartbeat_deadline = detail::no_deadline;  // heartbeat deadline (see heartbeats.hpp)

  TaskInfo to_info() const { return TaskRecord::to_info(id); }
};
static_assert(sizeof(std::pair<const TaskId, Entry>) <= 176, "a task's table slot grew: see bench/RESULTS.md, 'compact record'");

std::string timed_out_message(Duration timeout) {
  return "timed out after " + std::to_string(timeout.count() / 1000) + " ms";
}

}  // namespace

struct Kernel::State {
  explicit State(Config c) : config(c), rng(c.seed) {}

  Config config;
  Time now{0};
  bool seen_input = false;
  // The last input ended in settle(): nothing is ready to start that could (a free slot, a ready
  // task). An input that threw part way leaves it false, and the next one schedules first.
  bool settled = false;
  std::uint64_t next_id = 0;
  detail::SplitMix64 rng;

  detail::StringPool kinds;   // every task's kind, once (TaskRecord)
  detail::StringPool owners;  // every task's owner, once
  detail::IdTable<Entry> tasks;  // ordered: every walk over tasks is in id order, hence deterministic
  using OwnerIndex = std::map<std::string, detail::IdSet, std::less<>>;
  // Built at the first read by owner (list, has_running, abort or pause by owner), then kept: a
  // kernel nobody asks by owner keeps no per-owner sets (two set updates a task). Read through owner_index().
  mutable OwnerIndex by_owner;
  mutable bool owner_index_built = false;
  const std::string* owner_cache_key = nullptr;  // see owner_ids(); owner_cache is its entry
  OwnerIndex::iterator owner_cache;
  std::map<std::pair<std::string, std::string>, TaskId> live_names;
  std::map<std::pair<std::string, std::string>, std::set<TaskId>> dedup_holders;  // (owner, key): unfinished tasks
  detail::FlatIdMap<std::vector<TaskId>> children;  // parent id -> its children, by id
  std::map<std::string, std::vector<TaskId>> run_roots;
  std::map<TaskId, ParentContext> forgotten_parents;  // forgotten tasks that still link a tree
  bool restoring = false;
  // A new task is not indexed yet (a dedup replacement, or linking its dependencies at spawn):
  // tasks it names (its parent, its dependencies) must not be forgotten meanwhile.
  bool forgetting_held = false;
  // A bulk cancel in progress: lane heads its cancels release are collected here and considered
  // once every selected task is cancelled, so a successor that is cancelled too is never queued.
  std::vector<TaskId>* released_heads = nullptr;
  detail::RingFifo<TaskId> terminal_order;

  detail::ReadyQueue ready;
  detail::TimerQueue timers;
  detail::SequenceLanes lanes;
  detail::QuotaBook quotas;
  detail::RateLimiter rates;
  detail::FlushTracker flushes;
  detail::DependencyGraph dependents;
  detail::PauseRules pauses;
  detail::RepeatSeries series;  // series id -> its current live run
  std::deque<detail::DependencyEnd> dependency_ends;  // ends not yet handed to their waiters
  bool releasing_dependents = false;
  detail::QueuedWorkRunner runner;
  std::uint64_t poll_generation = 0;
  // The timer settle() last found fresh at the top of the queue (its `order`; no_timer when none),
  // and its task. A timer once stale stays stale, and only a change to its own task can make a task
  // timer stale: while that timer stays on top and touched() did not name its task, settle() skips
  // the lookup that asks (most inputs: a spawn arms behind the top, a completion ends another task).
  static constexpr std::uint64_t no_timer = ~std::uint64_t{0};
  std::uint64_t fresh_top = no_timer;
  TaskId fresh_task;

  detail::CommandQueue out;
  std::size_t unfinished = 0;
  std::size_t running = 0;
  Kernel::PriorityLoad load;  // unfinished, running and delayed, split by priority

  static std::size_t slot(Priority p) { return static_cast<std::size_t>(p); }
  bool stopping = false;
  bool stopped = false;
  KernelStats stats;

  // ---- time and settling ------------------------------------------------------------------

  void observe(Time t) {
    if (seen_input) {
      now = std::max(now, t);  // time never goes backwards inside the kernel
    } else {
      first_input(t);
    }
    // An input that arrives after a deadline acts as if the driver had ticked first: a timer that is
    // due wins over whatever this input would do, however late the driver's timer callback runs.
    // Nothing else changes between two inputs, so with no timer fired a settled kernel has nothing
    // to start (most inputs: a spawn or a completion skips a scheduling pass).
    const detail::Timer* first = timers.top();
    const bool due = first != nullptr && first->at <= now;  // asked here: most inputs find nothing due
    const bool was_settled = std::exchange(settled, false);  // cleared first: firing may throw part way
    if (due) fire_due_timers();
    if (due || !was_settled) schedule();
  }

  [[gnu::noinline]] void first_input(Time t) {
    now = t;
    seen_input = true;
    if (config.queued_work_runner) {
      runner.startup(out);
      arm_poll();
    }
  }

  void arm_poll() { timers.arm(now + config.queued_work_poll, TimerKind::QueuedWorkPoll, TaskId{}, ++poll_generation); }

  // The end of every input. Inline, with the rare parts (stopping, stale timers) out of line.
  void settle() {
    schedule();
    if (stopping && !stopped && running == 0) stop_now();
    if (const auto* t = timers.top(); t && t->order != fresh_top) check_top(*t);
    assert(timers.top() == nullptr || !is_stale(*timers.top()));
    settled = true;
  }
  // A task's status, attempt or due generation is about to change: a timer of its that settle()
  // found fresh may be stale now.
  void touched(const Entry& e) {
    if (e.id == fresh_task) fresh_top = no_timer;
  }
  // Drops the stale timers off the top (`top` first) and remembers the task timer left there as fresh.
  // Out of line: inlined, its lookup made every settle() save and restore registers (~14 instructions).
  [[gnu::noinline]] void check_top(const detail::Timer& top) {
    if (is_stale(top)) drop_stale_timers();
    const auto* t = timers.top();
    const bool task_timer = t != nullptr && t->kind != TimerKind::QueuedWorkPoll;  // a poll's check is no lookup
    fresh_top = task_timer ? t->order : no_timer;
    fresh_task = task_timer ? t->task : TaskId{};
  }
  // A new due time for a pending task: its earlier TaskDue timer goes stale.
  void arm_due(Entry& e, Time at) {
    touched(e);
    timers.arm(at, TimerKind::TaskDue, e.id, ++e.due_generation);
  }
  [[gnu::noinline]] void stop_now() {
    stopped = true;
    ++poll_generation;  // no more polls once stopped
    runner.stop();      // nor drives waiting behind an outstanding one
    out.emplace_back(command::PersistSnapshot{snapshot()});
    out.emplace_back(command::Stopped{});
  }
  // Pops stale timers off the top, the first of them found stale by the caller: next_deadline()
  // names a time something is due.
  [[gnu::noinline]] void drop_stale_timers() {
    timers.pop();
    while (const auto* t = timers.top()) {
      if (!is_stale(*t)) break;
      timers.pop();
    }
  }

  bool is_stale(const detail::Timer& t) {
    return t.kind == TimerKind::QueuedWorkPoll ? t.generation != poll_generation : timer_task(t) == nullptr;
  }
  // The task a task timer is for, while the timer is not stale: a due time the task still waits
  // for, or the deadline of the attempt it is running.
  Entry* timer_task(const detail::Timer& t) {
    const auto it = tasks.find(t.task);
    if (it == tasks.end()) return nullptr;
    Entry& e = it->second;
    switch (t.kind) {
      case TimerKind::TaskDue:
        return stopping || e.status != TaskStatus::Pending || e.due_generation != t.generation ? nullptr : &e;
      case TimerKind::AttemptTimeout:
      case TimerKind::HeartbeatDue:
        return e.status != TaskStatus::Running || e.attempt != t.generation ? nullptr : &e;
      case TimerKind::QueuedWorkPoll:
        break;  // no task
    }
    return nullptr;
  }

  void fire_due_timers() {
    while (const auto* top = timers.top()) {
      if (top->at > now) break;
      const detail::Timer t = *top;
      timers.pop();
      if (t.kind == TimerKind::QueuedWorkPoll) {
        if (is_stale(t)) continue;
        runner.poll(out);
        if (!stopped) arm_poll();
        continue;
      }
      Entry* e = timer_task(t);  // one lookup: the check and the task
      if (e == nullptr) continue;
      if (t.kind == TimerKind::TaskDue) {
        no_longer_delayed(*e);  // its due time (or a cooldown's end) came
        consider(*e);
      } else {
        on_attempt_timer(*e);
      }
    }
  }

  static const SequenceKey* key_of(const Entry& e) { return detail::pointer_to(e.key); }

  void no_longer_delayed(Entry& e) {
    if (!e.delayed) return;
    e.delayed = false;
    --load.delayed[slot(e.priority)];
  }

  // ---- readiness and starting -------------------------------------------------------------

  // Puts a pending task where it belongs: behind a timer, behind its lane head, or ready.
  void consider(Entry& e) {
    if (e.status != TaskStatus::Pending || stopping) return;
    if (e.ready) return;
    if (e.due > now) {  // first, whatever else holds it: a delayed task is counted as one (PriorityLoad)
      if (e.delayed) return;  // its timer is armed for this due time
      e.delayed = true;
      ++load.delayed[slot(e.priority)];
      arm_due(e, e.due);
      return;
    }
    if (!e.waiting_for().empty()) return;  // a dependency's end considers it again
    if (e.paused) return;                  // resume considers it again
    if (e.key && !lanes.is_head(*e.key, e.id)) return;
    if (e.quota()) {
      const Time open = quotas.cooldown_until(*e.quota(), now);
      if (open > now) {
        arm_due(e, open);
        return;
      }
    }
    if (e.rate_limit()) {  // wait for the next token; its timer is next_deadline() at the latest
      const Time token = rates.next_token(*e.rate_limit(), now);
      if (token > now) {
        arm_due(e, token);
        return;
      }
    }
    ready.push(e.priority, e.id);
    e.ready = true;
  }

  // The entry of a task queued ready at priority `p`; nullptr for a stale queue entry.
  Entry* ready_entry(std::uint64_t id, Priority p) {
    const auto it = tasks.find(TaskId{id});
    return it != tasks.end() && it->second.ready && it->second.priority == p ? &it->second : nullptr;
  }
  // The ReadyQueue's question: is this task still queued, at this priority?
  bool is_ready(std::uint64_t id, Priority p) { return ready_entry(id, p) != nullptr; }
  // Takes a queued pending task out of the ready queue (it finished, or a pause holds it).
  void unready(Entry& e) {
    if (!e.ready) return;
    e.ready = false;
    ready.erase([this](std::uint64_t id, Priority p) { return is_ready(id, p); });
  }

  // Starts ready tasks while slots are free. Most inputs find none to start: that check is inline,
  // the pass out of line.
  void schedule() {
    if (!stopping && running < config.max_running && !ready.empty()) start_ready();
  }
  [[gnu::noinline]] void start_ready() {
    while (!stopping && running < config.max_running && !ready.empty()) {
      Entry* popped = nullptr;  // found by the readiness check: no second lookup
      const auto id =
          ready.pop([this, &popped](std::uint64_t task, Priority p) { return (popped = ready_entry(task, p)) != nullptr; });
      if (!id) break;
      Entry& e = *popped;
      e.ready = false;
      if (const auto& quota = e.quota()) {
        if (quotas.attempts_exhausted(*quota)) {
          finish(e, TaskStatus::Failed,
                 "attempt quota for '" + quota->key + "' is used up (limit " + std::to_string(quota->max_attempts) + ")");
          continue;
        }
        const Time open = quotas.cooldown_until(*quota, now);
        if (open > now) {  // another task of this key started earlier in this pass
          arm_due(e, open);
          continue;
        }
      }
      if (const auto& limit = e.rate_limit()) {
        // A task before this one in ready order took the last token: wait for the next.
        if (!rates.has_token(*limit, now)) {
          arm_due(e, rates.next_token(*limit, now));
          continue;
        }
      }
      start(e);
    }
  }

  void start(Entry& e) {
    touched(e);
    e.status = TaskStatus::Running;
    ++e.attempt;
    ++running;
    ++load.running[slot(e.priority)];
    ++stats.started;
    if (e.quota()) quotas.started(*e.quota(), now);
    if (e.rate_limit()) rates.take(*e.rate_limit(), now);
    std::optional<Time> deadline;
    e.attempt_deadline = detail::no_deadline;
    if (e.timeout()) {
      // Spawn refuses a timeout over ten years; a record from before that check may still hold one.
      deadline = e.attempt_deadline = now + std::min<Duration>(*e.timeout(), ten_years);
      timers.arm(e.attempt_deadline, TimerKind::AttemptTimeout, e.id, e.attempt);
    }
    e.heartbeat_deadline = detail::no_deadline;
    if (e.heartbeat()) {
      e.heartbeat_deadline = now + *e.heartbeat();
      timers.arm(e.heartbeat_deadline, TimerKind::HeartbeatDue, e.id, e.attempt);
    }
    out.add<command::Start>([&](command::Start& start) {
      start.id = e.id;
      start.attempt = e.attempt;
      detail::refill(start.kind, e.kind());
      if (!e.payload.is_null()) start.payload = e.payload;  // a null one copied still costs two calls out of line
      start.deadline = deadline;
      start.inbox = e.inbox;
    });
    if (auto* waiting = e.undelivered()) {
      for (auto& m : *waiting) {
        out.emplace_back(command::Deliver{e.id, e.attempt, std::move(m.from), std::move(m.message)});
      }
      e.drop_undelivered();
    }
    persist(e);
  }

  // ---- attempt endings --------------------------------------------------------------------

  Duration backoff(const Entry& e) {
    const RetryPolicy& p = e.retry();
    const double cap = static_cast<double>(p.max_backoff.count());
    double delay = static_cast<double>(p.initial_backoff.count()) *
                   std::pow(p.multiplier, static_cast<double>(e.attempt > 0 ? e.attempt - 1 : 0));
    if (!(delay <= cap)) delay = cap;  // also catches overflow to infinity
    if (p.jitter > 0) delay -= delay * p.jitter * rng.unit();
    return Duration{static_cast<Duration::rep>(std::max(0.0, delay))};
  }

  void end_attempt_with_error(Entry& e, std::string error, bool retryable, TaskStatus final_status) {
    if (retryable && e.attempt < e.retry().max_attempts) {
      ++stats.retried;
      touched(e);
      e.status = TaskStatus::Pending;
      e.due = now + backoff(e);
      e.error = std::move(error);
      e.paused = pauses.holds(e.owner(), key_of(e));  // a retry under a pause rule waits for the resume
      persist(e);
      consider(e);
      return;
    }
    finish(e, final_status, std::move(error));
  }

  // A timer of the running attempt fired: a deadline passed, or a heartbeat moved the one it was armed for.
  void on_attempt_timer(Entry& e) {
    switch (detail::expiry(e.attempt_deadline, e.heartbeat_deadline, now)) {
      case detail::AttemptExpiry::None:
        timers.arm(e.heartbeat_deadline, TimerKind::HeartbeatDue, e.id, e.attempt);
        return;
      case detail::AttemptExpiry::Timeout:
        on_timeout(e, timed_out_message(*e.timeout()));
        return;
      case detail::AttemptExpiry::Heartbeat:
        ++stats.heartbeat_timeouts;
        on_timeout(e, detail::heartbeat_timeout_message(*e.heartbeat()));
        return;
    }
  }

  void on_timeout(Entry& e, std::string error) {
    --running;
    --load.running[slot(e.priority)];
    ++stats.attempt_timeouts;
    out.emplace_back(command::Cancel{e.id, e.attempt, CancelReason::TimedOut});
    if (e.cancel_requested) {
      finish(e, TaskStatus::Cancelled, std::nullopt);
      return;
    }
    end_attempt_with_error(e, std::move(error), true, TaskStatus::TimedOut);
  }

  bool retryable(const Entry& e, const Outcome& outcome) const {
    if (!outcome.retryable) return false;
    const auto& list = e.retry().non_retryable_errors;
    return outcome.error_type.empty() || std::find(list.begin(), list.end(), outcome.error_type) == list.end();
  }

  void on_complete(Entry& e, Outcome&& outcome) {
    --running;
    --load.running[slot(e.priority)];
    if (e.cancel_requested) {
      finish(e, TaskStatus::Cancelled, std::nullopt);
    } else if (outcome.ok) {
      e.set_result(std::move(outcome.result));
      finish(e, TaskStatus::Completed, std::nullopt);
    } else {
      const bool again = retryable(e, outcome);
      end_attempt_with_error(e, std::move(outcome.error), again, TaskStatus::Failed);
    }
  }

  // The one way a task becomes terminal.
  void finish(Entry& e, TaskStatus status, std::optional<std::string> error) {
    const bool was_pending = e.status == TaskStatus::Pending;
    touched(e);
    e.status = status;
    e.set_finished_at(now);
    e.cancel_requested = false;
    e.paused = false;
    if (status == TaskStatus::Completed) e.error.reset();
    if (error) e.error = std::move(*error);
    ++e.due_generation;
    no_longer_delayed(e);
    e.drop_undelivered();
    if (!e.waiting_for().empty()) {
      dependents.unlink(e.id, e.waiting_for());
      e.waiting_for_mut().clear();
    }
    if (was_pending) unready(e);
    --unfinished;
    --load.unfinished[slot(e.priority)];
    if (e.name()) live_names.erase({e.owner(), *e.name()});
    if (e.quota()) quotas.release(*e.quota());
    if (e.dedup()) release_dedup(e);
    switch (status) {
      case TaskStatus::Completed: ++stats.completed; break;
      case TaskStatus::Failed: ++stats.failed; break;
      case TaskStatus::Cancelled: ++stats.cancelled; break;
      case TaskStatus::TimedOut: ++stats.timed_out; break;
      default: break;
    }
    std::optional<TaskId> next_run;
    if (e.series()) {
      series.ended(*e.series(), e.id);
      next_run = continue_series(e, status);  // before this run's Notify and Persist: series_end travels with them
    }
    const bool is_error = status == TaskStatus::Failed || status == TaskStatus::TimedOut;
    out.add<command::Notify>([&](command::Notify& notify) {
      detail::refill(notify.owner, e.owner());
      notify.id = e.id;
      notify.status = status;
      if (const Json& result = e.result(); !result.is_null()) notify.result = result;
      if (is_error) notify.error = e.error.to_optional();
      notify.next_run = next_run;
    });
    const detail::FlushClaim claim = e.flush_claim;
    e.flush_claim = 0;
    e.error_unflushed =  // after the Notify it waited for; before the record that carries the mark
        flushes.on_terminal(e.id, is_error ? e.error.to_optional() : std::nullopt, key_of(e), claim, out);
    persist(e);
    const TaskId id = e.id;
    if (e.key) {
      if (const auto next = lanes.remove(*e.key, id)) {
        if (released_heads) {
          released_heads->push_back(*next);
        } else {
          consider(tasks.at(*next));
        }
      }
    }
    terminal_order.push_back(id);
    if (!dependents.has_waiters(id)) {  // the usual case: no copy of the error
      forget_oldest_terminal();
      return;
    }
    detail::DependencyEnd end{id, status, e.error.to_optional(), false};  // taken before forgetting may drop the record
    forget_oldest_terminal();
    release_dependents(std::move(end));
  }

  // ---- repeating tasks --------------------------------------------------------------------

  // A run of a series ended: spawn the next run in this same input, so that its Persist goes out in
  // the batch of this run's final record, or note on this run why the series ends here.
  // Answers the next run's id when it spawned one.
  std::optional<TaskId> continue_series(Entry& e, TaskStatus status) {
    if (!detail::series_goes_on(e.repeat(), e.run, status)) return std::nullopt;
    if (series.current(*e.series())) return std::nullopt;  // a restore found the successor persisted before the crash
    std::string cut;
    if (stopping) {
      cut = "runtime is shutting down";
    } else if (e.attempt == 0) {
      cut = "run " + std::to_string(e.run) + " never started";
    } else {
      const detail::NextRun next = detail::next_run(*e.repeat(), e.created_at + e.run_after, now);
      TaskSpec spec = detail::successor_spec(e.spec(), next.due, now);
      if (auto refusal = admission_refusal(spec, nullptr)) {
        cut = "run " + std::to_string(e.run + 1) + " refused: " + refusal->message;
      } else {
        stats.repeat_slots_skipped += next.skipped;
        ++stats.repeated;
        Entry& successor = create(TaskId{next_id++}, std::move(spec), e.series(), e.run + 1);
        persist(successor);
        consider(successor);
        return successor.id;
      }
    }
    ++stats.series_cut;
    e.set_series_end(detail::series_end_message(cut));
    return std::nullopt;
  }

  // ---- dependencies -----------------------------------------------------------------------

  // Hands a dependency's end to its waiters. Iterative: a chain of waiters that each fail their own
  // waiters is a queue here, not a recursion as deep as the chain.
  void release_dependents(detail::DependencyEnd end) {
    dependency_ends.push_back(std::move(end));
    if (releasing_dependents) return;
    releasing_dependents = true;
    while (!dependency_ends.empty()) {
      const detail::DependencyEnd next = std::move(dependency_ends.front());
      dependency_ends.pop_front();
      for (const TaskId waiter : dependents.take_waiters(next.id)) {
        const auto it = tasks.find(waiter);
        if (it != tasks.end()) on_dependency_end(it->second, next);
      }
    }
    releasing_dependents = false;
  }

  void on_dependency_end(Entry& w, const detail::DependencyEnd& end) {
    if (w.status != TaskStatus::Pending) return;
    auto& list = w.waiting_for_mut();
    list.erase(std::remove(list.begin(), list.end(), end.id), list.end());
    if (auto verdict = detail::waiter_verdict(w.after_mode, end)) {
      finish(w, verdict->first, std::move(verdict->second));
      return;
    }
    persist(w);
    consider(w);
  }

  // Links a pending task to the dependencies in `wanted` that are unfinished; the ones already over
  // (or gone, at restore) are handed to it at once, in id order, which may end it.
  void link_dependencies(Entry& w, const std::vector<TaskId>& wanted) {
    std::vector<TaskId> deps = wanted;
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    std::vector<detail::DependencyEnd> over;
    if (!w.waiting_for().empty()) w.waiting_for_mut().clear();
    for (const TaskId dep : deps) {
      const auto it = dep < w.id ? tasks.find(dep) : tasks.end();  // a record pointing forward is corrupt: lost
      if (it == tasks.end()) {
        over.push_back(detail::DependencyEnd{dep, TaskStatus::Failed, std::nullopt, true});
      } else if (is_terminal(it->second.status)) {
        over.push_back(detail::DependencyEnd{dep, it->second.status, it->second.error.to_optional(), false});
      } else {
        w.waiting_for_mut().push_back(dep);
        dependents.link(w.id, dep);
      }
    }
    for (const auto& end : over) {
      if (auto verdict = detail::waiter_verdict(w.after_mode, end)) {
        finish(w, verdict->first, std::move(verdict->second));
        return;
      }
    }
  }

  void release_dedup(const Entry& e) {
    const auto it = dedup_holders.find({e.owner(), e.dedup()->key});
    if (it == dedup_holders.end()) return;
    it->second.erase(e.id);
    if (it->second.empty()) dedup_holders.erase(it);
  }

  // The newest unfinished task of the owner that holds the dedup key.
  std::optional<TaskId> dedup_holder(const TaskSpec& spec) const {
    const auto it = dedup_holders.find({spec.owner, spec.dedup->key});
    if (it == dedup_holders.end() || it->second.empty()) return std::nullopt;
    return *it->second.rbegin();
  }

  void forget_oldest_terminal() {
    if (restoring || forgetting_held) return;  // restore forgets once, after every record is in place
    if (terminal_order.size() > config.retained_terminal) forget_beyond_retained();
  }
  [[gnu::noinline]] void forget_beyond_retained() {
    while (terminal_order.size() > config.retained_terminal) {
      const TaskId id = terminal_order.pop_front();
      const auto it = tasks.find(id);
      if (it == tasks.end()) continue;
      // The tracker keeps the error for this kernel's flushes, but no flush could clear a mark on a
      // record nobody holds: a restart from the journal would bring the error back each time.
      drop_error_mark(it->second);
      unindex_owner(it->second.owner(), id);
      const bool has_children = children.find(id.value) != nullptr;
      const ParentContext& links = it->second.parent();
      const bool in_a_tree = has_children || links.task || links.run;  // most tasks are not: nothing to unlink
      ParentContext parent = in_a_tree ? it->second.take_parent() : ParentContext{};
      it->second.release(kinds, owners);
      tasks.erase(it);
      if (has_children) {
        forgotten_parents[id] = std::move(parent);  // still a link between live descendants and their ancestors
      } else if (in_a_tree) {
        unlink_from_tree(id, std::move(parent));
      }
    }
  }

  // A forgotten task leaves the tree indexes only once no descendant hangs below it, so that
  // cancelling a tree or a run still reaches live tasks under a forgotten one.
  void unlink_from_tree(TaskId id, ParentContext parent) {
    for (;;) {
      if (tasks.count(id) || children.find(id.value)) return;
      if (!parent.task) {
        if (parent.run) erase_from(run_roots, *parent.run, id);
        return;
      }
      const TaskId up = *parent.task;
      if (std::vector<TaskId>* siblings = children.find(up.value)) {
        erase_id(*siblings, id);
        if (siblings->empty()) children.erase(up.value);
      }
      const auto above = forgotten_parents.find(up);
      if (above == forgotten_parents.end() || children.find(up.value)) return;
      id = up;
      parent = above->second;
      forgotten_parents.erase(above);
    }
  }

  template <class Map, class Key>
  static void erase_from(Map& index, const Key& key, TaskId id) {
    const auto it = index.find(key);
    if (it == index.end()) return;
    erase_id(it->second, id);
    if (it->second.empty()) index.erase(it);
  }
  static void erase_id(std::vector<TaskId>& ids, TaskId id) { ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end()); }

  void persist(const Entry& e) {
    if (e.durable) out.persist(e.to_info());
  }

  // A task's error no longer waits for a flush in its record (TaskInfo::error_unflushed): durably.
  void drop_error_mark(Entry& e) {
    if (!e.error_unflushed) return;
    e.error_unflushed = false;
    persist(e);
  }

  // A message for a sub-agent's inbox, or why it cannot go (defined below, beside Kernel::send).
  Result<void, SendError> send(TaskId to, std::string from, Json message);
  // Kernel::admit; a task made from an rvalue `spec` moves its fields, from a const one copies only
  // those its record keeps (defined below, beside Kernel::admit).
  template <class Spec>
  Result<Admission, SpawnError> admit(Spec&& spec, Time at);

  // ---- cancellation -----------------------------------------------------------------------

  bool cancel_one(TaskId id, CancelReason reason) {
    const auto it = tasks.find(id);
    if (it == tasks.end()) return false;
    Entry& e = it->second;
    if (is_terminal(e.status) || e.cancel_requested) return false;
    if (e.status == TaskStatus::Pending) {
      finish(e, TaskStatus::Cancelled, std::nullopt);
      return true;
    }
    e.cancel_requested = true;
    out.emplace_back(command::Cancel{id, e.attempt, reason});
    persist(e);
    return true;
  }

  // `root` and every descendant, parents before children, siblings by id.
  void collect_tree(TaskId root, std::vector<TaskId>& into) const {
    std::vector<TaskId> stack{root};
    while (!stack.empty()) {
      const TaskId id = stack.back();
      stack.pop_back();
      if (tasks.count(id)) into.push_back(id);  // a forgotten task is passed through, not selected
      if (const auto* c = children.find(id.value)) {
        stack.insert(stack.end(), c->rbegin(), c->rend());
      }
    }
  }

  std::vector<TaskId> select(const AbortSelector& which) const {
    std::vector<TaskId> ids;
    std::visit(
        [&](const auto& s) {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, abort_selector::Task>) {
            ids.push_back(s.id);
            // A series' id also names its current run, once the first run is over.
            if (const auto current = series.current(s.id); current && *current != s.id) ids.push_back(*current);
          } else if constexpr (std::is_same_v<S, abort_selector::Tree>) {
            collect_tree(s.root, ids);
            // A series' id also roots its current run's tree (each run is a sibling of the first).
            if (const auto current = series.current(s.root); current && *current != s.root) collect_tree(*current, ids);
          } else if constexpr (std::is_same_v<S, abort_selector::Owner>) {
            const OwnerIndex& index = owner_index();
            if (const auto it = index.find(s.owner); it != index.end()) ids.assign(it->second.begin(), it->second.end());
          } else if constexpr (std::is_same_v<S, abort_selector::Run>) {
            if (const auto it = run_roots.find(s.run); it != run_roots.end()) {
              for (const TaskId root : it->second) collect_tree(root, ids);
            }
          } else {
            for (const auto& [id, e] : tasks) ids.push_back(id);
          }
        },
        which);
    return ids;
  }

  // The tasks a pause selector may name, by id: the owner's, or every task for a purpose.
  std::vector<TaskId> pause_candidates(const PauseSelector& which) const {
    std::vector<TaskId> ids;
    if (const auto* o = std::get_if<pause_selector::Owner>(&which)) {
      const OwnerIndex& index = owner_index();
      if (const auto it = index.find(o->owner); it != index.end()) ids.assign(it->second.begin(), it->second.end());
    } else {
      for (const auto& [id, e] : tasks) {
        if (!is_terminal(e.status)) ids.push_back(id);
      }
    }
    return ids;
  }

  // ---- registration -----------------------------------------------------------------------

  // A new task's entry, indexed: its spec, times, and its place in a series (`series_id` unset for a
  // series' first run, which names the series).
  template <class Spec>  // TaskSpec&& or const TaskSpec&
  Entry& create(TaskId id, Spec&& spec, std::optional<TaskId> series_id, std::uint32_t run) {
    Entry& e = tasks[id];
    const Time due = now + spec.run_after;
    try {
      e.adopt_spec(std::forward<Spec>(spec), kinds, owners);  // the slot is new: no record to build and move in
    } catch (...) {  // out of memory copying the spec: no entry left in the table unindexed
      e.release(kinds, owners);
      tasks.erase(tasks.find(id));
      throw;
    }
    e.id = id;
    e.created_at = now;
    e.due = due;
    if (e.repeat()) e.set_series(series_id.value_or(id), run);
    index(e);
    ++stats.spawned;
    e.paused = pauses.holds(e.owner(), key_of(e));
    return e;
  }

  // Why the kernel cannot take `spec` now (names, parents, dependencies, capacity, quotas), if it
  // cannot; `replacing` is the pending task a dedup replacement ends.
  std::optional<SpawnError> admission_refusal(const TaskSpec& spec, const Entry* replacing) {
    const auto name_is_live = [this, replacing](const std::string& owner, const std::string& name) {
      const auto it = live_names.find({owner, name});
      return it != live_names.end() && (replacing == nullptr || it->second != replacing->id);
    };
    const auto task_is_known = [this](TaskId id) { return tasks.count(id) != 0 || forgotten_parents.count(id) != 0; };
    const auto quota_held = [this, replacing](const QuotaSpec& q) {
      const bool replaced_holds = replacing && replacing->quota() && replacing->quota()->key == q.key;
      return quotas.holders(q) > (replaced_holds ? 1u : 0u);
    };
    const auto dependency_is_known = [this](TaskId id) { return tasks.count(id) != 0; };
    return detail::check_admission(spec, detail::SpawnContext{config, next_id, unfinished - (replacing ? 1 : 0), stopping,
                                                              name_is_live, task_is_known, quotas, quota_held,
                                                              dependency_is_known});
  }

  // The per-owner index, built now if nobody read by owner before. Built aside, so that running out
  // of memory leaves it unbuilt, not half built.
  const OwnerIndex& owner_index() const {
    if (!owner_index_built) {
      OwnerIndex built;
      for (const auto& [id, e] : tasks) built[e.owner()].insert(id);  // in id order: appends
      by_owner = std::move(built);
      owner_index_built = true;
    }
    return by_owner;
  }
  // by_owner's entry for a record's owner(), a string of the owners pool: the last one used is
  // remembered by the string's address, so a run of one owner's tasks compares no strings. While
  // the entry lives a record naming the owner holds that pooled string (its address is this
  // owner's); erasing the entry forgets it.
  detail::IdSet& owner_ids(const std::string& pooled_owner) {
    if (&pooled_owner != owner_cache_key) {
      owner_cache = by_owner.try_emplace(pooled_owner).first;
      owner_cache_key = &pooled_owner;
    }
    return owner_cache->second;
  }
  void unindex_owner(const std::string& pooled_owner, TaskId id) {
    if (!owner_index_built) return;
    if (&pooled_owner != owner_cache_key) {
      const auto found = by_owner.find(pooled_owner);
      if (found == by_owner.end()) return;
      owner_cache = found;
      owner_cache_key = &pooled_owner;
    }
    owner_cache->second.erase(id);
    if (!owner_cache->second.empty()) return;
    by_owner.erase(owner_cache);
    owner_cache_key = nullptr;
  }

  void index(const Entry& e) {
    if (owner_index_built) owner_ids(e.owner()).insert(e.id);
    if (e.parent().task) {
      children[e.parent().task->value].push_back(e.id);
    } else if (e.parent().run) {
      run_roots[*e.parent().run].push_back(e.id);
    }
    if (is_terminal(e.status)) {
      terminal_order.push_back(e.id);
      return;
    }
    ++unfinished;
    ++load.unfinished[slot(e.priority)];
    if (e.series()) series.live(*e.series(), e.id);
    if (e.name()) live_names[{e.owner(), *e.name()}] = e.id;
    if (e.key) lanes.push(*e.key, e.id);
    if (e.quota()) quotas.hold(*e.quota());
    if (e.dedup()) dedup_holders[{e.owner(), e.dedup()->key}].insert(e.id);
    flushes.on_accepted(e.id, key_of(e));
  }

  Snapshot snapshot() const {
    Snapshot s;
    s.next_id = next_id;
    s.rng_state = rng.state();
    for (const auto& [id, e] : tasks) {
      if (e.durable) s.tasks.push_back(e.to_info());
    }
    s.quotas = quotas.usage();
    s.rate_limits = rates.usage();
    pauses.save(s);
    return s;
  }
};

// ---- the public face --------------------------------------------------------------------------

Kernel::Kernel(Config config) : state_(std::make_unique<State>(config)) {}
Kernel::~Kernel() = default;
Kernel::Kernel(Kernel&&) noexcept = default;
Kernel& Kernel::operator=(Kernel&&) noexcept = default;

// The spec is moved once, into the new task's entry, or copied field by field from a const one: a
// TaskSpec is ~750 bytes, and each layer that took it by value moved and destroyed it once more
// (a few percent of a spawn -> start -> complete cycle; a whole copy of a const spec, ~10 %).
template <class Spec>
Result<Admission, SpawnError> Kernel::State::admit(Spec&& spec, Time at) {
  State& s = *this;
  s.observe(at);
  auto refused = [&](SpawnError refusal) -> Result<Admission, SpawnError> {
    ++s.stats.refused;
    s.settle();
    return Failure{std::move(refusal)};
  };
  if (auto refusal = detail::check_spec(spec, s.config, s.stopping)) return refused(std::move(*refusal));
  // Deduplication: keep the live holder, or replace it while it is still pending.
  const Entry* replacing = nullptr;
  if (spec.dedup) {
    if (const auto holder = s.dedup_holder(spec)) {
      const Entry& held = s.tasks.at(*holder);
      if (spec.dedup->mode == DedupMode::KeepExisting) {
        ++s.stats.deduplicated;
        s.settle();
        return Admission{*holder, true, std::nullopt};
      }
      if (held.status == TaskStatus::Pending) replacing = &held;
    }
  }
  const auto replaced_id = replacing ? std::optional<TaskId>(replacing->id) : std::nullopt;
  if (auto refusal = s.admission_refusal(spec, replacing)) return refused(std::move(*refusal));
  const TaskId id{s.next_id++};
  if (replaced_id) {
    s.forgetting_held = true;  // forgetting here could drop the new task's parent before it links it
    s.finish(s.tasks.at(*replaced_id), TaskStatus::Cancelled,
             "replaced by " + to_string(id) + " (dedup key '" + spec.dedup->key + "')");
    s.forgetting_held = false;
  }
  Entry& e = s.create(id, std::forward<Spec>(spec), std::nullopt, 1);
  s.forgetting_held = true;  // a dependency may end the new task at once; its record stays until persisted
  if (!e.after().empty()) s.link_dependencies(e, e.after());
  if (!is_terminal(e.status)) {  // a dependency already over may have ended it, record and all
    s.persist(e);
    s.consider(e);
  }
  s.forgetting_held = false;
  s.forget_oldest_terminal();
  s.settle();
  return Admission{id, false, replaced_id};
}

Result<TaskId, SpawnError> Kernel::spawn(TaskSpec&& spec, Time now) {
  auto admitted = state_->admit(std::move(spec), now);
  if (!admitted) return Failure{admitted.error()};
  return admitted.value().id;
}

Result<TaskId, SpawnError> Kernel::spawn(const TaskSpec& spec, Time now) {
  auto admitted = state_->admit(spec, now);
  if (!admitted) return Failure{admitted.error()};
  return admitted.value().id;
}

Result<Admission, SpawnError> Kernel::admit(TaskSpec&& spec, Time now) { return state_->admit(std::move(spec), now); }

Result<Admission, SpawnError> Kernel::admit(const TaskSpec& spec, Time now) { return state_->admit(spec, now); }

void Kernel::complete(TaskId id, std::uint32_t attempt, Outcome outcome, Time now) {
  State& s = *state_;
  s.observe(now);  // a deadline that passed before this completion arrived wins
  const auto it = s.tasks.find(id);
  if (it == s.tasks.end() || it->second.status != TaskStatus::Running || it->second.attempt != attempt) {
    ++s.stats.ignored_completions;
  } else {
    s.on_complete(it->second, std::move(outcome));
  }
  s.settle();
}

void Kernel::heartbeat(TaskId id, std::uint32_t attempt, Time now) {
  State& s = *state_;
  s.observe(now);  // a deadline that passed before this heartbeat arrived wins
  const auto it = s.tasks.find(id);
  if (it == s.tasks.end() || it->second.status != TaskStatus::Running || it->second.attempt != attempt) {
    ++s.stats.ignored_heartbeats;
  } else if (const auto& interval = it->second.heartbeat()) {
    it->second.heartbeat_deadline = s.now + *interval;  // the armed timer re-arms itself here when it fires
  }
  s.settle();
}

void Kernel::tick(Time now) {
  State& s = *state_;
  s.observe(now);  // fires every timer due at or before now
  s.settle();
}

void Kernel::poke(std::optional<std::string> session, std::string reason, Time now) {
  State& s = *state_;
  s.observe(now);
  if (s.config.queued_work_runner && !s.stopped) s.runner.poke(std::move(session), std::move(reason), s.out);
  s.settle();
}

void Kernel::answer_queued_work(std::uint64_t request, std::optional<std::string> submitted, Time now) {
  State& s = *state_;
  s.observe(now);
  if (s.config.queued_work_runner && !s.runner.answer(request, std::move(submitted), s.out)) ++s.stats.ignored_completions;
  s.settle();
}

void Kernel::complete_session(std::string session, std::string reason, Time now) {
  State& s = *state_;
  s.observe(now);
  if (s.config.queued_work_runner && !s.stopped) s.runner.complete(std::move(session), std::move(reason), s.out);
  s.settle();
}

std::size_t Kernel::abort(const AbortSelector& which, Time now) {
  State& s = *state_;
  s.observe(now);
  std::vector<TaskId> ids = s.select(which);
  s.out.reserve(ids.size());  // about a command per task: the outbox grows once, not log2(n) times
  if (s.dependents.empty()) {
    // Only a task's own cancel can end it (no waiters), so count as they go: one pass over the
    // entries, not two. A task selected twice is cancelled, and counted, once.
    std::size_t cancelled = 0;
    std::vector<TaskId> released;
    const auto consider_released = [&s, &released] {
      s.released_heads = nullptr;
      for (const TaskId id : released) {  // cancelled too (and maybe forgotten) or still pending
        if (const auto it = s.tasks.find(id); it != s.tasks.end()) s.consider(it->second);
      }
    };
    s.released_heads = &released;
    try {
      for (const TaskId id : ids) cancelled += s.cancel_one(id, CancelReason::Requested) ? 1 : 0;
    } catch (...) {  // out of memory: the heads freed so far still get their place
      consider_released();
      throw;
    }
    consider_released();
    s.settle();
    return cancelled;
  }
  // Counted before cancelling: a selected waiter may end at once because a selected dependency did.
  detail::IdSet cancellable;  // a set: a task selected twice counts once
  for (const TaskId id : ids) {
    const auto it = s.tasks.find(id);
    if (it != s.tasks.end() && !is_terminal(it->second.status) && !it->second.cancel_requested) {
      cancellable.insert(id);
    }
  }
  for (const TaskId id : ids) s.cancel_one(id, CancelReason::Requested);
  s.settle();
  return cancellable.size();
}

std::size_t Kernel::pause(const PauseSelector& which, Time now) {
  State& s = *state_;
  s.observe(now);
  std::size_t paused = 0;
  if (s.pauses.add(which)) {
    for (const TaskId id : s.pause_candidates(which)) {
      Entry& e = s.tasks.at(id);
      if (e.status != TaskStatus::Pending || e.paused || !detail::PauseRules::selects(which, e.owner(), State::key_of(e))) continue;
      e.paused = true;
      s.unready(e);  // its due timer may still fire: consider() leaves it alone
      s.persist(e);
      ++paused;
    }
  }
  s.settle();
  return paused;
}

std::size_t Kernel::resume(const PauseSelector& which, Time now) {
  State& s = *state_;
  s.observe(now);
  std::size_t resumed = 0;
  if (s.pauses.remove(which)) {
    for (const TaskId id : s.pause_candidates(which)) {  // by id: ready again in their original order
      Entry& e = s.tasks.at(id);
      if (!e.paused || !detail::PauseRules::selects(which, e.owner(), State::key_of(e))) continue;
      e.paused = s.pauses.holds(e.owner(), State::key_of(e));  // another rule may still hold it
      if (e.paused) continue;
      s.persist(e);
      s.consider(e);
      ++resumed;
    }
  }
  s.settle();
  return resumed;
}

bool Kernel::cancel(TaskId id, Time now) { return abort(abort_selector::Task{id}, now) == 1; }

FlushId Kernel::flush(const FlushSelector& which, Time now) {
  State& s = *state_;
  s.observe(now);
  const auto key_of_task = [&s](TaskId task) { return State::key_of(s.tasks.at(task)); };  // a live task
  const auto claim = [&s](TaskId task, detail::FlushClaim c) { s.tasks.at(task).flush_claim = c; };
  const auto each_live_keyless = [&s](const auto& f) {
    for (auto& [task, e] : s.tasks) {
      if (e.key || is_terminal(e.status)) continue;
      if (const detail::FlushClaim c = f(task)) e.flush_claim = c;
    }
  };
  const auto error_taken = [&s](TaskId task) {  // its record (unless forgotten) loses the mark
    if (const auto it = s.tasks.find(task); it != s.tasks.end()) s.drop_error_mark(it->second);
  };
  const FlushId id = s.flushes.flush(which, detail::FlushTasks{key_of_task, claim, each_live_keyless, TaskId{s.next_id}},
                                     error_taken, s.out);
  s.settle();
  return id;
}

Result<void, SendError> Kernel::send(TaskId to, std::string from, Json message, Time now) {
  State& s = *state_;
  s.observe(now);
  auto result = s.send(to, std::move(from), std::move(message));
  s.settle();  // refused or not: what observe() fired must settle as after any input
  return result;
}

Result<void, SendError> Kernel::State::send(TaskId to, std::string from, Json message) {
  State& s = *this;
  const auto it = s.tasks.find(to);
  if (it == s.tasks.end()) return Failure{SendError{SendErrorCode::TaskNotFound, "task not found"}};
  Entry& e = it->second;
  if (e.owner() != from) return Failure{SendError{SendErrorCode::NotOwner, "caller does not own this task"}};
  if (is_terminal(e.status)) {
    return Failure{SendError{SendErrorCode::TaskTerminated, std::string("task already ") + to_string(e.status)}};
  }
  if (!e.inbox) return Failure{SendError{SendErrorCode::NoInbox, "task has no inbox (not a sub-agent)"}};
  if (e.cancel_requested || s.stopping) return Failure{SendError{SendErrorCode::InboxClosed, "sub-agent inbox closed"}};
  std::size_t message_bytes = 0;
  if (auto problem = detail::payload_limit_problem(message, "message", s.config, &message_bytes)) {
    return Failure{SendError{SendErrorCode::MessageTooLarge, std::move(*problem)}};
  }
  const bool waits = e.status != TaskStatus::Running;  // in the record: bound the record
  const std::size_t bytes = waits ? message_bytes : 0;
  if (waits && e.undelivered()) {
    const auto& waiting = *e.undelivered();
    if (waiting.size() >= detail::max_waiting_messages || e.undelivered_bytes() + bytes > s.config.max_payload_bytes) {
      return Failure{SendError{SendErrorCode::InboxFull,
                               std::to_string(waiting.size()) + " messages wait for the sub-agent's start; at most " +
                                   std::to_string(detail::max_waiting_messages) + " and " +
                                   std::to_string(s.config.max_payload_bytes) + " bytes together"}};
    }
  }
  if (e.status == TaskStatus::Running) {
    s.out.emplace_back(command::Deliver{to, e.attempt, std::move(from), std::move(message)});
  } else {
    e.add_undelivered(InboxMessage{std::move(from), std::move(message)}, bytes);
    s.persist(e);  // a durable sub-agent's record keeps it across a restart
  }
  return {};
}

void Kernel::shutdown(ShutdownMode mode, Time now) {
  State& s = *state_;
  s.observe(now);
  s.stopping = true;  // every TaskDue timer goes stale
  s.fresh_top = State::no_timer;
  if (mode == ShutdownMode::Cancel) {
    for (auto& [id, e] : s.tasks) {
      if (e.status == TaskStatus::Running) s.cancel_one(id, CancelReason::Shutdown);
    }
  }
  s.settle();
}

void Kernel::restore(const Snapshot& snapshot, Time now) {
  State& s = *state_;
  s.observe(now);
  const bool fresh = s.tasks.empty() && s.next_id == 0;
  s.restoring = true;
  s.fresh_top = State::no_timer;  // records change tasks in many ways: settle() checks the top afresh
  std::vector<const TaskInfo*> records;
  records.reserve(snapshot.tasks.size());
  for (const auto& r : snapshot.tasks) records.push_back(&r);
  const auto by_id = [](const TaskInfo* a, const TaskInfo* b) { return a->id < b->id; };
  if (!std::is_sorted(records.begin(), records.end(), by_id)) std::sort(records.begin(), records.end(), by_id);  // snapshots list by id
  std::vector<TaskId> restored;
  for (const TaskInfo* r : records) {
    if (s.tasks.count(r->id)) continue;
    s.next_id = std::max(s.next_id, r->id.value + 1);
    Entry& e = s.tasks[r->id];
    static_cast<detail::TaskRecord&>(e) = detail::TaskRecord::make(*r, s.kinds, s.owners);
    e.id = r->id;
    e.default_unknown_enums();  // damaged input
    s.index(e);
    if (e.undelivered() && (is_terminal(e.status) || !e.inbox)) {
      e.drop_undelivered();  // damaged input: no attempt could ever take them
    } else {
      e.recount_undelivered(detail::json_size);  // Kernel::send's bound counts them
    }
    if (e.error_unflushed) {
      const bool is_error = e.status == TaskStatus::Failed || e.status == TaskStatus::TimedOut;
      if (is_error && e.error) {
        s.flushes.restore_error(e.id, State::key_of(e), *e.error);
      } else {
        e.error_unflushed = false;  // a mark only a failed record can carry: not an error to report
      }
    }
    restored.push_back(r->id);
  }
  s.next_id = std::max(s.next_id, snapshot.next_id);
  if (fresh) s.rng.set_state(snapshot.rng_state);
  for (const auto& q : snapshot.quotas) s.quotas.restore(q);
  for (const auto& r : snapshot.rate_limits) s.rates.restore(r);
  s.pauses.restore(snapshot);
  for (const TaskId id : restored) {  // the rules decide; a record that disagrees lost a change in a crash
    Entry& e = s.tasks.at(id);
    const bool paused = e.status == TaskStatus::Pending && s.pauses.holds(e.owner(), State::key_of(e));
    if (e.paused != paused) {
      e.paused = paused;
      s.persist(e);
    }
  }
  // Waiters link again before running records are resolved: an orphaned dependency fails its waiters.
  for (const TaskId id : restored) {
    Entry& e = s.tasks.at(id);
    if (e.waiting_for().empty()) continue;
    if (e.status != TaskStatus::Pending) {  // only a pending task waits; a record saying otherwise is corrupt
      if (!is_terminal(e.status)) e.waiting_for_mut().clear();
      continue;
    }
    const std::vector<TaskId> before = e.waiting_for();
    s.link_dependencies(e, before);
    if (e.waiting_for() != before && e.status == TaskStatus::Pending) s.persist(e);
  }
  for (const TaskId id : restored) {
    Entry& e = s.tasks.at(id);
    if (!is_terminal(e.status) && e.series()) {
      const auto current = s.series.current(*e.series());
      if (current && *current != id) {  // a crash kept its successor's record but lost this run's end
        const bool was_running = e.status == TaskStatus::Running;
        if (was_running) ++s.stats.orphaned;
        s.finish(e, was_running ? TaskStatus::Failed : TaskStatus::Cancelled,
                 "superseded by run " + std::to_string(s.tasks.at(*current).run) + " of its series (" +
                     to_string(*current) + ") after a restart");
        continue;
      }
    }
    if (e.status == TaskStatus::Running) {
      if (e.cancel_requested) {
        s.finish(e, TaskStatus::Cancelled, std::nullopt);
      } else if (e.retry().requeue_on_restart && e.attempt < e.retry().max_attempts) {
        e.status = TaskStatus::Pending;
        e.due = s.now;
        e.paused = s.pauses.holds(e.owner(), State::key_of(e));
        s.persist(e);
      } else {
        ++s.stats.orphaned;
        s.finish(e, TaskStatus::Failed, "task orphaned: runtime restarted while running");
      }
    }
    s.consider(e);
  }
  s.restoring = false;
  s.forget_oldest_terminal();
  s.settle();
}

std::optional<Command> Kernel::poll() {
  auto& out = state_->out;
  if (out.empty()) return std::nullopt;
  return out.take_front();
}

void Kernel::drain_lent(void* sink, void (*call)(void*, CommandRef)) {
  state_->out.lend([sink, call](CommandRef c) { call(sink, c); });
}

std::optional<Time> Kernel::next_deadline() const {
  const auto* top = state_->timers.top();
  if (!top) return std::nullopt;
  return top->at;
}

std::optional<TaskInfo> Kernel::get(TaskId id) const {
  const auto it = state_->tasks.find(id);
  if (it == state_->tasks.end()) return std::nullopt;
  return it->second.to_info();
}

std::optional<TaskGlance> Kernel::glance(TaskId id) const {
  const auto it = state_->tasks.find(id);
  if (it == state_->tasks.end()) return std::nullopt;
  const Entry& e = it->second;
  return TaskGlance{e.kind(), e.owner(), e.status, e.priority, e.attempt, e.due, e.heartbeat()};
}

std::vector<TaskInfo> Kernel::list(std::string_view owner) const {
  std::vector<TaskInfo> out;
  const auto& index = state_->owner_index();
  const auto it = index.find(owner);
  if (it == index.end()) return out;
  for (const TaskId id : it->second) out.push_back(state_->tasks.at(id).to_info());
  return out;
}

bool Kernel::has_running(std::string_view owner) const {
  const auto& index = state_->owner_index();
  const auto it = index.find(owner);
  if (it == index.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](TaskId id) { return !is_terminal(state_->tasks.at(id).status); });
}

std::optional<TaskId> Kernel::current_run(TaskId series) const { return state_->series.current(series); }

Snapshot Kernel::snapshot() const { return state_->snapshot(); }
const KernelStats& Kernel::stats() const { return state_->stats; }
const Config& Kernel::config() const { return state_->config; }
std::size_t Kernel::unfinished() const { return state_->unfinished; }

const Kernel::PriorityLoad& Kernel::load() const { return state_->load; }
std::size_t Kernel::running() const { return state_->running; }
bool Kernel::stopping() const { return state_->stopping; }
bool Kernel::stopped() const { return state_->stopped; }
Time Kernel::last_time() const { return state_->now; }

}  // namespace tasklane
