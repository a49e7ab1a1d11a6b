// ReadyQueue: tasks that may start now, highest priority first, then lowest id (spawn order).
#pragma once

#include <optional>
#include <set>

#include "tasklane/task_spec.hpp"

namespace tasklane::detail {

class ReadyQueue {
 public:
  void push(Priority p, TaskId id) { entries_.insert(Entry{p, id}); }
  void erase(Priority p, TaskId id) { entries_.erase(Entry{p, id}); }
  bool contains(Priority p, TaskId id) const { return entries_.count(Entry{p, id}) != 0; }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::optional<TaskId> pop() {
    if (entries_.empty()) return std::nullopt;
    const TaskId id = entries_.begin()->id;
    entries_.erase(entries_.begin());
    return id;
  }

 private:
  struct Entry {
    Priority priority;
    TaskId id;
    bool operator<(const Entry& o) const {
      if (priority != o.priority) return priority > o.priority;
      return id < o.id;
    }
  };
  std::set<Entry> entries_;
};

}  // namespace tasklane::detail
