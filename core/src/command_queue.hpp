// CommandQueue: the kernel's outbox. A vector with a read position: the driver drains it after
// every input, and once empty it restarts at the front and keeps its capacity, so steady state
// allocates nothing (a std::deque of Commands, each larger than a deque block, allocated a block
// per command).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "tasklane/command.hpp"

namespace tasklane::detail {

class CommandQueue {
 public:
  template <class... Args>
  Command& emplace_back(Args&&... args) {
    return items_.emplace_back(std::forward<Args>(args)...);
  }
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  Command& front() { return items_[head_]; }
  void pop_front() {
    if (++head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    }
  }

 private:
  std::vector<Command> items_;
  std::size_t head_ = 0;
};

}  // namespace tasklane::detail
