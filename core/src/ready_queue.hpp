// ReadyQueue: tasks that may start now, highest priority first, then lowest id (spawn order).
//
// Per priority, the ids queued in increasing order (new tasks: ids only grow) sit in a FIFO run (a
// ring), O(1) to push and to pop; the ones queued out of order (a retry, a task released by its lane or
// a dependency after newer ones) go into a binary min-heap beside it, and a pop takes the lower
// of the two fronts.
//
// Whether a task is queued is the caller's to know: a flag in its task entry, which the kernel
// reads anyway when it starts or finishes the task. The queue keeps no map per task (a hash map
// of every queued id was five probes a cycle into a table larger than the cache). So push() is for
// a task that is not queued; erase() is told after the caller cleared a task's flag, and its entry
// here goes stale, skipped when it surfaces; pop() and the compaction (when stale entries outnumber
// queued ones) ask `is_queued(id, priority)`, so an entry of an earlier queuing at another priority
// stays stale. No allocation per push in steady state.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ring_fifo.hpp"
#include "tasklane/task_spec.hpp"

namespace tasklane::detail {

class ReadyQueue {
 public:
  // Queues a task that is not queued now.
  void push(Priority p, TaskId id) {
    lanes_[index(p)].push(id.value);
    filled_ |= lane_bit(index(p));
    ++size_;
  }
  // A queued task left the queue (its flag is already cleared): its entry here is stale now.
  template <class IsQueued>  // bool(std::uint64_t id, Priority p)
  void erase(const IsQueued& is_queued) {
    assert(size_ > 0 && "erase() of a task that is not queued");
    --size_;
    ++stale_;
    if (stale_ > 64 && stale_ > size_) compact(is_queued);
  }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // Entries held, stale ones included: at most about twice size() plus 64 after an erase.
  std::size_t entries() const {
    std::size_t n = 0;
    for (const auto& lane : lanes_) n += lane.run.size() + lane.heap.size();
    return n;
  }
  // The next task to start; the caller clears its flag.
  template <class IsQueued>  // bool(std::uint64_t id, Priority p)
  std::optional<TaskId> pop(const IsQueued& is_queued) {
    while (filled_ != 0 && size_ > 0) {
      const std::size_t i = std::bit_width(filled_) - 1;  // the highest priority with entries
      auto& lane = lanes_[i];
      while (const auto id = lane.pop()) {
        if (is_queued(*id, static_cast<Priority>(i))) {
          --size_;
          return TaskId{*id};
        }
        if (stale_ > 0) --stale_;
      }
      filled_ &= ~lane_bit(i);
    }
    return std::nullopt;
  }

 private:
  static std::size_t index(Priority p) { return static_cast<std::size_t>(p); }
  static unsigned lane_bit(std::size_t lane) { return 1u << lane; }

  // One priority's entries, lowest id first: the in-order run and the out-of-order heap.
  struct Lane {
    RingFifo<std::uint64_t> run;      // increasing ids
    std::vector<std::uint64_t> heap;  // a min-heap

    void push(std::uint64_t id) {
      if (run.empty() || id > run.back()) {
        run.push_back(id);
      } else {
        heap.push_back(id);
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
      }
    }
    std::optional<std::uint64_t> pop() {
      if (run.empty()) {
        if (heap.empty()) return std::nullopt;
      } else if (heap.empty() || run.front() < heap.front()) {
        return run.pop_front();
      }
      const std::uint64_t id = heap.front();
      std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
      heap.pop_back();
      return id;
    }
    void clear() {
      run.clear();
      heap.clear();
    }
  };

  // Drops every stale entry (and the older of two entries of a task erased and queued again), and
  // leaves every queued id in its lane's run.
  template <class IsQueued>
  void compact(const IsQueued& is_queued) {
    for (std::size_t p = 0; p < lanes_.size(); ++p) {
      auto& lane = lanes_[p];
      const auto queued_here = [&](std::uint64_t id) { return is_queued(id, static_cast<Priority>(p)); };
      std::vector<std::uint64_t> ids;
      ids.reserve(lane.run.size() + lane.heap.size());
      for (std::size_t i = 0; i < lane.run.size(); ++i) {
        if (queued_here(lane.run[i])) ids.push_back(lane.run[i]);
      }
      for (const std::uint64_t id : lane.heap) {
        if (queued_here(id)) ids.push_back(id);
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      lane.run.reserve(ids.size());  // may throw: before the lane is emptied, so nothing queued is lost
      lane.clear();
      for (const std::uint64_t id : ids) lane.run.push_back(id);
    }
    stale_ = 0;
  }

  std::array<Lane, priority_count> lanes_;
  unsigned filled_ = 0;    // bit i: lane i may hold entries (clear: it holds none), so pop() skips empty priorities
  std::size_t size_ = 0;   // queued tasks
  std::size_t stale_ = 0;  // run and heap entries whose task left the queue (an estimate; compaction resets it)
};

}  // namespace tasklane::detail
