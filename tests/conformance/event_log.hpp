// The task events a harness's subscriber saw, in order, readable from the test thread.
#pragma once

#include <mutex>
#include <vector>

#include "tasklane/drivers/task_event.hpp"

namespace tasklane::conformance {

class EventLog {
 public:
  void record(const drivers::TaskEvent& e) {
    std::lock_guard lock(mutex_);
    events_.push_back(e);
  }
  std::vector<drivers::TaskEvent> all() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<drivers::TaskEvent> events_;
};

}  // namespace tasklane::conformance
