// TimerQueue: every wake-up the kernel wants, earliest first (equal times in arming order).
// Timers armed in time order (the usual case: the same delay, backoff or timeout from a clock that
// only moves forward) go to a FIFO run (a ring), O(1) to arm and to pop; the others go into a
// min-heap beside it, and top() is the earlier of the two fronts. Entries are never removed in place;
// an entry whose generation no longer matches its owner's is stale and skipped when it surfaces.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ring_fifo.hpp"

#include "tasklane/task_id.hpp"
#include "tasklane/time.hpp"

namespace tasklane::detail {

enum class TimerKind : std::uint8_t {
  TaskDue,         // a delay, backoff or cooldown ended: reconsider the task
  AttemptTimeout,  // the running attempt `generation` reached its deadline
  QueuedWorkPoll,  // the queued-work runner's poll
  HeartbeatDue,    // the running attempt `generation` may have missed its heartbeat (see heartbeats.hpp)
};

struct Timer {
  Time at{0};
  std::uint64_t order = 0;  // insertion order: equal times fire first-in, first-out
  TimerKind kind = TimerKind::TaskDue;
  TaskId task;
  std::uint64_t generation = 0;
};

class TimerQueue {
 public:
  void arm(Time at, TimerKind kind, TaskId task, std::uint64_t generation) {
    const Timer t{at, next_order_++, kind, task, generation};
    if (run_.empty() || run_.back().at <= at) {  // `order` only grows: in order behind the run
      run_.push_back(t);
    } else {
      heap_.push_back(t);
      std::push_heap(heap_.begin(), heap_.end(), Later{});
    }
  }
  const Timer* top() const {
    if (run_.empty()) return heap_.empty() ? nullptr : &heap_.front();
    if (heap_.empty() || !Later{}(run_.front(), heap_.front())) return &run_.front();
    return &heap_.front();
  }
  void pop() {
    if (run_.empty()) {
      if (heap_.empty()) return;
    } else if (heap_.empty() || !Later{}(run_.front(), heap_.front())) {
      run_.pop_front();
      return;
    }
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
  std::size_t size() const { return run_.size() + heap_.size(); }

 private:
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      if (a.at != b.at) return a.at > b.at;
      return a.order > b.order;
    }
  };
  RingFifo<Timer> run_;      // armed in (at, order) order
  std::vector<Timer> heap_;  // a min-heap by Later
  std::uint64_t next_order_ = 0;
};

}  // namespace tasklane::detail
