// KernelHarness, the command walk: every command the kernel emits is checked against the ledger
// at the moment it appears, then applied to it. This is where "never a Start after the Notify",
// "at most max_running", "same key: id order, no overlap", "nothing before run_after or inside a
// cooldown", "a timeout not before its deadline" and "FlushDone exactly when the last task ends"
// are held.
#include <algorithm>

#include "describe.hpp"
#include "harness.hpp"

namespace tasklane::property {
namespace {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Pending: return "pending";
    case Phase::Running: return "running";
    case Phase::AttemptEnded: return "between attempts";
    case Phase::Terminal: return "terminal";
  }
  return "?";
}

bool is_error(TaskStatus s) { return s == TaskStatus::Failed || s == TaskStatus::TimedOut; }

// The kernel names an interval in ms when whole, else in us (an independent spelling of heartbeats.hpp's).
std::string heartbeat_text(Duration d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " ms" : std::to_string(d.count()) + " us";
}

}  // namespace

void KernelHarness::process(const std::vector<Command>& batch) {
  check_successor_persists();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::visit(overloaded{
                   [&](const command::Start& c) { on_start(c); },
                   [&](const command::Cancel& c) { on_cancel(c); },
                   [&](const command::Persist& c) { on_persist(c); },
                   [&](const command::PersistSnapshot& c) {
                     HARNESS_EXPECT(stopping_ && !stopped_, "PersistSnapshot outside a shutdown");
                     HARNESS_EXPECT(i + 1 < batch.size() && std::holds_alternative<command::Stopped>(batch[i + 1]),
                                    "PersistSnapshot must be followed by Stopped");
                     scope_.persisted_snapshot = c.snapshot;
                     Coverage::instance().hit("persist snapshot");
                   },
                   [&](const command::Notify& c) { on_notify(c); },
                   [&](const command::Deliver& c) { on_deliver(c); },
                   [&](const command::FlushDone& c) { on_flush_done(c, batch, i); },
                   [&](const command::Stopped&) {
                     HARNESS_EXPECT(stopping_ && !stopped_, "Stopped outside a shutdown, or twice");
                     HARNESS_EXPECT(i > 0 && std::holds_alternative<command::PersistSnapshot>(batch[i - 1]),
                                    "Stopped must follow PersistSnapshot");
                     stopped_ = true;
                     next_poll_.reset();
                     runner_.stop();
                   },
                   [&](const command::RunQueuedWork& c) { on_run_queued_work(c); },
               },
               batch[i]);
  }
  check_successor_persists();
}

void KernelHarness::on_start(const command::Start& c) {
  TaskFacts* f = live_facts(c.id);
  HARNESS_EXPECT(f != nullptr, "Start for a task the kernel does not have: " + to_string(c.id));
  HARNESS_EXPECT(!stopping_, "Start of " + to_string(c.id) + " after shutdown");
  HARNESS_EXPECT(f->phase == Phase::Pending || f->phase == Phase::AttemptEnded,
                 "Start of " + to_string(c.id) + " while it is " + phase_name(f->phase) +
                     " (never a Start after the Notify, never two attempts at once)");
  HARNESS_EXPECT(c.attempt == f->attempt + 1, "attempts count 1, 2, ...: got #" + std::to_string(c.attempt));
  HARNESS_EXPECT(c.kind == f->spec.kind && c.payload == f->spec.payload && c.inbox == f->spec.inbox,
                 "Start must carry the spec's kind, payload and inbox");
  const std::optional<Time> deadline =
      f->spec.timeout ? std::optional<Time>(now_ + *f->spec.timeout) : std::nullopt;
  HARNESS_EXPECT(c.deadline == deadline, "the attempt's deadline must be its start + timeout");
  HARNESS_EXPECT(now_ >= f->created_at + f->spec.run_after,
                 to_string(c.id) + " started before created_at + run_after");
  if (f->phase == Phase::Pending) HARNESS_EXPECT(now_ >= f->due, to_string(c.id) + " started before its due time");
  HARNESS_EXPECT(f->waiting_for.empty() && !f->dependency_verdict,
                 to_string(c.id) + " started before each of its dependencies ended, or though one ended it");
  if (!f->spec.after.empty()) Coverage::instance().hit("start of a waiter");
  HARNESS_EXPECT(!held(f->spec), to_string(c.id) + " started while a pause rule holds it");
  if (f->resumed) Coverage::instance().hit("start after a resume");
  f->resumed = false;

  std::size_t running = 0;
  for (const auto& [id, other] : tasks_) {
    if (other.in_kernel && other.phase == Phase::Running) ++running;
  }
  HARNESS_EXPECT(running < config_.max_running,
                 "Start of " + to_string(c.id) + " makes more than max_running attempts run at once");

  if (f->spec.key) {  // invariant 3
    for (const auto& [id, other] : tasks_) {
      if (id < c.id && other.in_kernel && other.spec.key == f->spec.key) Coverage::instance().hit("start after its lane's earlier task");
      if (id == c.id || !other.in_kernel || other.spec.key != f->spec.key) continue;
      HARNESS_EXPECT(other.phase != Phase::Running,
                     to_string(c.id) + " started while " + to_string(id) + " of the same key runs");
      HARNESS_EXPECT(id > c.id || other.phase == Phase::Terminal,
                     to_string(c.id) + " started before the earlier " + to_string(id) + " of its key ended");
    }
  }
  if (const auto& quota = f->spec.quota) {  // invariant 5: cooldown; and the attempt quota
    if (const auto last = quota_last_start_.find(quota->key); last != quota_last_start_.end()) {
      HARNESS_EXPECT(now_ >= last->second + quota->cooldown,
                     to_string(c.id) + " started inside the cooldown of quota '" + quota->key + "'");
    }
    std::uint32_t& starts = quota_starts_[quota->key];
    HARNESS_EXPECT(quota->max_attempts == 0 || starts < quota->max_attempts,
                   to_string(c.id) + " started beyond the attempt quota of '" + quota->key + "'");
    ++starts;
    quota_last_start_[quota->key] = now_;
  }
  if (const auto& limit = f->spec.rate_limit) {  // a token per start, and the next token in priority order
    HARNESS_EXPECT(rate_token_free(*limit), to_string(c.id) + " started under rate limit '" + limit->key +
                                                "' with no token free (the next one is due at " +
                                                describe(rate_next_token(*limit)) + ")");
    for (const auto& [id, other] : tasks_) {
      if (id == c.id || !other.spec.rate_limit || other.spec.rate_limit->key != limit->key) continue;
      if (!ready_but_for_tokens(id, other)) continue;
      Coverage::instance().hit("rate-limited start while others of its key wait");
      HARNESS_EXPECT(other.spec.priority < f->spec.priority || (other.spec.priority == f->spec.priority && id > c.id),
                     to_string(c.id) + " took a token of '" + limit->key + "' while " + to_string(id) +
                         ", before it in priority order, waited for one");
    }
    const Duration period{(limit->interval.count() + limit->starts - 1) / limit->starts};
    const auto tat = rate_tat_.find(limit->key);
    rate_tat_[limit->key] = (tat == rate_tat_.end() ? now_ : std::max(tat->second, now_)) + period;
    Coverage::instance().hit("rate-limited start");
  }
  // Between attempts and started again in one input: it waited for a retry with no backoff.
  if (f->phase == Phase::AttemptEnded && f->ended_by != EndedBy::Restore) ++expected_stats_.retried;
  Coverage::instance().hit(c.attempt > 1 ? "start of a retry" : "start");
  if (f->ended_by == EndedBy::Restore) Coverage::instance().hit("re-queued at restore");
  if (!f->undelivered.empty()) Coverage::instance().hit("start with messages waiting");
  f->phase = Phase::Running;
  f->ended_by = EndedBy::None;
  f->attempt = c.attempt;
  f->deadline = deadline;
  f->heartbeat_deadline = f->spec.heartbeat ? std::optional<Time>(now_ + *f->spec.heartbeat) : std::nullopt;
  ++expected_stats_.started;
  scope_.started.push_back(c.id);
}

void KernelHarness::on_cancel(const command::Cancel& c) {
  TaskFacts* f = live_facts(c.id);
  HARNESS_EXPECT(f != nullptr, "Cancel for a task the kernel does not have: " + to_string(c.id));
  HARNESS_EXPECT(f->phase == Phase::Running && c.attempt == f->attempt,
                 "Cancel for " + to_string(c.id) + "#" + std::to_string(c.attempt) + " which is not running");
  Coverage::instance().hit(std::string("cancel ") + to_string(c.reason));
  switch (c.reason) {
    case CancelReason::TimedOut:
      HARNESS_EXPECT(scope_.fires_timers, "a timeout fired in an input that fires no timers");
    {
      const auto end = attempt_end(*f);
      HARNESS_EXPECT(end && now_ >= *end, to_string(c.id) + " timed out before its deadline");
      // The deadline that passed first names the end; at a tie, the per-attempt timeout.
      const bool by_timeout = f->deadline && *f->deadline == *end;
      f->timeout_error = by_timeout ? "timed out after " + std::to_string(f->spec.timeout->count() / 1000) + " ms"
                                    : "heartbeat timeout: no heartbeat within " + heartbeat_text(*f->spec.heartbeat);
      if (!by_timeout) {
        ++expected_stats_.heartbeat_timeouts;
        Coverage::instance().hit("cancel timed_out by a missed heartbeat");
      }
      f->phase = Phase::AttemptEnded;
      f->ended_by = EndedBy::Timeout;
      f->deadline.reset();
      f->heartbeat_deadline.reset();
      ++expected_stats_.attempt_timeouts;
      break;
    }
    case CancelReason::Requested:
      HARNESS_EXPECT(scope_.input == Input::Abort && scope_.selected.count(c.id) && !f->cancel_requested,
                     "Cancel{requested} for " + to_string(c.id) + " which no abort selected, or twice");
      f->cancel_requested = true;
      break;
    case CancelReason::Shutdown:
      HARNESS_EXPECT(scope_.shutdown == ShutdownMode::Cancel && !f->cancel_requested,
                     "Cancel{shutdown} outside shutdown(Cancel), or twice");
      f->cancel_requested = true;
      break;
  }
}

void KernelHarness::on_notify(const command::Notify& c) {
  TaskFacts* f = live_facts(c.id);
  HARNESS_EXPECT(f != nullptr, "Notify for a task the kernel does not have: " + to_string(c.id));
  HARNESS_EXPECT(f->notifies == 0, "a second Notify for " + to_string(c.id));
  HARNESS_EXPECT(f->phase == Phase::Pending || f->phase == Phase::AttemptEnded,
                 "Notify for " + to_string(c.id) + " while it is " + phase_name(f->phase));
  HARNESS_EXPECT(is_terminal(c.status) && c.owner == f->spec.owner, "Notify must name the owner and a terminal status");
  HARNESS_EXPECT(c.error.has_value() == is_error(c.status), "Notify carries an error exactly for failed and timed_out");
  HARNESS_EXPECT(c.status == TaskStatus::Completed || c.result.is_null(), "only a completed task has a result");
  const bool quota_failure = c.status == TaskStatus::Failed && c.error && c.error->rfind("attempt quota for '", 0) == 0;
  if (quota_failure) {
    const auto& q = f->spec.quota;
    const auto used = q ? quota_starts_.find(q->key) : quota_starts_.end();
    HARNESS_EXPECT(q && q->max_attempts != 0 && used != quota_starts_.end() && used->second >= q->max_attempts,
                   to_string(c.id) + " failed its attempt quota while attempts were left");
  }
  const std::string name = to_string(c.id) + " ended " + to_string(c.status);
  if (f->phase == Phase::Pending) {
    const bool replaced = c.status == TaskStatus::Cancelled && scope_.input == Input::Spawn && scope_.replaced == c.id;
    if (const auto& v = f->dependency_verdict) {
      HARNESS_EXPECT(c.status == v->first && (c.status != TaskStatus::Failed || c.error == v->second),
                     name + " '" + c.error.value_or("") + "', but its dependency's end says " + to_string(v->first) + " '" +
                         v->second + "'");
    } else {
      HARNESS_EXPECT((c.status == TaskStatus::Cancelled && scope_.input == Input::Abort && scope_.selected.count(c.id)) ||
                         quota_failure || replaced,
                     name + ": a task between attempts only ends by an abort, its attempt quota, a dedup replacement"
                            " or a dependency");
    }
  } else {
    switch (f->ended_by) {
      case EndedBy::Completion:
        HARNESS_EXPECT(c.status != TaskStatus::TimedOut, name + " on a completion");
        HARNESS_EXPECT(c.status != TaskStatus::Completed || (scope_.completed == c.id && scope_.completed_ok),
                       name + " without a successful completion");
        HARNESS_EXPECT((c.status == TaskStatus::Cancelled) == f->cancel_requested,
                       name + ": a task asked to stop ends Cancelled, and only such a task");
        break;
      case EndedBy::Timeout:
        HARNESS_EXPECT((c.status == TaskStatus::Cancelled) == f->cancel_requested,
                       name + " on a timeout: a task asked to stop ends Cancelled, and only such a task");
        HARNESS_EXPECT(c.status == TaskStatus::Cancelled || quota_failure ||
                           (c.status == TaskStatus::TimedOut && f->attempt >= f->spec.retry.max_attempts),
                       name + " on a timeout with attempts left");
        if (c.status == TaskStatus::TimedOut) {
          const std::string& expected = f->timeout_error;
          HARNESS_EXPECT(c.error == expected, "a timeout's error is '" + expected + "', got '" + c.error.value_or("") + "'");
        }
        break;
      case EndedBy::Restore: {
        const bool requeue = f->spec.retry.requeue_on_restart && f->attempt < f->spec.retry.max_attempts;
        HARNESS_EXPECT(f->cancel_requested ? c.status == TaskStatus::Cancelled
                                           : requeue ? quota_failure : c.status == TaskStatus::Failed && c.error == orphan_error,
                       name + " at restore: a running task is orphaned unless it asked to stop or may be re-queued"
                              " (and then only its attempt quota can end it at once)");
        break;
      }
      case EndedBy::None:
        HARNESS_EXPECT(false, name + " with no reason for its attempt to end");
    }
    if (quota_failure && f->ended_by != EndedBy::Restore) ++expected_stats_.retried;  // re-queued, then refused
  }
  Coverage::instance().hit(std::string("notify ") + to_string(c.status));
  if (quota_failure) Coverage::instance().hit("attempt quota used up at start");
  if (c.error == orphan_error) Coverage::instance().hit("orphaned at restore");
  switch (c.status) {
    case TaskStatus::Completed: ++expected_stats_.completed; break;
    case TaskStatus::Failed: ++expected_stats_.failed; break;
    case TaskStatus::Cancelled: ++expected_stats_.cancelled; break;
    case TaskStatus::TimedOut: ++expected_stats_.timed_out; break;
    default: break;
  }
  if (scope_.restoring && c.status == TaskStatus::Failed && c.error == orphan_error) ++expected_stats_.orphaned;
  f->phase = Phase::Terminal;
  f->ended_by = EndedBy::None;
  f->notifies = 1;
  f->final_status = c.status;
  f->final_error = c.error;
  f->final_result = c.result;
  if (f->dependency_verdict) f->final_error = f->dependency_verdict->second;  // a cancelled waiter keeps its reason
  f->dependency_verdict.reset();
  f->waiting_for.clear();
  f->cancel_requested = false;
  f->deadline.reset();
  f->heartbeat_deadline.reset();
  f->undelivered.clear();
  expect_next_run(c.id, *f, c.status);  // the kernel spawned it before this Notify
  note_terminal_for_flushes(c.id, c.error);
  terminal_order_.push_back(c.id);
  hand_to_waiters(c.id, c.status, c.error);
}

// Mirrors what a flush knows about a task that just ended (seed 000): a task a flush waits for
// leaves its wait set; one no flush took keeps its error for the next flush.
void KernelHarness::note_terminal_for_flushes(TaskId id, const std::optional<std::string>& error) {
  if (const auto claimed = claimed_by_.find(id); claimed != claimed_by_.end()) {
    FlushFacts& flush = flushes_.at(claimed->second);
    claimed_by_.erase(claimed);
    flush.live.erase(id);
    if (error) flush.note_error(id, *error);
    if (flush.live.empty()) flush.emptied_by = id;
    return;
  }
  const auto it = unflushed_.find(id);
  if (it == unflushed_.end()) return;
  if (!error) {
    unflushed_.erase(it);
    return;
  }
  it->second.terminal = true;
  it->second.error = error;
}

// A flush is reported right after the Notify of the last task it waited for, or at once when it
// waited for none (invariant 7, the "not earlier, not later" halves).
void KernelHarness::on_flush_done(const command::FlushDone& c, const std::vector<Command>& batch, std::size_t at) {
  const auto it = flushes_.find(c.flush);
  HARNESS_EXPECT(it != flushes_.end(), "FlushDone for flush " + std::to_string(c.flush) + " which is not waiting");
  FlushFacts& flush = it->second;
  HARNESS_EXPECT(flush.live.empty(), "FlushDone for flush " + std::to_string(c.flush) + " while " +
                                         (flush.live.empty() ? std::string() : to_string(*flush.live.begin())) +
                                         ", which it waits for, is not terminal");
  const bool at_once = scope_.new_flush == c.flush && !flush.emptied_by;
  const auto* previous = at > 0 ? std::get_if<command::Notify>(&batch[at - 1]) : nullptr;
  HARNESS_EXPECT(at_once || (previous && flush.emptied_by == previous->id),
                 "FlushDone for flush " + std::to_string(c.flush) + " must follow the Notify of the last task it waited for");
  Coverage::instance().hit(at_once ? "flush done at once" : "flush done with its last task");
  if (c.error) Coverage::instance().hit("flush done with an error");
  const std::optional<std::string> expected =
      flush.first_error_task ? std::optional<std::string>(flush.first_error) : std::nullopt;
  HARNESS_EXPECT(c.error == expected, "flush " + std::to_string(c.flush) + " must report the first error (lowest id) '" +
                                          expected.value_or("none") + "', got '" + c.error.value_or("none") + "'");
  flushes_.erase(it);
}

void KernelHarness::on_persist(const command::Persist& c) {
  HARNESS_EXPECT(c.record.spec.durable, "Persist for a task that is not durable: " + to_string(c.record.id));
  if (live_facts(c.record.id) == nullptr && c.record.id.value == next_id_ && c.record.series) {
    successor_persists_[c.record.id] = c.record;  // a next run: its predecessor's Notify follows in this batch
    return;
  }
  HARNESS_EXPECT(live_facts(c.record.id) != nullptr, "Persist for a task the kernel does not have");
  const auto unflushed = unflushed_.find(c.record.id);
  const bool error_waits = unflushed != unflushed_.end() && unflushed->second.terminal && unflushed->second.error;
  // A record retention forgets in this input is written once more without the mark (checked in
  // forget_oldest_terminal); its earlier records in the same batch carry it.
  const auto queued = std::find(terminal_order_.begin(), terminal_order_.end(), c.record.id);
  const bool forgotten_now =
      queued != terminal_order_.end() &&
      static_cast<std::size_t>(queued - terminal_order_.begin()) + config_.retained_terminal < terminal_order_.size();
  HARNESS_EXPECT(c.record.error_unflushed == error_waits || (forgotten_now && !c.record.error_unflushed),
                 "the record of " + to_string(c.record.id) + " must say whether its error waits for a flush (" +
                     (error_waits ? "it does" : "it does not") + ")");
  if (error_waits) Coverage::instance().hit("a record keeps an error for the next flush");
  const TaskFacts& f = *live_facts(c.record.id);
  std::deque<Json> in_record;
  if (c.record.undelivered) {
    for (const InboxMessage& m : *c.record.undelivered) {
      HARNESS_EXPECT(m.from == f.spec.owner, "a message in the record of " + to_string(c.record.id) + " from someone other than the owner who sent it");
      in_record.push_back(m.message);
    }
  }
  HARNESS_EXPECT(in_record == (f.phase == Phase::Running ? std::deque<Json>{} : f.undelivered),
                 "the record of " + to_string(c.record.id) + " must hold exactly the messages waiting for its start");
  if (!in_record.empty()) Coverage::instance().hit("a record keeps messages for the start");
  journal_[c.record.id] = c.record;
}

void KernelHarness::on_deliver(const command::Deliver& c) {
  TaskFacts* f = live_facts(c.to);
  HARNESS_EXPECT(f != nullptr && f->phase == Phase::Running && f->attempt == c.attempt,
                 "Deliver to " + to_string(c.to) + "#" + std::to_string(c.attempt) + " which is not running");
  HARNESS_EXPECT(c.from == f->spec.owner, "Deliver from someone other than the owner who sent it");
  HARNESS_EXPECT(!f->undelivered.empty() && f->undelivered.front() == c.message,
                 "Deliver of " + c.message.dump() + " which was not the next message sent to " + to_string(c.to));
  f->undelivered.pop_front();
  Coverage::instance().hit("deliver");
}

// Checked against the runner model at the end of the input (the model also says which requests
// are outstanding and which sessions are in flight at each point of the input).
void KernelHarness::on_run_queued_work(const command::RunQueuedWork& c) {
  Coverage::instance().hit("run queued work: " + c.reason);
  scope_.runs.push_back(c);
}

}  // namespace tasklane::property
