// DependencyGraph: which pending tasks wait for which (TaskSpec::after), seen from the dependency.
//
// A waiter's own record lists the dependencies it still waits for (TaskInfo::waiting_for, durable);
// this graph is the reverse index, so that a dependency's end finds its waiters without a walk over
// every task. Dependencies always have lower ids than their waiters (spawn refuses the rest), so the
// graph has no cycle, and a dependency's end is handed to its waiters at that moment: a waiter
// never needs the outcome of a task that retention may since have forgotten.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tasklane/task_info.hpp"

namespace tasklane::detail {

// How a dependency ended, as its waiters see it. `lost`: it is gone after a restart (not durable).
struct DependencyEnd {
  TaskId id;
  TaskStatus status = TaskStatus::Completed;
  std::optional<std::string> error;
  bool lost = false;
};

// The status and error a waiter ends with because of `end`, or nullopt when it goes on waiting (or
// becomes ready). A lost dependency counts as ended unsuccessfully: AllFinished takes it, and
// AllSucceeded fails, since its outcome is unknown.
inline std::optional<std::pair<TaskStatus, std::string>> waiter_verdict(DependencyMode mode, const DependencyEnd& end) {
  if (mode == DependencyMode::AllFinished) return std::nullopt;
  const std::string name = "dependency " + to_string(end.id);
  if (end.lost) return std::make_pair(TaskStatus::Failed, name + " was lost in a restart (it was not durable)");
  switch (end.status) {
    case TaskStatus::Failed: return std::make_pair(TaskStatus::Failed, name + " failed: " + end.error.value_or(""));
    case TaskStatus::TimedOut: return std::make_pair(TaskStatus::Failed, name + " timed out: " + end.error.value_or(""));
    case TaskStatus::Cancelled: return std::make_pair(TaskStatus::Cancelled, name + " was cancelled");
    default: return std::nullopt;
  }
}

class DependencyGraph {
 public:
  void link(TaskId waiter, TaskId dependency) { waiters_[dependency].push_back(waiter); }

  // Removes and answers the waiters of `dependency`, by id.
  std::vector<TaskId> take_waiters(TaskId dependency) {
    const auto it = waiters_.find(dependency);
    if (it == waiters_.end()) return {};
    std::vector<TaskId> ids = std::move(it->second);
    waiters_.erase(it);
    std::sort(ids.begin(), ids.end());  // restore links out of spawn order
    return ids;
  }

  bool has_waiters(TaskId dependency) const { return waiters_.count(dependency) != 0; }
  bool empty() const { return waiters_.empty(); }  // no pending task waits for any other

  // A waiter ended before its dependencies: it leaves their lists.
  void unlink(TaskId waiter, const std::vector<TaskId>& dependencies) {
    for (const TaskId dependency : dependencies) {
      const auto it = waiters_.find(dependency);
      if (it == waiters_.end()) continue;
      auto& ids = it->second;
      ids.erase(std::remove(ids.begin(), ids.end(), waiter), ids.end());
      if (ids.empty()) waiters_.erase(it);
    }
  }

 private:
  std::map<TaskId, std::vector<TaskId>> waiters_;
};

}  // namespace tasklane::detail
