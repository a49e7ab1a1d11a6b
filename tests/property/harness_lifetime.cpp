// KernelHarness across kernel lifetimes: restart (snapshot -> new Kernel -> restore, with the
// round-trip identity of invariant 8), the end of a case (everything runs to its end: invariant
// 1), and the replay of every lifetime's trace through apply() (invariant 9).
#include <algorithm>
#include <deque>
#include <map>

#include "describe.hpp"
#include "harness.hpp"

namespace tasklane::property {

// What a restore must make of a snapshot: records that were running are orphaned, cancelled (they
// were asked to stop) or re-queued (their policy says so and attempts remain); all else is kept,
// but for the finished tasks beyond config.retained_terminal: the oldest are forgotten, those
// that were finished already first, then those the restore ended, each in the order they ended.
// Waiters first drop the dependencies that are gone (or already ended by this restore), by waiter
// id; then each running record resolved ends the waiters its mode does not take, breadth first.
Snapshot KernelHarness::expected_restore(const Snapshot& before) const {
  Snapshot after = before;
  std::vector<TaskId> finished;
  std::map<TaskId, TaskInfo*> records;
  for (TaskInfo& r : after.tasks) {
    records[r.id] = &r;
    if (is_terminal(r.status)) finished.push_back(r.id);
  }
  auto verdict = [](const TaskInfo& w, TaskId d, const TaskInfo* dep) -> std::optional<std::pair<TaskStatus, std::string>> {
    if (w.spec.after_mode == DependencyMode::AllFinished) return std::nullopt;
    const std::string name = "dependency " + to_string(d);
    if (!dep) return std::make_pair(TaskStatus::Failed, name + " was lost in a restart (it was not durable)");
    switch (dep->status) {
      case TaskStatus::Failed: return std::make_pair(TaskStatus::Failed, name + " failed: " + dep->error.value_or(""));
      case TaskStatus::TimedOut: return std::make_pair(TaskStatus::Failed, name + " timed out: " + dep->error.value_or(""));
      case TaskStatus::Cancelled: return std::make_pair(TaskStatus::Cancelled, name + " was cancelled");
      default: return std::nullopt;
    }
  };
  // A run of a series that this restore ends is followed by its next run as after any failed run
  // (harness_repeat.cpp): spawned at once, checked like any spawn, and persisted; a refusal ends
  // the series, and so does a run that never started (a waiter whose dependency was lost).
  std::uint64_t next_id = before.next_id;
  for (const TaskInfo& r : after.tasks) next_id = std::max(next_id, r.id.value + 1);
  std::vector<TaskInfo> next_runs;
  auto unfinished = [&](auto&& pred) {
    std::size_t n = 0;
    for (const TaskInfo& t : after.tasks) n += !is_terminal(t.status) && pred(t) ? 1 : 0;
    for (const TaskInfo& t : next_runs) n += pred(t) ? 1 : 0;
    return n;
  };
  auto follow = [&](TaskInfo& r) {
    if (!r.series || r.status == TaskStatus::Cancelled) return;
    if (r.spec.repeat->times && r.run >= *r.spec.repeat->times) return;
    if (unfinished([&](const TaskInfo& t) { return t.series == r.series; }) > 0) return;
    if (r.attempt == 0) {
      r.series_end = "series ended: run " + std::to_string(r.run) + " never started";
      return;
    }
    TaskSpec spec = r.spec;
    spec.after.clear();
    spec.after_mode = DependencyMode::AllSucceeded;
    std::uint64_t skipped = 0;
    const Time due = next_slot(r.spec, r.created_at, now_, skipped);
    spec.run_after = due - now_;
    std::optional<std::string> refusal;  // check_admission's order and words
    const auto& q = spec.quota;
    const auto used = q ? std::find_if(before.quotas.begin(), before.quotas.end(), [&](const QuotaUsage& u) { return u.key == q->key; })
                        : before.quotas.end();
    if (spec.name && unfinished([&](const TaskInfo& t) { return t.spec.owner == spec.owner && t.spec.name == spec.name; })) {
      refusal = "a running task named '" + *spec.name + "' already exists";
    } else if (spec.parent.task && !std::any_of(after.tasks.begin(), after.tasks.end(),
                                                [&](const TaskInfo& t) { return t.id == *spec.parent.task; })) {
      refusal = "parent task " + to_string(*spec.parent.task) + " finished long ago and is forgotten";
    } else if (unfinished([](const TaskInfo&) { return true; }) >= config_.capacity) {
      refusal = "queue is full (limit " + std::to_string(config_.capacity) + ")";
    } else if (q && q->max_attempts != 0 && used != before.quotas.end() && used->attempts >= q->max_attempts) {
      refusal = "attempt quota for '" + q->key + "' is used up (limit " + std::to_string(q->max_attempts) + ")";
    } else if (q && q->single_flight &&
               unfinished([&](const TaskInfo& t) { return t.spec.quota && t.spec.quota->key == q->key; }) > 0) {
      refusal = "a task with single-flight key '" + q->key + "' is already pending";
    }
    if (refusal) {
      r.series_end = "series ended: run " + std::to_string(r.run + 1) + " refused: " + *refusal;
      return;
    }
    TaskInfo next;
    next.id = TaskId{next_id++};
    next.spec = std::move(spec);
    next.created_at = now_;
    next.due = due;
    next.paused = held(next.spec);
    next.series = r.series;
    next.run = r.run + 1;
    next_runs.push_back(std::move(next));
  };
  auto end = [&](TaskInfo& r, TaskStatus status, std::optional<std::string> error) {
    r.status = status;
    r.finished_at = now_;
    r.cancel_requested = false;
    r.paused = false;
    // No flush survives a restart, so an error this restore ends a task with waits for the next one.
    r.error_unflushed = error && (status == TaskStatus::Failed || status == TaskStatus::TimedOut);
    r.undelivered.reset();
    if (error) r.error = std::move(error);
    r.waiting_for.clear();
    finished.push_back(r.id);
    follow(r);
  };
  for (TaskInfo& w : after.tasks) {
    if (w.status != TaskStatus::Pending || w.waiting_for.empty()) continue;
    std::vector<TaskId> kept;
    std::optional<std::pair<TaskStatus, std::string>> ends;
    for (const TaskId d : w.waiting_for) {
      const auto dep = records.find(d);
      const TaskInfo* found = dep == records.end() || d >= w.id ? nullptr : dep->second;
      if (found && !is_terminal(found->status)) {
        kept.push_back(d);
      } else if (!ends) {
        ends = verdict(w, d, found);
      }
    }
    w.waiting_for = kept;
    if (ends) end(w, ends->first, ends->second);
  }
  std::deque<TaskId> ended;
  for (TaskInfo& r : after.tasks) {
    if (r.status != TaskStatus::Running) continue;
    if (r.cancel_requested) {
      end(r, TaskStatus::Cancelled, std::nullopt);
    } else if (r.spec.retry.requeue_on_restart && r.attempt < r.spec.retry.max_attempts) {
      r.status = TaskStatus::Pending;
      r.due = now_;
      r.paused = held(r.spec);
    } else {
      end(r, TaskStatus::Failed, orphan_error);
    }
    if (is_terminal(r.status)) ended.push_back(r.id);
    while (!ended.empty()) {
      const TaskInfo& dep = *records.at(ended.front());
      const TaskId d = ended.front();
      ended.pop_front();
      for (TaskInfo& w : after.tasks) {
        auto& list = w.waiting_for;
        if (w.status != TaskStatus::Pending || std::find(list.begin(), list.end(), d) == list.end()) continue;
        list.erase(std::find(list.begin(), list.end(), d));
        if (const auto v = verdict(w, d, &dep)) {
          end(w, v->first, v->second);
          ended.push_back(w.id);
        }
      }
    }
  }
  if (finished.size() > config_.retained_terminal) {
    const std::set<TaskId> forgotten(finished.begin(), finished.end() - static_cast<std::ptrdiff_t>(config_.retained_terminal));
    std::erase_if(after.tasks, [&](const TaskInfo& r) { return forgotten.count(r.id) != 0; });
  }
  after.tasks.insert(after.tasks.end(), next_runs.begin(), next_runs.end());
  after.next_id = std::max(after.next_id, next_id);
  return after;
}

void KernelHarness::restart(Duration skew) {
  now_ += skew;
  const Snapshot snapshot = kernel_.snapshot();

  std::vector<TaskInfo> durable;
  for (const auto& [id, f] : tasks_) {
    if (f.in_kernel && f.spec.durable) durable.push_back(journal_.at(id));
  }
  HARNESS_EXPECT(snapshot.tasks == durable, "the snapshot must hold exactly the durable tasks, as last persisted");
  HARNESS_EXPECT(snapshot.next_id == next_id_, "the snapshot's next_id must be the next id to give");
  std::vector<QuotaUsage> quotas;
  for (const auto& [key, starts] : quota_starts_) quotas.push_back(QuotaUsage{key, starts, quota_last_start_.at(key)});
  HARNESS_EXPECT(snapshot.quotas == quotas, "the snapshot must hold every quota key's attempts and last start");
  HARNESS_EXPECT(snapshot.paused_owners == std::vector<std::string>(paused_owners_.begin(), paused_owners_.end()) &&
                     snapshot.paused_purposes == std::vector<std::string>(paused_purposes_.begin(), paused_purposes_.end()),
                 "the snapshot must hold the pause rules in force");

  {  // invariant 8, in a kernel that starts nothing so the restored records stay as restored
    Config probe_config = config_;
    probe_config.max_running = 0;
    probe_config.queued_work_runner = false;
    Kernel probe(probe_config);
    probe.restore(snapshot, now_);
    const Snapshot again = probe.snapshot();
    const bool any_running = std::any_of(snapshot.tasks.begin(), snapshot.tasks.end(),
                                         [](const TaskInfo& r) { return r.status == TaskStatus::Running; });
    Coverage::instance().hit(any_running ? "restart with running attempts" : "restart with nothing running");
    std::set<TaskId> kept;
    for (const TaskInfo& r : snapshot.tasks) kept.insert(r.id);
    const bool any_lost = std::any_of(snapshot.tasks.begin(), snapshot.tasks.end(), [&](const TaskInfo& r) {
      return std::any_of(r.waiting_for.begin(), r.waiting_for.end(), [&](TaskId d) { return kept.count(d) == 0; });
    });
    if (!any_running && !any_lost) {
      HARNESS_EXPECT(again == snapshot, "snapshot -> restore -> snapshot must be the identity when nothing runs");
    }
    HARNESS_EXPECT(again == expected_restore(snapshot),
                   "restore must keep every durable record, and orphan, cancel or re-queue only what was running");
  }

  lifetimes_.emplace_back();
  kernel_ = Kernel(config_);
  expected_stats_ = KernelStats{};
  stopping_ = false;
  stopped_ = false;
  seen_input_ = false;
  next_poll_.reset();
  runner_ = RunnerModel{};
  flushes_.clear();  // a flush does not survive its kernel: its waiter must be failed by the host
  claimed_by_.clear();
  // Errors no flush took yet survive in the records of durable tasks (TaskInfo::error_unflushed);
  // the flushes' claims do not: the restored live tasks are all unflushed again (below).
  std::erase_if(unflushed_, [&](const auto& entry) {
    const TaskFacts& f = tasks_.at(entry.first);
    return !(entry.second.terminal && entry.second.error && f.in_kernel && f.spec.durable);
  });
  for (auto& [id, u] : unflushed_) u.kept_across_restart = true;
  next_flush_ = 1;
  terminal_order_.clear();
  for (auto& [id, f] : tasks_) {
    if (!f.in_kernel || !f.spec.durable) {
      f.undelivered.clear();  // a durable task's record keeps the messages waiting for its start
      f.lost = f.lost || (f.in_kernel && f.phase != Phase::Terminal);
      f.in_kernel = false;
      f.indexed = false;
      continue;
    }
    if (f.phase == Phase::Terminal) terminal_order_.push_back(id);  // restore indexes these first, by id
    if (f.phase == Phase::Running) {
      f.phase = Phase::AttemptEnded;
      f.ended_by = EndedBy::Restore;
      f.deadline.reset();
      f.heartbeat_deadline.reset();
    }
    if (f.phase != Phase::Terminal) unflushed_[id] = UnflushedFacts{f.spec.key.to_optional(), false, std::nullopt};
    f.considered_at = now_;
  }
  expect_lost_dependencies_at_restore();

  begin_input(Input::Restore, Duration{0}, false);
  scope_.restoring = true;
  record(event::Restore{snapshot});
  kernel_.restore(snapshot, now_);
  process(drain());
  end_input();
}

void KernelHarness::finish_case() {
  // Paused work waits for a resume: lift every rule first (each one a checked input).
  const std::set<std::string> owners = paused_owners_;
  const std::set<std::string> purposes = paused_purposes_;
  for (const auto& o : owners) pause(pause_selector::Owner{o}, true, Duration{0});
  for (const auto& p : purposes) pause(pause_selector::Purpose{p}, true, Duration{0});
  // A series without `times` repeats until cancelled: cancel each (a checked input), so the case ends.
  std::vector<TaskId> endless;
  for (const auto& [id, f] : tasks_) {
    if (f.in_kernel && f.phase != Phase::Terminal && f.spec.repeat && !f.spec.repeat->times) endless.push_back(id);
  }
  for (const TaskId id : endless) abort(abort_selector::Task{id}, true, Duration{0});
  for (int round = 0; round < 4000; ++round) {
    if (kernel_.unfinished() == 0) break;
    if (kernel_.stopped()) {  // a stopped kernel starts nothing: bring the durable work back
      restart(Duration{0});
      continue;
    }
    std::vector<TaskId> running;
    for (const auto& [id, f] : tasks_) {
      if (f.in_kernel && f.phase == Phase::Running) running.push_back(id);
    }
    if (!running.empty()) {
      for (const TaskId id : running) {
        const TaskFacts& f = tasks_.at(id);
        if (f.phase == Phase::Running) {
          complete_attempt(id, f.attempt, Outcome::success(Json{{"done", id.value}}), Duration{0});
        }
      }
      continue;
    }
    const auto wake = kernel_.next_deadline();
    HARNESS_EXPECT(wake.has_value(), std::to_string(kernel_.unfinished()) +
                                         " tasks are unfinished, nothing runs and no timer is armed: they never end");
    tick_by(std::max(Duration{0}, *wake - now_));
  }
  HARNESS_EXPECT(kernel_.unfinished() == 0, "the kernel did not bring every task to an end");
  for (const auto& [id, f] : tasks_) {  // invariant 1
    HARNESS_EXPECT(f.lost || f.notifies == 1, to_string(id) + " had " + std::to_string(f.notifies) + " Notify commands");
  }
  check_owners();
  check_replay();
}

void KernelHarness::check_replay() {
  for (std::size_t l = 0; l < lifetimes_.size(); ++l) {
    const Lifetime& life = lifetimes_[l];
    Kernel replay(config_);
    for (std::size_t i = 0; i < life.events.size(); ++i) {
      apply(replay, life.events[i]);
      std::vector<Command> out;  // lent by drain(): the run itself polled
      replay.drain([&out](auto& c) { out.emplace_back(std::move(c)); });
      HARNESS_EXPECT(out == life.outputs[i], "replaying lifetime " + std::to_string(l) + " through apply(): event " +
                                                 std::to_string(i) + " (" + describe(life.events[i].event) +
                                                 ") gave other commands");
    }
    if (l + 1 < lifetimes_.size()) {
      const auto& restore = std::get<event::Restore>(lifetimes_[l + 1].events.front().event);
      HARNESS_EXPECT(replay.snapshot() == restore.snapshot, "the replay of lifetime " + std::to_string(l) +
                                                                " must reach the snapshot its restart took");
    }
  }
}

}  // namespace tasklane::property
