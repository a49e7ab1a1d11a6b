// InvariantChecker (see invariants.hpp). It keeps its own account of every task it has seen, built
// only from commands, and compares it with what the kernel says about itself after every input.
#include "tasklane/drivers/invariants.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace tasklane::sim {

namespace {

std::string key_text(const SequenceKey& k) { return "(" + k.agent + ", " + k.scope + ", " + k.purpose + ")"; }

}  // namespace

std::string format_time(Time at) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.3f ms", static_cast<double>(at.count()) / 1000.0);
  return buffer;
}

InvariantChecker::InvariantChecker(const Kernel& kernel) : kernel_(kernel) {}

// The kernel takes time that goes backwards as the last time it saw; so does the checker.
Time InvariantChecker::observe(Time at) {
  last_at_ = std::max({last_at_, at, kernel_.last_time()});
  return last_at_;
}

void InvariantChecker::violation(Time at, std::string what) {
  ++violation_count_;
  if (violations_.size() < max_kept) violations_.push_back("at " + format_time(at) + ": " + std::move(what));
}

InvariantChecker::Track InvariantChecker::make_track(const TaskInfo& info) const {
  Track t;
  t.key = info.spec.key.to_optional();
  t.owner = info.spec.owner;
  t.quota = info.spec.quota.to_optional();
  t.rate_limit = info.spec.rate_limit.to_optional();
  t.after = info.spec.after;
  t.after_mode = info.spec.after_mode;
  t.has_timeout = info.spec.timeout.has_value();
  if (info.spec.timeout) t.timeout = *info.spec.timeout;
  t.heartbeat = info.spec.heartbeat;
  t.durable = info.spec.durable;
  t.earliest = info.created_at + info.spec.run_after;
  return t;
}

// A task the checker has not seen yet is read from the kernel (it may already be forgotten, when
// Config::retained_terminal is tiny: then only the id is known).
InvariantChecker::Track& InvariantChecker::learn(TaskId id) {
  const auto it = tasks_.find(id);
  if (it != tasks_.end()) return it->second;
  Track t;
  if (const std::optional<TaskInfo> info = kernel_.get(id)) t = make_track(*info);
  Track& track = tasks_.emplace(id, std::move(t)).first->second;
  if (track.key) lanes_[*track.key].insert(id);
  return track;
}

void InvariantChecker::on_spawned(TaskId id) { (void)learn(id); }

void InvariantChecker::end_attempt(TaskId id, Track& track) {
  track.attempt_live = false;
  live_attempts_.erase(id);
}

void InvariantChecker::on_command(Time at_given, const Command& command) {
  const Time at = observe(at_given);
  std::visit(
      [&](const auto& c) {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, command::Start>) {
          on_start(at, c);
        } else if constexpr (std::is_same_v<C, command::Cancel>) {
          on_cancel(at, c);
        } else if constexpr (std::is_same_v<C, command::Notify>) {
          on_notify(at, c);
        } else if constexpr (std::is_same_v<C, command::FlushDone>) {
          if (!flushes_done_.insert(c.flush).second) {
            violation(at, "a second FlushDone for flush " + std::to_string(c.flush));
          }
        }
      },
      command);
}

void InvariantChecker::on_start(Time at, const command::Start& start) {
  const TaskId id = start.id;
  const std::string name = to_string(id);
  Track& track = learn(id);
  if (track.notified) violation(at, name + " started (attempt " + std::to_string(start.attempt) + ") after its Notify");
  if (start.attempt != track.attempt + 1) {
    violation(at, name + " started attempt " + std::to_string(start.attempt) + " after attempt " +
                      std::to_string(track.attempt));
  }
  if (at < track.earliest) violation(at, name + " started before its run_after (" + format_time(track.earliest) + ")");
  starts_this_input_.push_back({at, id});  // rule 8, judged once the input's own pause or resume is known
  // Only while the record still describes this attempt: one input may start an attempt and also end
  // it (a late input fires the due timer first, then completes what just started), and a retry
  // moves `due` on.
  if (const auto info = kernel_.glance(id); info && info->status == TaskStatus::Running && info->attempt == start.attempt &&
      at < info->due) {
    violation(at, name + " started before it was due (" + format_time(info->due) + ")");
  }
  for (const TaskId dep : track.after) {
    const auto known = tasks_.find(dep);
    if (known == tasks_.end()) continue;  // lost in a restart, or never seen: its end is unknown here
    if (!known->second.notified) {
      violation(at, name + " started before its dependency " + to_string(dep) + " ended");
    } else if (track.after_mode == DependencyMode::AllSucceeded && known->second.final_status != TaskStatus::Completed &&
               known->second.final_status != TaskStatus::Pending) {
      violation(at, name + " started though its dependency " + to_string(dep) + " ended " +
                        to_string(known->second.final_status));
    }
  }
  if (track.has_timeout && start.deadline != at + track.timeout) {
    violation(at, name + " started with a deadline that is not now + its timeout");
  }
  if (track.quota) {
    auto [last, first] = quota_last_start_.try_emplace(track.quota->key, at);
    if (!first) {
      if (at < last->second + track.quota->cooldown) {
        violation(at, name + " started under quota '" + track.quota->key + "' " + format_time(at - last->second) +
                          " after the previous start; the cooldown is " + format_time(track.quota->cooldown));
      }
      last->second = at;
    }
  }
  if (const auto& limit = track.rate_limit) {
    // A token every period T, room for `starts`: a start at t needs t >= tat - (starts - 1) * T.
    const Duration period{(limit->interval.count() + limit->starts - 1) / std::max<std::uint32_t>(limit->starts, 1)};
    auto [tat, first] = rate_tat_.try_emplace(limit->key, at);
    const Time allowed = tat->second - period * (std::max<std::uint32_t>(limit->starts, 1) - 1);
    if (!first && at < allowed) {
      violation(at, name + " started under rate limit '" + limit->key + "' with no token free (the next is due at " +
                        format_time(allowed) + ")");
    }
    tat->second = std::max(tat->second, at) + period;
  }
  if (track.key) {
    for (const TaskId other : lanes_[*track.key]) {
      if (other == id) continue;
      if (other < id) {
        violation(at, name + " started while " + to_string(other) + " of its key " + key_text(*track.key) +
                          " has not finished");
      } else if (tasks_.at(other).started) {
        violation(at, name + " started after " + to_string(other) + ", a later task of its key " + key_text(*track.key));
      }
    }
  }
  track.attempt = start.attempt;
  track.deadline = start.deadline;
  track.heartbeat_deadline.reset();
  if (track.heartbeat) track.heartbeat_deadline = at + *track.heartbeat;
  track.started = true;
  track.attempt_live = true;
  live_attempts_.insert(id);
}

void InvariantChecker::on_cancel(Time at, const command::Cancel& cancel) {
  const std::string name = to_string(cancel.id);
  Track& track = learn(cancel.id);
  if (!track.attempt_live || cancel.attempt != track.attempt) {
    violation(at, "Cancel (" + std::string(to_string(cancel.reason)) + ") of " + name + " attempt " +
                      std::to_string(cancel.attempt) + ", which is not running");
  }
  if (cancel.reason != CancelReason::TimedOut) return;
  std::optional<Time> end = track.deadline;
  if (track.heartbeat_deadline && (!end || *track.heartbeat_deadline < *end)) end = track.heartbeat_deadline;
  if (!end) {
    violation(at, name + " timed out, but its attempt has no deadline");
  } else if (at < *end) {
    violation(at, name + " timed out before its deadline " + format_time(*end));
  }
  end_attempt(cancel.id, track);  // the kernel no longer counts it, whatever the work does
}

void InvariantChecker::on_notify(Time at, const command::Notify& notify) {
  const TaskId id = notify.id;
  const std::string name = to_string(id);
  Track& track = learn(id);
  if (track.notified) violation(at, "a second Notify for " + name);
  if (!is_terminal(notify.status)) violation(at, "Notify for " + name + " with status " + to_string(notify.status));
  const bool is_error = notify.status == TaskStatus::Failed || notify.status == TaskStatus::TimedOut;
  if (is_error != notify.error.has_value()) {
    violation(at, "Notify for " + name + " (" + to_string(notify.status) + ") " +
                      (is_error ? "carries no error" : "carries an error"));
  }
  if (const auto info = kernel_.glance(id); info && info->status != notify.status) {
    violation(at, "Notify for " + name + " says " + to_string(notify.status) + ", the kernel says " + to_string(info->status));
  }
  track.notified = true;
  track.final_status = notify.status;
  end_attempt(id, track);
  if (track.key) {
    const auto lane = lanes_.find(*track.key);
    if (lane != lanes_.end()) {
      lane->second.erase(id);
      if (lane->second.empty()) lanes_.erase(lane);
    }
  }
  // A run of a repeating series: the next run, spawned in the same input, is accepted work too.
  if (notify.next_run) (void)learn(*notify.next_run);
}

// Rule 8 for the starts of the input just carried out, under the rules as the input left them (a
// resume starts what it releases in the same input); on_pause judges its input's starts first,
// since a pause fires what is due before its rule holds.
void InvariantChecker::check_paused_starts() {
  for (const auto& [at, id] : starts_this_input_) {
    const Track& track = tasks_.at(id);
    if (paused_owners_.count(track.owner)) violation(at, to_string(id) + " started while paused (owner '" + track.owner + "')");
    if (track.key && paused_purposes_.count(track.key->purpose)) {
      violation(at, to_string(id) + " started while paused (purpose '" + track.key->purpose + "')");
    }
  }
  starts_this_input_.clear();
}

void InvariantChecker::after_input(Time at_given) {
  const Time at = observe(at_given);
  check_paused_starts();
  const Config& config = kernel_.config();
  if (kernel_.running() > config.max_running) {
    violation(at, "running() is " + std::to_string(kernel_.running()) + ", over max_running " +
                      std::to_string(config.max_running));
  }
  if (kernel_.unfinished() > config.capacity) {
    violation(at, "unfinished() is " + std::to_string(kernel_.unfinished()) + ", over capacity " +
                      std::to_string(config.capacity));
  }
  // An attempt that failed and went back to pending ended without a command of its own.
  for (auto it = live_attempts_.begin(); it != live_attempts_.end();) {
    const auto info = kernel_.glance(*it);
    Track& track = tasks_.at(*it);
    if (info && info->status == TaskStatus::Running && info->attempt == track.attempt) {
      ++it;
      continue;
    }
    track.attempt_live = false;
    it = live_attempts_.erase(it);
  }
  if (live_attempts_.size() != kernel_.running()) {
    violation(at, "running() is " + std::to_string(kernel_.running()) + " but " + std::to_string(live_attempts_.size()) +
                      " started attempts are still running");
  }
}

void InvariantChecker::on_pause(const PauseSelector& which) {
  check_paused_starts();  // the pause input's own starts (due work it fires first) came before its rule
  if (const auto* o = std::get_if<pause_selector::Owner>(&which)) {
    paused_owners_.insert(o->owner);
  } else {
    paused_purposes_.insert(std::get<pause_selector::Purpose>(which).purpose);
  }
}

void InvariantChecker::on_resume(const PauseSelector& which) {
  if (const auto* o = std::get_if<pause_selector::Owner>(&which)) {
    paused_owners_.erase(o->owner);
  } else {
    paused_purposes_.erase(std::get<pause_selector::Purpose>(which).purpose);
  }
}

void InvariantChecker::on_restart(const Snapshot& restored, Restart how) {
  // The restored kernel holds the rules the snapshot kept (a crash may lose a change not yet written).
  paused_owners_ = {restored.paused_owners.begin(), restored.paused_owners.end()};
  paused_purposes_ = {restored.paused_purposes.begin(), restored.paused_purposes.end()};
  // A crash may lose the starts since the journal's last snapshot, and with them rate-limit tokens:
  // the restored kernel is at most as generous as a full bucket, which is what a cleared key allows.
  rate_tat_.clear();
  if (how == Restart::FromJournal) {
    restart_from_journal(restored);
    return;
  }
  const Time at = last_at_;
  std::map<TaskId, const TaskInfo*> records;
  for (const TaskInfo& r : restored.tasks) records.emplace(r.id, &r);

  for (auto it = tasks_.begin(); it != tasks_.end();) {
    const TaskId id = it->first;
    Track& track = it->second;
    track.attempt_live = false;
    const auto record = records.find(id);
    if (record == records.end()) {
      if (!track.notified && track.durable) violation(at, "durable " + to_string(id) + " is missing from the snapshot");
      if (track.notified) {
        ++it;
        continue;
      }
      if (track.key) {
        const auto lane = lanes_.find(*track.key);
        if (lane != lanes_.end()) {
          lane->second.erase(id);
          if (lane->second.empty()) lanes_.erase(lane);
        }
      }
      it = tasks_.erase(it);  // not durable: it died with the process, no Notify will come
      continue;
    }
    const TaskInfo& info = *record->second;
    if (track.notified && !is_terminal(info.status)) {
      violation(at, "the snapshot has " + to_string(id) + " " + to_string(info.status) + " after its Notify");
    }
    if (!track.notified && is_terminal(info.status)) {
      violation(at, "the snapshot has " + to_string(id) + " " + to_string(info.status) + " but no Notify was seen");
    }
    if (track.started && info.attempt != track.attempt) {
      violation(at, "the snapshot has " + to_string(id) + " at attempt " + std::to_string(info.attempt) +
                        ", the last Start was attempt " + std::to_string(track.attempt));
    }
    ++it;
  }
  live_attempts_.clear();
  flushes_done_.clear();  // flush ids are the old kernel's; the fresh one counts from 1 again

  for (const auto& [id, info] : records) {
    if (tasks_.count(id)) continue;
    Track track = make_track(*info);
    track.attempt = info->attempt;
    track.started = info->attempt > 0;
    track.notified = is_terminal(info->status);  // it ended before the checker was watching
    track.final_status = info->status;
    if (track.key && !track.notified) lanes_[*track.key].insert(id);
    tasks_.emplace(id, std::move(track));
  }
}

// The journal is a prefix of the records the kernel asked for, so the restored records describe a
// state the kernel really was in: every track is reset to its record. Tasks without a record are
// forgotten, notified or not: the simulation's restored kernel counts ids on from the records alone,
// so it may give their ids to new tasks. (The real drivers do not: FileJournal keeps id
// reservations, see RuntimeCore; the simulation's durable store does not model them.)
void InvariantChecker::restart_from_journal(const Snapshot& restored) {
  std::map<TaskId, const TaskInfo*> records;
  for (const TaskInfo& r : restored.tasks) records.emplace(r.id, &r);
  lanes_.clear();
  live_attempts_.clear();
  flushes_done_.clear();
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    const auto record = records.find(it->first);
    if (record == records.end()) {
      it = tasks_.erase(it);
      continue;
    }
    Track& track = it->second;
    const TaskInfo& info = *record->second;
    track = make_track(info);
    track.attempt = info.attempt;
    track.started = info.attempt > 0;
    track.notified = is_terminal(info.status);
    track.final_status = info.status;
    ++it;
  }
  for (const auto& [id, info] : records) {
    if (tasks_.count(id)) continue;
    Track track = make_track(*info);
    track.attempt = info->attempt;
    track.started = info->attempt > 0;
    track.notified = is_terminal(info->status);
    track.final_status = info->status;
    tasks_.emplace(id, std::move(track));
  }
  for (const auto& [id, track] : tasks_) {
    if (track.key && !track.notified) lanes_[*track.key].insert(id);
  }
  // Cooldowns restart from the quota usage the store kept (FileJournal keeps it in snapshots only).
  quota_last_start_.clear();
  for (const QuotaUsage& q : restored.quotas) {
    if (q.last_start) quota_last_start_[q.key] = *q.last_start;
  }
}

std::vector<TaskId> InvariantChecker::unnotified() const {
  std::vector<TaskId> out;
  for (const auto& [id, track] : tasks_) {
    if (!track.notified) out.push_back(id);
  }
  return out;
}

void InvariantChecker::on_heartbeat(Time at, TaskId id, std::uint32_t attempt) {
  const auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Track& track = it->second;
  // A beat at or after the deadline came too late: the kernel fired the timeout first.
  if (!track.attempt_live || track.attempt != attempt || !track.heartbeat || !track.heartbeat_deadline ||
      at >= *track.heartbeat_deadline) {
    return;
  }
  track.heartbeat_deadline = std::max(at, kernel_.last_time()) + *track.heartbeat;
}

void watch(Simulation& sim, InvariantChecker& checker) {
  sim.on_command([&checker](Time at, const Command& c) { checker.on_command(at, c); });
  sim.on_input([&checker](const TimedEvent& e) {
    if (const auto* beat = std::get_if<event::Heartbeat>(&e.event)) checker.on_heartbeat(e.at, beat->id, beat->attempt);
    if (const auto* pause = std::get_if<event::Pause>(&e.event)) checker.on_pause(pause->which);
    if (const auto* resume = std::get_if<event::Resume>(&e.event)) checker.on_resume(resume->which);
    checker.after_input(e.at);
  });
}

}  // namespace tasklane::sim
