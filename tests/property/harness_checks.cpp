// KernelHarness, after every input: the ledger against the kernel's reads (get, list,
// has_running, running, unfinished, stats, next_deadline), and the invariants that need the state
// after the input rather than one command: priority and FIFO order among ready tasks, a free slot
// never left idle while a task is ready, timeouts that fired on time, a next_deadline() that wakes
// the driver in time, and every change of a durable task persisted.
#include <algorithm>
#include <sstream>

#include "describe.hpp"
#include "harness.hpp"

namespace tasklane::property {
namespace {

std::string describe(const KernelStats& s) {
  std::ostringstream os;
  os << "spawned=" << s.spawned << " refused=" << s.refused << " started=" << s.started << " completed=" << s.completed
     << " failed=" << s.failed << " cancelled=" << s.cancelled << " timed_out=" << s.timed_out
     << " attempt_timeouts=" << s.attempt_timeouts << " retried=" << s.retried
     << " ignored_completions=" << s.ignored_completions << " orphaned=" << s.orphaned
     << " deduplicated=" << s.deduplicated;
  return os.str();
}

std::string describe(const std::vector<command::RunQueuedWork>& runs) {
  std::string s;
  for (const auto& r : runs) s += "[" + property::describe(Command{r}) + "] ";
  return s.empty() ? "none" : s;
}

// Ready order: higher priority first, then the earlier spawn.
bool goes_before(TaskId a, Priority pa, TaskId b, Priority pb) { return pa != pb ? pa > pb : a < b; }

}  // namespace

// The kernel keeps config.retained_terminal finished tasks; older ones leave get() and list().
void KernelHarness::forget_oldest_terminal() {
  while (terminal_order_.size() > config_.retained_terminal) {
    const TaskId id = terminal_order_.front();
    TaskFacts& f = tasks_.at(id);
    const auto unflushed = unflushed_.find(id);
    if (f.spec.durable && unflushed != unflushed_.end() && unflushed->second.terminal && unflushed->second.error) {
      // The kernel still reports the error at the next flush, but a restart from the journal would
      // find the mark on a record no flush can clear: the last record must drop it.
      HARNESS_EXPECT(journal_.count(id) && !journal_.at(id).error_unflushed,
                     "the last record of " + to_string(id) + ", forgotten with its error waiting for a flush, must drop the mark");
      Coverage::instance().hit("a forgotten record drops its error mark");
    }
    f.in_kernel = false;
    terminal_order_.pop_front();
    Coverage::instance().hit("finished task forgotten");
  }
}

void KernelHarness::end_input() {
  forget_oldest_terminal();
  const auto expected_runs = runner_.take_expected();
  HARNESS_EXPECT(scope_.runs == expected_runs, "RunQueuedWork commands " + describe(scope_.runs) +
                                                   "differ from the runner model's " + describe(expected_runs));
  check_tasks();
  check_scheduling();
  check_pauses();
  check_durability();
  if (scope_.input == Input::Spawn || scope_.input == Input::Abort || scope_.input == Input::Restore) check_owners();
  HARNESS_EXPECT(kernel_.stats() == expected_stats_,
                 "stats() " + describe(kernel_.stats()) + "\n  expected " + describe(expected_stats_));
  HARNESS_EXPECT(kernel_.last_time() == now_, "last_time() must be the latest input time (time never goes back)");
  HARNESS_EXPECT(kernel_.stopping() == stopping_ && kernel_.stopped() == stopped_, "stopping()/stopped() disagree");
  if (stopping_ && kernel_.running() == 0) HARNESS_EXPECT(stopped_, "a shutdown must end with Stopped once nothing runs");
  if (scope_.persisted_snapshot) {
    HARNESS_EXPECT(*scope_.persisted_snapshot == kernel_.snapshot(), "PersistSnapshot must hold the durable state");
  }
  for (const auto& [id, flush] : flushes_) {  // invariant 7, the "not later" half
    HARNESS_EXPECT(!flush.live.empty(),
                   "flush " + std::to_string(id) + ": every task it took is terminal, but no FlushDone came");
  }
}

void KernelHarness::check_tasks() {
  std::size_t running = 0;
  std::size_t unfinished = 0;
  Kernel::PriorityLoad load;  // the same, per priority
  for (auto& [id, f] : tasks_) {
    const std::optional<TaskInfo> info = kernel_.get(id);
    const std::string name = to_string(id);
    if (!f.in_kernel) {
      HARNESS_EXPECT(!info.has_value(), name + " must be gone: forgotten, or not durable across a restart");
      continue;
    }
    HARNESS_EXPECT(info.has_value(), name + " was forgotten");
    HARNESS_EXPECT(info->id == id && info->spec == f.spec && info->created_at == f.created_at,
                   name + ": the record must keep the spec and creation time");
    HARNESS_EXPECT(info->series == f.series && info->run == f.run,
                   name + " must be run " + std::to_string(f.run) + " of series " + (f.series ? to_string(*f.series) : "none"));
    HARNESS_EXPECT(f.series_end ? info->series_end && info->series_end->rfind(*f.series_end, 0) == 0 : !info->series_end,
                   name + ": series_end must be '" + f.series_end.value_or("none") + "...', is '" +
                       info->series_end.value_or("none") + "'");
    if (f.phase == Phase::AttemptEnded) {  // its attempt ended and no Notify came: a retry
      HARNESS_EXPECT(info->status == TaskStatus::Pending,
                     name + " ended an attempt without a Notify, so it must wait for a retry, but it is " +
                         to_string(info->status));
      if (f.ended_by == EndedBy::Timeout && f.timeout_error.rfind("heartbeat", 0) == 0) {
        Coverage::instance().hit("retry after a missed heartbeat");
      }
      if (std::any_of(tasks_.begin(), tasks_.end(), [&](const auto& w) { return w.second.waiting_for.count(id) != 0; })) {
        Coverage::instance().hit("dependency retried while a waiter waits");
      }
      Coverage::instance().hit(f.ended_by == EndedBy::Restore   ? "re-queued at restore"
                               : f.ended_by == EndedBy::Timeout ? "retry after a timeout"
                                                                : "retry after a failure");
      switch (f.ended_by) {
        case EndedBy::Restore:
          HARNESS_EXPECT(f.spec.retry.requeue_on_restart && f.attempt < f.spec.retry.max_attempts && !f.cancel_requested,
                         name + " was re-queued at restore against its retry policy");
          break;
        case EndedBy::Timeout:
          HARNESS_EXPECT(f.attempt < f.spec.retry.max_attempts && !f.cancel_requested,
                         name + " was retried after a timeout with no attempts left");
          ++expected_stats_.retried;
          break;
        default:
          ++expected_stats_.retried;
          break;
      }
      f.phase = Phase::Pending;
      f.ended_by = EndedBy::None;
      f.considered_at = now_;
    }
    switch (f.phase) {
      case Phase::Pending:
        HARNESS_EXPECT(info->status == TaskStatus::Pending, name + " should be pending, is " + to_string(info->status));
        HARNESS_EXPECT(info->due >= f.created_at + f.spec.run_after, name + ": due before created_at + run_after");
        f.due = info->due;
        ++unfinished;
        ++load.unfinished[static_cast<std::size_t>(f.spec.priority)];
        if (info->due > kernel_.last_time()) ++load.delayed[static_cast<std::size_t>(f.spec.priority)];
        break;
      case Phase::Running:
        HARNESS_EXPECT(info->status == TaskStatus::Running, name + " should be running, is " + to_string(info->status));
        HARNESS_EXPECT(f.undelivered.empty(), "a message sent to running " + name + " was not delivered");
        ++running;
        ++unfinished;
        ++load.running[static_cast<std::size_t>(f.spec.priority)];
        ++load.unfinished[static_cast<std::size_t>(f.spec.priority)];
        break;
      case Phase::Terminal:
        HARNESS_EXPECT(info->status == f.final_status && info->finished_at.has_value(),
                       name + " must stay " + to_string(f.final_status) + " as notified, is " + to_string(info->status));
        if (f.final_error) HARNESS_EXPECT(info->error == f.final_error, name + ": error differs from its Notify");
        HARNESS_EXPECT(info->result == f.final_result, name + ": result differs from its Notify");
        break;
      case Phase::AttemptEnded:
        break;
    }
    check_dependencies(id, f, *info);
    HARNESS_EXPECT(info->paused == paused(f), name + ": paused must say whether a pause rule holds the pending task");
    HARNESS_EXPECT(info->attempt == f.attempt, name + ": attempt " + std::to_string(info->attempt) + ", but " +
                                                   std::to_string(f.attempt) + " were started");
    HARNESS_EXPECT(info->cancel_requested == (f.phase == Phase::Running && f.cancel_requested),
                   name + ": cancel_requested disagrees");
  }
  HARNESS_EXPECT(!kernel_.get(TaskId{next_id_}), "the kernel has a task with an id it never gave");
  HARNESS_EXPECT(kernel_.running() == running, "running() is " + std::to_string(kernel_.running()) + ", but " +
                                                   std::to_string(running) + " attempts run");
  HARNESS_EXPECT(running <= config_.max_running, "more than max_running attempts run");  // invariant 2
  HARNESS_EXPECT(kernel_.unfinished() == unfinished, "unfinished() is " + std::to_string(kernel_.unfinished()) +
                                                         ", but " + std::to_string(unfinished) + " tasks are unfinished");
  HARNESS_EXPECT(unfinished <= config_.capacity, "more than capacity tasks are unfinished");
  Kernel::PriorityLoad actual = kernel_.load();
  if (kernel_.stopping()) actual.delayed = load.delayed;  // once shutdown began no due timer fires: the count stays
  HARNESS_EXPECT(actual == load, "load() per priority disagrees with the tasks' phases and due times");
}

bool KernelHarness::lane_head(TaskId id, const TaskFacts& f) const {
  if (!f.spec.key) return true;
  const auto head = lane_heads_.find(*f.spec.key);
  return head != lane_heads_.end() && head->second == id;
}

// The kernel has this task in its ready queue: pending, first of its lane, no quota or rate limit
// to wait for, and due by the time it was last considered or the last time timers fired.
bool KernelHarness::ready(TaskId id, const TaskFacts& f) const {
  return !f.spec.rate_limit && ready_but_for_tokens(id, f);
}

bool KernelHarness::ready_but_for_tokens(TaskId id, const TaskFacts& f) const {
  if (!f.in_kernel || f.phase != Phase::Pending || f.spec.quota || !lane_head(id, f) || !f.waiting_for.empty() ||
      held(f.spec)) {
    return false;
  }
  return f.due <= f.considered_at || (fire_time_ && f.due <= *fire_time_);
}

// GCRA: with a token every period T and room for `starts`, a start at t is allowed once
// t >= tat - (starts - 1) * T; each start moves tat to max(tat, t) + T.
Time KernelHarness::rate_next_token(const RateLimit& limit) const {
  const auto tat = rate_tat_.find(limit.key);
  if (tat == rate_tat_.end()) return now_;
  const Duration period{(limit.interval.count() + limit.starts - 1) / limit.starts};
  return std::max(now_, tat->second - period * (limit.starts - 1));
}

bool KernelHarness::rate_token_free(const RateLimit& limit) const { return rate_next_token(limit) <= now_; }

// A task that waits only for a token starts once one is free and a slot is; until then, while a
// slot is free, the driver is woken no later than the next token.
void KernelHarness::check_rate_limits(const std::vector<TaskId>& ready_ids) {
  const auto wake = kernel_.next_deadline();
  for (const auto& [id, f] : tasks_) {
    if (!f.spec.rate_limit || !ready_but_for_tokens(id, f)) continue;
    if (rate_token_free(*f.spec.rate_limit)) {
      HARNESS_EXPECT(kernel_.running() >= config_.max_running || !ready_ids.empty(),
                     to_string(id) + " waits for a token of '" + f.spec.rate_limit->key +
                         "', but one is free and so is a running slot");
    } else if (kernel_.running() < config_.max_running) {  // while every slot is taken, a completion wakes it
      Coverage::instance().hit("rate-limited task waits for a token");
      HARNESS_EXPECT(wake && *wake <= rate_next_token(*f.spec.rate_limit),
                     "next_deadline() would wake the driver after the next token of '" + f.spec.rate_limit->key +
                         "', for which " + to_string(id) + " waits");
    }
  }
}

void KernelHarness::check_scheduling() {
  // A task that becomes first of its lane is considered at once.
  std::map<SequenceKey, TaskId> heads;
  for (const auto& [id, f] : tasks_) {
    if (f.in_kernel && f.phase != Phase::Terminal && f.spec.key) heads.emplace(*f.spec.key, id);
  }
  for (const auto& [key, id] : heads) {
    const auto before = lane_heads_.find(key);
    if (before == lane_heads_.end() || before->second != id) tasks_.at(id).considered_at = now_;
  }
  lane_heads_ = std::move(heads);

  const auto wake = kernel_.next_deadline();
  for (const auto& [id, f] : tasks_) {
    const auto end = attempt_end(f);  // the per-attempt timeout, or the heartbeat deadline
    if (!f.in_kernel || f.phase != Phase::Running || !end) continue;
    if (scope_.fires_timers) {  // invariant 5: a timeout fires at its deadline
      HARNESS_EXPECT(*end > now_, to_string(id) + " is still running past its deadline after timers fired");
    }
    HARNESS_EXPECT(wake && *wake <= *end, "next_deadline() would wake the driver after the deadline of " + to_string(id));
  }
  if (scope_.fires_timers) {
    HARNESS_EXPECT(!wake || *wake > now_, "after timers fired, next_deadline() must lie in the future");
  }
  if (stopping_) return;

  std::vector<TaskId> ready_ids;
  for (const auto& [id, f] : tasks_) {
    if (ready(id, f)) {
      ready_ids.push_back(id);
    } else if (f.in_kernel && f.phase == Phase::Pending && !f.spec.quota && lane_head(id, f) && f.waiting_for.empty() &&
               !held(f.spec) && !ready_but_for_tokens(id, f)) {  // those wait for a token: check_rate_limits
      HARNESS_EXPECT(wake && *wake <= f.due, "next_deadline() would wake the driver after the due time of " + to_string(id));
    }
  }
  HARNESS_EXPECT(ready_ids.empty() || kernel_.running() >= config_.max_running,
                 to_string(ready_ids.front()) + " is ready and a running slot is free, yet it did not start");
  check_rate_limits(ready_ids);
  for (const TaskId b : scope_.started) {  // invariant 4
    const Priority pb = tasks_.at(b).spec.priority;
    for (const TaskId a : ready_ids) {
      const TaskFacts& fa = tasks_.at(a);
      if (fa.spec.key) continue;  // a lane may make a task ready in the middle of a scheduling pass
      Coverage::instance().hit("start while other ready tasks wait");
      HARNESS_EXPECT(!goes_before(a, fa.spec.priority, b, pb),
                     to_string(b) + " (" + to_string(pb) + ") started while " + to_string(a) + " (" +
                         to_string(fa.spec.priority) + "), ready and first in order, stayed pending");
    }
  }
}

// Every change of a durable task was emitted: its last Persist equals its record.
void KernelHarness::check_durability() {
  for (const auto& [id, f] : tasks_) {
    if (!f.in_kernel || !f.spec.durable) continue;
    const auto persisted = journal_.find(id);
    HARNESS_EXPECT(persisted != journal_.end(), "durable " + to_string(id) + " was never persisted");
    HARNESS_EXPECT(persisted->second == *kernel_.get(id),
                   "the last Persist of durable " + to_string(id) + " differs from its record: a change was not persisted");
  }
}

void KernelHarness::check_owners() {
  std::map<std::string, std::pair<std::vector<TaskId>, bool>> owners;
  for (const auto& [id, f] : tasks_) {
    auto& [ids, live] = owners[f.spec.owner];
    if (!f.in_kernel) continue;
    ids.push_back(id);
    live = live || f.phase != Phase::Terminal;
  }
  for (const auto& [owner, expected] : owners) {
    std::vector<TaskId> listed;
    for (const auto& info : kernel_.list(owner)) listed.push_back(info.id);
    HARNESS_EXPECT(listed == expected.first, "list('" + owner + "') must give the owner's tasks by id");
    HARNESS_EXPECT(kernel_.has_running(owner) == expected.second, "has_running('" + owner + "') disagrees");
  }
}

}  // namespace tasklane::property
