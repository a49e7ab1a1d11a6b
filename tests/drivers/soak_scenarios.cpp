// ScenarioDetector (see soak_scenarios.hpp): reads the stream, keeps just enough per-task state to
// recognise each scenario, and forgets it at a restart.
#include "soak_scenarios.hpp"

#include <type_traits>
#include <variant>

namespace tasklane::sim {

const char* to_string(Scenario s) {
  switch (s) {
    case Scenario::AbortWhileRunning: return "abort while running";
    case Scenario::CompletionAfterTimeout: return "completion after timeout";
    case Scenario::CrashMidAppend: return "crash in the middle of an append";
    case Scenario::TornTail: return "torn tail";
    case Scenario::CancelTreeWhileChildRetries: return "cancel tree while a child retries";
    case Scenario::FlushWhileLaneBlocked: return "flush while a key lane is blocked";
    case Scenario::DuplicatedCompletion: return "duplicated completion";
    case Scenario::StaleCompletion: return "stale completion";
    case Scenario::PersistError: return "persist error";
    case Scenario::LateTimeout: return "timeout fired late";
    case Scenario::EarlyTick: return "tick before the deadline";
    case Scenario::HangEndedByTimeout: return "hanging work ended by its timeout";
    case Scenario::OrphanedByRestart: return "running task orphaned by a restart";
    case Scenario::ShutdownCancelsRunning: return "shutdown cancels running work";
    case Scenario::WaiterStarts: return "a waiter starts after its dependencies";
    case Scenario::WaiterFailedByDependency: return "a failed dependency fails its waiter";
    case Scenario::ResumeStartsPausedWork: return "a resume starts paused work";
    case Scenario::SeriesNextRunStarts: return "a repeating task's next run starts";
  }
  return "?";
}

ScenarioDetector::ScenarioDetector(Simulation& sim) : sim_(sim) {
  sim.on_command([this](Time at, const Command& c) { command(at, c); });
  sim.on_input([this](const TimedEvent& e) { input(e); });
  sim.on_fault([this](const FaultRecord& f) { fault(f); });
}

void ScenarioDetector::note_if_paused(TaskId id) {
  if (const std::optional<TaskInfo> info = sim_.kernel().get(id); info && info->paused) paused_.insert(id);
}

void ScenarioDetector::on_spawned(TaskId id) {
  live_.insert(id);
  note_if_paused(id);
  const std::optional<TaskInfo> info = sim_.kernel().get(id);
  if (!info || !info->spec.key || is_terminal(info->status)) return;
  key_of_[id] = *info->spec.key;
  if (info->status == TaskStatus::Pending) {
    waiting_[*info->spec.key].insert(id);
  } else {
    running_[*info->spec.key].insert(id);
  }
}

void ScenarioDetector::on_restart() {
  this_input_.clear();
  last_start_.clear();
  deadline_.clear();
  timed_out_.clear();
  completed_.clear();
  hung_.clear();
  retrying_.clear();
  waiting_.clear();
  running_.clear();
  key_of_.clear();
  live_.clear();
  paused_.clear();
}

void ScenarioDetector::forget_task(TaskId id) {
  retrying_.erase(id);
  const auto key = key_of_.find(id);
  if (key == key_of_.end()) return;
  waiting_[key->second].erase(id);
  running_[key->second].erase(id);
  key_of_.erase(key);
}

bool ScenarioDetector::lane_blocked() const {
  for (const auto& [key, ids] : running_) {
    if (ids.empty()) continue;
    const auto waiting = waiting_.find(key);
    if (waiting != waiting_.end() && !waiting->second.empty()) return true;
  }
  return false;
}

void ScenarioDetector::command(Time at, const Command& c) {
  this_input_.push_back(c);
  if (const auto* s = std::get_if<command::Start>(&c)) {
    if (const auto it = last_start_.find(s->id); it != last_start_.end() && s->attempt > it->second) {
      retrying_.insert(s->id);
    }
    last_start_[s->id] = s->attempt;
    if (const std::optional<TaskInfo> info = sim_.kernel().get(s->id); info && !info->spec.after.empty() && s->attempt == 1) {
      hit(Scenario::WaiterStarts);
    }
    if (const std::optional<TaskInfo> info = sim_.kernel().get(s->id); info && info->run >= 2 && s->attempt == 1) {
      hit(Scenario::SeriesNextRunStarts);
    }
    if (s->deadline) {
      deadline_[s->id] = *s->deadline;
    } else {
      deadline_.erase(s->id);
    }
    if (const auto key = key_of_.find(s->id); key != key_of_.end()) {
      waiting_[key->second].erase(s->id);
      running_[key->second].insert(s->id);
    }
  } else if (const auto* cancel = std::get_if<command::Cancel>(&c)) {
    if (cancel->reason == CancelReason::TimedOut) {
      timed_out_.insert({cancel->id, cancel->attempt});
      if (const auto d = deadline_.find(cancel->id); d != deadline_.end() && at > d->second) hit(Scenario::LateTimeout);
      if (hung_.count({cancel->id, cancel->attempt})) hit(Scenario::HangEndedByTimeout);
    }
  } else if (const auto* n = std::get_if<command::Notify>(&c)) {
    if (n->next_run) {
      live_.insert(*n->next_run);
      note_if_paused(*n->next_run);
    }
    if (n->status == TaskStatus::Failed && n->error && n->error->find("orphaned") != std::string::npos) {
      hit(Scenario::OrphanedByRestart);
    }
    if (n->status == TaskStatus::Failed && n->error && n->error->rfind("dependency ", 0) == 0) {
      hit(Scenario::WaiterFailedByDependency);
    }
  }
}

void ScenarioDetector::input(const TimedEvent& e) {
  std::vector<Command> commands;
  commands.swap(this_input_);
  auto any_cancel = [&](CancelReason reason) {
    for (const auto& c : commands) {
      if (const auto* x = std::get_if<command::Cancel>(&c); x && x->reason == reason) return true;
    }
    return false;
  };
  std::visit(
      [&](const auto& ev) {
        using E = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<E, event::Complete>) {
          const Attempt attempt{ev.id, ev.attempt};
          if (timed_out_.count(attempt)) hit(Scenario::CompletionAfterTimeout);
          if (!completed_.insert(attempt).second) hit(Scenario::DuplicatedCompletion);
          const auto last = last_start_.find(ev.id);
          if (last == last_start_.end() || last->second > ev.attempt) hit(Scenario::StaleCompletion);
          // A failed attempt that goes back to pending is waiting for its retry.
          if (const std::optional<TaskInfo> info = sim_.kernel().get(ev.id); info && info->status == TaskStatus::Pending && info->attempt > 0) {
            retrying_.insert(ev.id);
            note_if_paused(ev.id);  // a retry under a pause rule waits paused
            if (const auto key = key_of_.find(ev.id); key != key_of_.end()) {
              running_[key->second].erase(ev.id);
              waiting_[key->second].insert(ev.id);
            }
          }
        } else if constexpr (std::is_same_v<E, event::Abort>) {
          if (any_cancel(CancelReason::Requested)) hit(Scenario::AbortWhileRunning);
          if (const auto* tree = std::get_if<abort_selector::Tree>(&ev.which)) {
            for (const auto& c : commands) {
              TaskId reached{};
              bool cancelled = false;
              if (const auto* x = std::get_if<command::Cancel>(&c)) {
                reached = x->id;
                cancelled = true;
              } else if (const auto* n = std::get_if<command::Notify>(&c); n && n->status == TaskStatus::Cancelled) {
                reached = n->id;
                cancelled = true;
              }
              if (cancelled && reached != tree->root && retrying_.count(reached)) {
                hit(Scenario::CancelTreeWhileChildRetries);
                break;
              }
            }
          }
        } else if constexpr (std::is_same_v<E, event::Flush>) {
          if (lane_blocked()) hit(Scenario::FlushWhileLaneBlocked);
        } else if constexpr (std::is_same_v<E, event::Pause>) {
          for (const TaskId id : live_) note_if_paused(id);
        } else if constexpr (std::is_same_v<E, event::Resume>) {
          for (const auto& c : commands) {
            if (const auto* start = std::get_if<command::Start>(&c); start && paused_.count(start->id)) {
              hit(Scenario::ResumeStartsPausedWork);
              break;
            }
          }
        } else if constexpr (std::is_same_v<E, event::Shutdown>) {
          if (any_cancel(CancelReason::Shutdown)) hit(Scenario::ShutdownCancelsRunning);
        } else if constexpr (std::is_same_v<E, event::Restore>) {
          // Every task the detector knew died with the old kernel; what the restore started is new.
          on_restart();
          for (const auto& c : commands) command(e.at, c);
          this_input_.clear();
        }
      },
      e.event);
  // Tasks that ended are forgotten only now, so that the checks above still knew them.
  for (const auto& c : commands) {
    if (const auto* start = std::get_if<command::Start>(&c)) paused_.erase(start->id);
    if (const auto* n = std::get_if<command::Notify>(&c)) {
      live_.erase(n->id);
      paused_.erase(n->id);
      forget_task(n->id);
      last_start_.erase(n->id);
      deadline_.erase(n->id);
    }
  }
}

void ScenarioDetector::fault(const FaultRecord& f) {
  switch (f.kind) {
    case FaultKind::Crash:
      if (f.commands_lost > 0 && f.records > 0) hit(Scenario::CrashMidAppend);
      if (f.records_kept < f.records) hit(Scenario::TornTail);
      break;
    case FaultKind::PersistError:
      if (f.tasks_unacknowledged > 0) hit(Scenario::PersistError);
      break;
    case FaultKind::EarlyTimer: hit(Scenario::EarlyTick); break;
    case FaultKind::Hang: hung_.insert({*f.task, f.attempt}); break;
    default: break;
  }
}

}  // namespace tasklane::sim
