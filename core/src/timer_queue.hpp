// TimerQueue: every wake-up the kernel wants, earliest first (equal times in arming order).
// Timers armed in time order (the usual case: the same delay, backoff or timeout from a clock that
// only moves forward) go to a FIFO run, O(1) to arm and to pop; the others go into a min-heap
// beside it, and top() is the earlier of the two fronts. Entries are never removed in place;
// an entry whose generation no longer matches its owner's is stale and skipped when it surfaces.
#pragma once

#include <cstdint>
#include <optional>
#include <algorithm>
#include <cstddef>
#include <vector>

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
    if (head_ == run_.size() || run_.back().at <= at) {  // `order` only grows: in order behind the run
      run_.push_back(t);
    } else {
      heap_.push_back(t);
      std::push_heap(heap_.begin(), heap_.end(), Later{});
    }
  }
  const Timer* top() const {
    const bool in_run = head_ < run_.size();
    if (!in_run) return heap_.empty() ? nullptr : &heap_.front();
    if (heap_.empty() || !Later{}(run_[head_], heap_.front())) return &run_[head_];
    return &heap_.front();
  }
  void pop() {
    const Timer* t = top();
    if (t == nullptr) return;
    if (head_ < run_.size() && t == &run_[head_]) {
      if (++head_ == run_.size()) {
        run_.clear();
        head_ = 0;
      } else if (head_ >= 1024 && head_ * 2 >= run_.size()) {  // amortized O(1): at most one move per pop
        run_.erase(run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
      return;
    }
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
  std::size_t size() const { return run_.size() - head_ + heap_.size(); }

 private:
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      if (a.at != b.at) return a.at > b.at;
      return a.order > b.order;
    }
  };
  std::vector<Timer> run_;  // run_[head_..]: armed in (at, order) order
  std::size_t head_ = 0;
  std::vector<Timer> heap_;  // a min-heap by Later
  std::uint64_t next_order_ = 0;
};

}  // namespace tasklane::detail
