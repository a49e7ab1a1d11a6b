// IdFifo: task ids, first in, first out. A vector with a read position, moved down once the part
// already read is at least half of it (amortized O(1), no allocation in steady state). The
// kernel's order of terminal tasks pushes and pops one id a task; a std::deque<TaskId> cost ~50
// instructions a task there.
#pragma once

#include <cassert>
#include <cstddef>
#include <vector>

#include "tasklane/task_id.hpp"

namespace tasklane::detail {

class IdFifo {
 public:
  void push_back(TaskId id) { ids_.push_back(id); }
  bool empty() const { return head_ == ids_.size(); }
  std::size_t size() const { return ids_.size() - head_; }
  TaskId pop_front() {
    assert(!empty());
    const TaskId id = ids_[head_++];
    if (head_ == ids_.size()) {
      ids_.clear();
      head_ = 0;
    } else if (head_ >= 1024 && head_ * 2 >= ids_.size()) {
      ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return id;
  }

 private:
  std::vector<TaskId> ids_;  // ids_[head_..] are queued
  std::size_t head_ = 0;
};

}  // namespace tasklane::detail
