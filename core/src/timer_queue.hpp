// TimerQueue: every wake-up the kernel wants, in one min-heap. Entries are never removed in place;
// an entry whose generation no longer matches its owner's is stale and skipped when it surfaces.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
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
    heap_.push(Timer{at, next_order_++, kind, task, generation});
  }
  const Timer* top() const { return heap_.empty() ? nullptr : &heap_.top(); }
  void pop() { heap_.pop(); }
  std::size_t size() const { return heap_.size(); }

 private:
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      if (a.at != b.at) return a.at > b.at;
      return a.order > b.order;
    }
  };
  std::priority_queue<Timer, std::vector<Timer>, Later> heap_;
  std::uint64_t next_order_ = 0;
};

}  // namespace tasklane::detail
