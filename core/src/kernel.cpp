// The kernel's state and its transitions. Each input clamps time, changes state, then settles:
// starts what may start, checks whether a shutdown is complete, and drops stale timers.
#include "tasklane/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "command_queue.hpp"
#include "dependency_graph.hpp"
#include "flat_id_map.hpp"
#include "flush_tracker.hpp"
#include "heartbeats.hpp"
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
#include "timer_queue.hpp"

namespace tasklane {

using detail::TimerKind;

namespace {

struct Entry {
  TaskInfo info;
  std::uint64_t due_generation = 0;  // invalidates TaskDue timers armed before the last change
  // The running attempt's deadlines, detail::no_deadline when it has none (8 bytes each, where an
  // optional<Time> took 16).
  Time attempt_deadline = detail::no_deadline;    // per-attempt timeout
  Time heartbeat_deadline = detail::no_deadline;  // heartbeat deadline (see heartbeats.hpp)
  bool ready = false;  // queued in the ReadyQueue (which keeps no membership of its own)
};

std::string timed_out_message(Duration timeout) {
  return "timed out after " + std::to_string(timeout.count() / 1000) + " ms";
}

}  // namespace

struct Kernel::State {
  explicit State(Config c) : config(c), rng(c.seed) {}

  Config config;
  Time now{0};
  bool seen_input = false;
  std::uint64_t next_id = 0;
  detail::SplitMix64 rng;

  detail::IdTable<Entry> tasks;  // ordered: every walk over tasks is in id order, hence deterministic
  std::map<std::string, detail::IdSet, std::less<>> by_owner;
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
  std::deque<TaskId> terminal_order;

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

  detail::CommandQueue out;
  std::size_t unfinished = 0;
  std::size_t running = 0;
  bool stopping = false;
  bool stopped = false;
  KernelStats stats;

  // ---- time and settling ------------------------------------------------------------------

  void observe(Time t) {
    now = seen_input ? std::max(now, t) : t;  // time never goes backwards inside the kernel
    if (!seen_input) {
      seen_input = true;
      if (config.queued_work_runner) {
        runner.startup(out);
        arm_poll();
      }
    }
    // An input that arrives after a deadline acts as if the driver had ticked first: a timer that is
    // due wins over whatever this input would do, however late the driver's timer callback runs.
    fire_due_timers();
    schedule();
  }

  void arm_poll() { timers.arm(now + config.queued_work_poll, TimerKind::QueuedWorkPoll, TaskId{}, ++poll_generation); }

  void settle() {
    schedule();
    if (stopping && !stopped && running == 0) {
      stopped = true;
      ++poll_generation;  // no more polls once stopped
      runner.stop();      // nor drives waiting behind an outstanding one
      out.emplace_back(command::PersistSnapshot{snapshot()});
      out.emplace_back(command::Stopped{});
    }
    while (const auto* t = timers.top()) {
      if (!is_stale(*t)) break;
      timers.pop();
    }
  }

  bool is_stale(const detail::Timer& t) const {
    switch (t.kind) {
      case TimerKind::QueuedWorkPoll:
        return t.generation != poll_generation;
      case TimerKind::TaskDue: {
        const auto it = tasks.find(t.task);
        return stopping || it == tasks.end() || it->second.info.status != TaskStatus::Pending ||
               it->second.due_generation != t.generation;
      }
      case TimerKind::AttemptTimeout:
      case TimerKind::HeartbeatDue: {
        const auto it = tasks.find(t.task);
        return it == tasks.end() || it->second.info.status != TaskStatus::Running ||
               it->second.info.attempt != t.generation;
      }
    }
    return true;
  }

  void fire_due_timers() {
    while (const auto* top = timers.top()) {
      if (top->at > now) break;
      const detail::Timer t = *top;
      timers.pop();
      if (is_stale(t)) continue;
      switch (t.kind) {
        case TimerKind::QueuedWorkPoll:
          runner.poll(out);
          if (!stopped) arm_poll();
          break;
        case TimerKind::TaskDue:
          consider(tasks.at(t.task));
          break;
        case TimerKind::AttemptTimeout:
        case TimerKind::HeartbeatDue:
          on_attempt_timer(tasks.at(t.task));
          break;
      }
    }
  }

  static const SequenceKey* key_of(const TaskInfo& info) { return info.spec.key ? &*info.spec.key : nullptr; }

  // ---- readiness and starting -------------------------------------------------------------

  // Puts a pending task where it belongs: behind a timer, behind its lane head, or ready.
  void consider(Entry& e) {
    TaskInfo& info = e.info;
    if (info.status != TaskStatus::Pending || stopping) return;
    if (e.ready) return;
    if (!info.waiting_for.empty()) return;  // a dependency's end considers it again
    if (info.paused) return;                // resume considers it again
    if (info.due > now) {
      timers.arm(info.due, TimerKind::TaskDue, info.id, ++e.due_generation);
      return;
    }
    if (info.spec.key && !lanes.is_head(*info.spec.key, info.id)) return;
    if (info.spec.quota) {
      const Time open = quotas.cooldown_until(*info.spec.quota, now);
      if (open > now) {
        timers.arm(open, TimerKind::TaskDue, info.id, ++e.due_generation);
        return;
      }
    }
    if (info.spec.rate_limit) {  // wait for the next token; its timer is next_deadline() at the latest
      const Time token = rates.next_token(*info.spec.rate_limit, now);
      if (token > now) {
        timers.arm(token, TimerKind::TaskDue, info.id, ++e.due_generation);
        return;
      }
    }
    ready.push(info.spec.priority, info.id);
    e.ready = true;
  }

  // The ReadyQueue's question: is this task still queued, at this priority?
  bool is_ready(std::uint64_t id, Priority p) const {
    const auto it = tasks.find(TaskId{id});
    return it != tasks.end() && it->second.ready && it->second.info.spec.priority == p;
  }
  // Takes a queued pending task out of the ready queue (it finished, or a pause holds it).
  void unready(Entry& e) {
    if (!e.ready) return;
    e.ready = false;
    ready.erase([this](std::uint64_t id, Priority p) { return is_ready(id, p); });
  }

  void schedule() {
    while (!stopping && running < config.max_running) {
      const auto id = ready.pop([this](std::uint64_t task, Priority p) { return is_ready(task, p); });
      if (!id) break;
      Entry& e = tasks.at(*id);
      e.ready = false;
      if (const auto& quota = e.info.spec.quota) {
        if (quotas.attempts_exhausted(*quota)) {
          finish(e, TaskStatus::Failed,
                 "attempt quota for '" + quota->key + "' is used up (limit " + std::to_string(quota->max_attempts) + ")");
          continue;
        }
        const Time open = quotas.cooldown_until(*quota, now);
        if (open > now) {  // another task of this key started earlier in this pass
          timers.arm(open, TimerKind::TaskDue, e.info.id, ++e.due_generation);
          continue;
        }
      }
      if (const auto& limit = e.info.spec.rate_limit) {
        // A task before this one in ready order took the last token: wait for the next.
        if (!rates.has_token(*limit, now)) {
          timers.arm(rates.next_token(*limit, now), TimerKind::TaskDue, e.info.id, ++e.due_generation);
          continue;
        }
      }
      start(e);
    }
  }

  void start(Entry& e) {
    TaskInfo& info = e.info;
    info.status = TaskStatus::Running;
    ++info.attempt;
    ++running;
    ++stats.started;
    if (info.spec.quota) quotas.started(*info.spec.quota, now);
    if (info.spec.rate_limit) rates.take(*info.spec.rate_limit, now);
    std::optional<Time> deadline;
    e.attempt_deadline = detail::no_deadline;
    if (info.spec.timeout) {
      // Spawn refuses a timeout over ten years; a record from before that check may still hold one.
      deadline = e.attempt_deadline = now + std::min<Duration>(*info.spec.timeout, ten_years);
      timers.arm(e.attempt_deadline, TimerKind::AttemptTimeout, info.id, info.attempt);
    }
    e.heartbeat_deadline = detail::no_deadline;
    if (info.spec.heartbeat) {
      e.heartbeat_deadline = now + *info.spec.heartbeat;
      timers.arm(e.heartbeat_deadline, TimerKind::HeartbeatDue, info.id, info.attempt);
    }
    out.emplace_back(command::Start{info.id, info.attempt, info.spec.kind, info.spec.payload, deadline, info.spec.inbox});
    if (info.undelivered) {
      for (auto& m : *info.undelivered) {
        out.emplace_back(command::Deliver{info.id, info.attempt, std::move(m.from), std::move(m.message)});
      }
      info.undelivered.reset();
    }
    persist(e);
  }

  // ---- attempt endings --------------------------------------------------------------------

  Duration backoff(const TaskInfo& info) {
    const RetryPolicy& p = info.spec.retry;
    const double cap = static_cast<double>(p.max_backoff.count());
    double delay = static_cast<double>(p.initial_backoff.count()) *
                   std::pow(p.multiplier, static_cast<double>(info.attempt > 0 ? info.attempt - 1 : 0));
    if (!(delay <= cap)) delay = cap;  // also catches overflow to infinity
    if (p.jitter > 0) delay -= delay * p.jitter * rng.unit();
    return Duration{static_cast<Duration::rep>(std::max(0.0, delay))};
  }

  void end_attempt_with_error(Entry& e, std::string error, bool retryable, TaskStatus final_status) {
    TaskInfo& info = e.info;
    if (retryable && info.attempt < info.spec.retry.max_attempts) {
      ++stats.retried;
      info.status = TaskStatus::Pending;
      info.due = now + backoff(info);
      info.error = std::move(error);
      info.paused = pauses.holds(info.spec);  // a retry under a pause rule waits for the resume
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
        timers.arm(e.heartbeat_deadline, TimerKind::HeartbeatDue, e.info.id, e.info.attempt);
        return;
      case detail::AttemptExpiry::Timeout:
        on_timeout(e, timed_out_message(*e.info.spec.timeout));
        return;
      case detail::AttemptExpiry::Heartbeat:
        ++stats.heartbeat_timeouts;
        on_timeout(e, detail::heartbeat_timeout_message(*e.info.spec.heartbeat));
        return;
    }
  }

  void on_timeout(Entry& e, std::string error) {
    TaskInfo& info = e.info;
    --running;
    ++stats.attempt_timeouts;
    out.emplace_back(command::Cancel{info.id, info.attempt, CancelReason::TimedOut});
    if (info.cancel_requested) {
      finish(e, TaskStatus::Cancelled, std::nullopt);
      return;
    }
    end_attempt_with_error(e, std::move(error), true, TaskStatus::TimedOut);
  }

  bool retryable(const TaskInfo& info, const Outcome& outcome) const {
    if (!outcome.retryable) return false;
    const auto& list = info.spec.retry.non_retryable_errors;
    return outcome.error_type.empty() || std::find(list.begin(), list.end(), outcome.error_type) == list.end();
  }

  void on_complete(Entry& e, Outcome outcome) {
    TaskInfo& info = e.info;
    --running;
    if (info.cancel_requested) {
      finish(e, TaskStatus::Cancelled, std::nullopt);
    } else if (outcome.ok) {
      info.result = std::move(outcome.result);
      finish(e, TaskStatus::Completed, std::nullopt);
    } else {
      const bool again = retryable(info, outcome);
      end_attempt_with_error(e, std::move(outcome.error), again, TaskStatus::Failed);
    }
  }

  // The one way a task becomes terminal.
  void finish(Entry& e, TaskStatus status, std::optional<std::string> error) {
    TaskInfo& info = e.info;
    const bool was_pending = info.status == TaskStatus::Pending;
    info.status = status;
    info.finished_at = now;
    info.cancel_requested = false;
    info.paused = false;
    if (status == TaskStatus::Completed) info.error.reset();
    if (error) info.error = std::move(*error);
    ++e.due_generation;
    info.undelivered.reset();
    if (!info.waiting_for.empty()) {
      dependents.unlink(info.id, info.waiting_for);
      info.waiting_for.clear();
    }
    if (was_pending) unready(e);
    --unfinished;
    if (info.spec.name) live_names.erase({info.spec.owner, *info.spec.name});
    if (info.spec.quota) quotas.release(*info.spec.quota);
    if (info.spec.dedup) release_dedup(info);
    switch (status) {
      case TaskStatus::Completed: ++stats.completed; break;
      case TaskStatus::Failed: ++stats.failed; break;
      case TaskStatus::Cancelled: ++stats.cancelled; break;
      case TaskStatus::TimedOut: ++stats.timed_out; break;
      default: break;
    }
    std::optional<TaskId> next_run;
    if (info.series) {
      series.ended(*info.series, info.id);
      next_run = continue_series(e, status);  // before this run's Notify and Persist: series_end travels with them
    }
    const bool is_error = status == TaskStatus::Failed || status == TaskStatus::TimedOut;
    out.emplace_back(command::Notify{info.spec.owner, info.id, status, info.result,
                                     is_error ? info.error.to_optional() : std::nullopt, next_run});
    info.error_unflushed =  // after the Notify it waited for; before the record that carries the mark
        flushes.on_terminal(info.id, is_error ? info.error.to_optional() : std::nullopt, key_of(info), out);
    persist(e);
    const TaskId id = info.id;
    if (info.spec.key) {
      if (const auto next = lanes.remove(*info.spec.key, id)) {
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
    detail::DependencyEnd end{id, status, info.error.to_optional(), false};  // taken before forgetting may drop the record
    forget_oldest_terminal();
    release_dependents(std::move(end));
  }

  // ---- repeating tasks --------------------------------------------------------------------

  // A run of a series ended: spawn the next run in this same input, so that its Persist goes out in
  // the batch of this run's final record, or note on this run why the series ends here.
  // Answers the next run's id when it spawned one.
  std::optional<TaskId> continue_series(Entry& e, TaskStatus status) {
    TaskInfo& info = e.info;
    if (!detail::series_goes_on(info, status)) return std::nullopt;
    if (series.current(*info.series)) return std::nullopt;  // a restore found the successor persisted before the crash
    std::string cut;
    if (stopping) {
      cut = "runtime is shutting down";
    } else if (info.attempt == 0) {
      cut = "run " + std::to_string(info.run) + " never started";
    } else {
      const detail::NextRun next = detail::next_run(info, now);
      TaskSpec spec = detail::successor_spec(info.spec, next.due, now);
      if (auto refusal = detail::check_admission(spec, spawn_context(nullptr))) {
        cut = "run " + std::to_string(info.run + 1) + " refused: " + refusal->message;
      } else {
        stats.repeat_slots_skipped += next.skipped;
        ++stats.repeated;
        Entry& successor = create(TaskId{next_id++}, std::move(spec), info.series, info.run + 1);
        persist(successor);
        consider(successor);
        return successor.info.id;
      }
    }
    ++stats.series_cut;
    info.series_end = detail::series_end_message(cut);
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
    TaskInfo& info = w.info;
    if (info.status != TaskStatus::Pending) return;
    auto& list = info.waiting_for;
    list.erase(std::remove(list.begin(), list.end(), end.id), list.end());
    if (auto verdict = detail::waiter_verdict(info.spec.after_mode, end)) {
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
    w.info.waiting_for.clear();
    for (const TaskId dep : deps) {
      const auto it = dep < w.info.id ? tasks.find(dep) : tasks.end();  // a record pointing forward is corrupt: lost
      if (it == tasks.end()) {
        over.push_back(detail::DependencyEnd{dep, TaskStatus::Failed, std::nullopt, true});
      } else if (is_terminal(it->second.info.status)) {
        over.push_back(detail::DependencyEnd{dep, it->second.info.status, it->second.info.error.to_optional(), false});
      } else {
        w.info.waiting_for.push_back(dep);
        dependents.link(w.info.id, dep);
      }
    }
    for (const auto& end : over) {
      if (auto verdict = detail::waiter_verdict(w.info.spec.after_mode, end)) {
        finish(w, verdict->first, std::move(verdict->second));
        return;
      }
    }
  }

  void release_dedup(const TaskInfo& info) {
    const auto it = dedup_holders.find({info.spec.owner, info.spec.dedup->key});
    if (it == dedup_holders.end()) return;
    it->second.erase(info.id);
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
    while (terminal_order.size() > config.retained_terminal) {
      const TaskId id = terminal_order.front();
      terminal_order.pop_front();
      const auto it = tasks.find(id);
      if (it == tasks.end()) continue;
      // The tracker keeps the error for this kernel's flushes, but no flush could clear a mark on a
      // record nobody holds: a restart from the journal would bring the error back each time.
      drop_error_mark(it->second);
      const auto owner = by_owner.find(it->second.info.spec.owner);
      if (owner != by_owner.end()) {
        owner->second.erase(id);
        if (owner->second.empty()) by_owner.erase(owner);
      }
      ParentContext parent = std::move(it->second.info.spec.parent);
      tasks.erase(it);
      if (children.find(id.value)) {
        forgotten_parents[id] = std::move(parent);  // still a link between live descendants and their ancestors
      } else {
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
    if (e.info.spec.durable) out.persist(e.info);
  }

  // A task's error no longer waits for a flush in its record (TaskInfo::error_unflushed): durably.
  void drop_error_mark(Entry& e) {
    if (!e.info.error_unflushed) return;
    e.info.error_unflushed = false;
    persist(e);
  }

  // A message for a sub-agent's inbox, or why it cannot go (defined below, beside Kernel::send).
  Result<void, SendError> send(TaskId to, std::string from, Json message);
  // Kernel::admit; moves from `spec` when it makes a task (defined below, beside Kernel::admit).
  Result<Admission, SpawnError> admit(TaskSpec& spec, Time at);

  // ---- cancellation -----------------------------------------------------------------------

  bool cancel_one(TaskId id, CancelReason reason) {
    const auto it = tasks.find(id);
    if (it == tasks.end()) return false;
    Entry& e = it->second;
    if (is_terminal(e.info.status) || e.info.cancel_requested) return false;
    if (e.info.status == TaskStatus::Pending) {
      finish(e, TaskStatus::Cancelled, std::nullopt);
      return true;
    }
    e.info.cancel_requested = true;
    out.emplace_back(command::Cancel{id, e.info.attempt, reason});
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
            if (const auto it = by_owner.find(s.owner); it != by_owner.end()) ids.assign(it->second.begin(), it->second.end());
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
      if (const auto it = by_owner.find(o->owner); it != by_owner.end()) ids.assign(it->second.begin(), it->second.end());
    } else {
      for (const auto& [id, e] : tasks) {
        if (!is_terminal(e.info.status)) ids.push_back(id);
      }
    }
    return ids;
  }

  // ---- registration -----------------------------------------------------------------------

  // A new task's entry, indexed: its spec, times, and its place in a series (`series_id` unset for a
  // series' first run, which names the series).
  Entry& create(TaskId id, TaskSpec&& spec, std::optional<TaskId> series_id, std::uint32_t run) {
    Entry& e = tasks[id];
    e.info.id = id;
    e.info.created_at = now;
    e.info.due = now + spec.run_after;
    e.info.spec = std::move(spec);
    if (e.info.spec.repeat) {
      e.info.series = series_id.value_or(id);
      e.info.run = run;
    }
    index(e.info);
    ++stats.spawned;
    e.info.paused = pauses.holds(e.info.spec);
    return e;
  }

  // What the admission checks need to know; `replacing` is the pending task a dedup replacement ends.
  // Each callback captures at most two pointers, which std::function keeps without allocating.
  detail::SpawnContext spawn_context(const Entry* replacing) {
    return detail::SpawnContext{
        config,
        next_id,
        unfinished - (replacing ? 1 : 0),
        stopping,
        [this, replacing](const std::string& owner, const std::string& name) {
          const auto it = live_names.find({owner, name});
          return it != live_names.end() && (replacing == nullptr || it->second != replacing->info.id);
        },
        [this](TaskId id) { return tasks.count(id) != 0 || forgotten_parents.count(id) != 0; },
        quotas,
        [this, replacing](const QuotaSpec& q) {
          const bool replaced_holds = replacing && replacing->info.spec.quota && replacing->info.spec.quota->key == q.key;
          return quotas.holders(q) > (replaced_holds ? 1u : 0u);
        },
        [this](TaskId id) { return tasks.count(id) != 0; }};
  }

  void index(const TaskInfo& info) {
    by_owner[info.spec.owner].insert(info.id);
    if (info.spec.parent.task) {
      children[info.spec.parent.task->value].push_back(info.id);
    } else if (info.spec.parent.run) {
      run_roots[*info.spec.parent.run].push_back(info.id);
    }
    if (is_terminal(info.status)) {
      terminal_order.push_back(info.id);
      return;
    }
    ++unfinished;
    if (info.series) series.live(*info.series, info.id);
    if (info.spec.name) live_names[{info.spec.owner, *info.spec.name}] = info.id;
    if (info.spec.key) lanes.push(*info.spec.key, info.id);
    if (info.spec.quota) quotas.hold(*info.spec.quota);
    if (info.spec.dedup) dedup_holders[{info.spec.owner, info.spec.dedup->key}].insert(info.id);
    flushes.on_accepted(info.id, key_of(info));
  }

  Snapshot snapshot() const {
    Snapshot s;
    s.next_id = next_id;
    s.rng_state = rng.state();
    for (const auto& [id, e] : tasks) {
      if (e.info.spec.durable) s.tasks.push_back(e.info);
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

Result<TaskId, SpawnError> Kernel::spawn(TaskSpec spec, Time now) {
  auto admitted = state_->admit(spec, now);
  if (!admitted) return Failure{admitted.error()};
  return admitted.value().id;
}

Result<Admission, SpawnError> Kernel::admit(TaskSpec spec, Time now) { return state_->admit(spec, now); }

// The spec is moved once, into the new task's entry (a TaskSpec is ~750 bytes: spawn passed it on
// by value twice before, a tenth of a spawn -> start -> complete cycle).
Result<Admission, SpawnError> Kernel::State::admit(TaskSpec& spec, Time at) {
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
      if (held.info.status == TaskStatus::Pending) replacing = &held;
    }
  }
  const auto replaced_id = replacing ? std::optional<TaskId>(replacing->info.id) : std::nullopt;
  if (auto refusal = detail::check_admission(spec, s.spawn_context(replacing))) return refused(std::move(*refusal));
  const TaskId id{s.next_id++};
  if (replaced_id) {
    s.forgetting_held = true;  // forgetting here could drop the new task's parent before it links it
    s.finish(s.tasks.at(*replaced_id), TaskStatus::Cancelled,
             "replaced by " + to_string(id) + " (dedup key '" + spec.dedup->key + "')");
    s.forgetting_held = false;
  }
  Entry& e = s.create(id, std::move(spec), std::nullopt, 1);
  s.forgetting_held = true;  // a dependency may end the new task at once; its record stays until persisted
  if (!e.info.spec.after.empty()) s.link_dependencies(e, e.info.spec.after);
  if (!is_terminal(e.info.status)) {  // a dependency already over may have ended it, record and all
    s.persist(e);
    s.consider(e);
  }
  s.forgetting_held = false;
  s.forget_oldest_terminal();
  s.settle();
  return Admission{id, false, replaced_id};
}

void Kernel::complete(TaskId id, std::uint32_t attempt, Outcome outcome, Time now) {
  State& s = *state_;
  s.observe(now);  // a deadline that passed before this completion arrived wins
  const auto it = s.tasks.find(id);
  if (it == s.tasks.end() || it->second.info.status != TaskStatus::Running || it->second.info.attempt != attempt) {
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
  if (it == s.tasks.end() || it->second.info.status != TaskStatus::Running || it->second.info.attempt != attempt) {
    ++s.stats.ignored_heartbeats;
  } else if (const auto& interval = it->second.info.spec.heartbeat) {
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
    if (it != s.tasks.end() && !is_terminal(it->second.info.status) && !it->second.info.cancel_requested) {
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
      if (e.info.status != TaskStatus::Pending || e.info.paused || !detail::PauseRules::selects(which, e.info.spec)) continue;
      e.info.paused = true;
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
      if (!e.info.paused || !detail::PauseRules::selects(which, e.info.spec)) continue;
      e.info.paused = s.pauses.holds(e.info.spec);  // another rule may still hold it
      if (e.info.paused) continue;
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
  const auto key_of_task = [&s](TaskId task) { return State::key_of(s.tasks.at(task).info); };  // a live task
  const auto error_taken = [&s](TaskId task) {  // its record (unless forgotten) loses the mark
    if (const auto it = s.tasks.find(task); it != s.tasks.end()) s.drop_error_mark(it->second);
  };
  const FlushId id = s.flushes.flush(which, key_of_task, error_taken, s.out);
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
  if (e.info.spec.owner != from) return Failure{SendError{SendErrorCode::NotOwner, "caller does not own this task"}};
  if (is_terminal(e.info.status)) {
    return Failure{SendError{SendErrorCode::TaskTerminated, std::string("task already ") + to_string(e.info.status)}};
  }
  if (!e.info.spec.inbox) return Failure{SendError{SendErrorCode::NoInbox, "task has no inbox (not a sub-agent)"}};
  if (e.info.cancel_requested || s.stopping) return Failure{SendError{SendErrorCode::InboxClosed, "sub-agent inbox closed"}};
  if (auto problem = detail::payload_limit_problem(message, "message", s.config)) {
    return Failure{SendError{SendErrorCode::MessageTooLarge, std::move(*problem)}};
  }
  if (e.info.status != TaskStatus::Running && e.info.undelivered) {  // it waits in the record: bound the record
    const auto& waiting = *e.info.undelivered;
    std::size_t bytes = detail::json_size(message);
    for (const InboxMessage& m : waiting) bytes += detail::json_size(m.message);
    if (waiting.size() >= detail::max_waiting_messages || bytes > s.config.max_payload_bytes) {
      return Failure{SendError{SendErrorCode::InboxFull,
                               std::to_string(waiting.size()) + " messages wait for the sub-agent's start; at most " +
                                   std::to_string(detail::max_waiting_messages) + " and " +
                                   std::to_string(s.config.max_payload_bytes) + " bytes together"}};
    }
  }
  if (e.info.status == TaskStatus::Running) {
    s.out.emplace_back(command::Deliver{to, e.info.attempt, std::move(from), std::move(message)});
  } else {
    if (!e.info.undelivered) e.info.undelivered.emplace();
    e.info.undelivered->push_back(InboxMessage{std::move(from), std::move(message)});
    s.persist(e);  // a durable sub-agent's record keeps it across a restart
  }
  return {};
}

void Kernel::shutdown(ShutdownMode mode, Time now) {
  State& s = *state_;
  s.observe(now);
  s.stopping = true;
  if (mode == ShutdownMode::Cancel) {
    for (auto& [id, e] : s.tasks) {
      if (e.info.status == TaskStatus::Running) s.cancel_one(id, CancelReason::Shutdown);
    }
  }
  s.settle();
}

void Kernel::restore(const Snapshot& snapshot, Time now) {
  State& s = *state_;
  s.observe(now);
  const bool fresh = s.tasks.empty() && s.next_id == 0;
  s.restoring = true;
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
    e.info = *r;
    s.index(e.info);
    if (e.info.undelivered && (is_terminal(e.info.status) || !e.info.spec.inbox)) {
      e.info.undelivered.reset();  // damaged input: no attempt could ever take them
    }
    if (e.info.error_unflushed) {
      const bool is_error = e.info.status == TaskStatus::Failed || e.info.status == TaskStatus::TimedOut;
      if (is_error && e.info.error) {
        s.flushes.restore_error(e.info.id, State::key_of(e.info), *e.info.error);
      } else {
        e.info.error_unflushed = false;  // a mark only a failed record can carry: not an error to report
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
    const bool paused = e.info.status == TaskStatus::Pending && s.pauses.holds(e.info.spec);
    if (e.info.paused != paused) {
      e.info.paused = paused;
      s.persist(e);
    }
  }
  // Waiters link again before running records are resolved: an orphaned dependency fails its waiters.
  for (const TaskId id : restored) {
    Entry& e = s.tasks.at(id);
    if (e.info.waiting_for.empty()) continue;
    if (e.info.status != TaskStatus::Pending) {  // only a pending task waits; a record saying otherwise is corrupt
      if (!is_terminal(e.info.status)) e.info.waiting_for.clear();
      continue;
    }
    const std::vector<TaskId> before = e.info.waiting_for;
    s.link_dependencies(e, before);
    if (e.info.waiting_for != before && e.info.status == TaskStatus::Pending) s.persist(e);
  }
  for (const TaskId id : restored) {
    Entry& e = s.tasks.at(id);
    if (!is_terminal(e.info.status) && e.info.series) {
      const auto current = s.series.current(*e.info.series);
      if (current && *current != id) {  // a crash kept its successor's record but lost this run's end
        const bool was_running = e.info.status == TaskStatus::Running;
        if (was_running) ++s.stats.orphaned;
        s.finish(e, was_running ? TaskStatus::Failed : TaskStatus::Cancelled,
                 "superseded by run " + std::to_string(s.tasks.at(*current).info.run) + " of its series (" +
                     to_string(*current) + ") after a restart");
        continue;
      }
    }
    if (e.info.status == TaskStatus::Running) {
      if (e.info.cancel_requested) {
        s.finish(e, TaskStatus::Cancelled, std::nullopt);
      } else if (e.info.spec.retry.requeue_on_restart && e.info.attempt < e.info.spec.retry.max_attempts) {
        e.info.status = TaskStatus::Pending;
        e.info.due = s.now;
        e.info.paused = s.pauses.holds(e.info.spec);
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
  std::optional<Command> c;
  out.take_front(c);  // one move, not two
  return c;
}

std::optional<Time> Kernel::next_deadline() const {
  const auto* top = state_->timers.top();
  if (!top) return std::nullopt;
  return top->at;
}

const TaskInfo* Kernel::get(TaskId id) const {
  const auto it = state_->tasks.find(id);
  return it == state_->tasks.end() ? nullptr : &it->second.info;
}

std::vector<TaskInfo> Kernel::list(std::string_view owner) const {
  std::vector<TaskInfo> out;
  const auto it = state_->by_owner.find(owner);
  if (it == state_->by_owner.end()) return out;
  for (const TaskId id : it->second) out.push_back(state_->tasks.at(id).info);
  return out;
}

bool Kernel::has_running(std::string_view owner) const {
  const auto it = state_->by_owner.find(owner);
  if (it == state_->by_owner.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](TaskId id) { return !is_terminal(state_->tasks.at(id).info.status); });
}

std::optional<TaskId> Kernel::current_run(TaskId series) const { return state_->series.current(series); }

Snapshot Kernel::snapshot() const { return state_->snapshot(); }
const KernelStats& Kernel::stats() const { return state_->stats; }
const Config& Kernel::config() const { return state_->config; }
std::size_t Kernel::unfinished() const { return state_->unfinished; }
std::size_t Kernel::running() const { return state_->running; }
bool Kernel::stopping() const { return state_->stopping; }
bool Kernel::stopped() const { return state_->stopped; }
Time Kernel::last_time() const { return state_->now; }

}  // namespace tasklane
