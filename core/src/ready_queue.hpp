// ReadyQueue: tasks that may start now, highest priority first, then lowest id (spawn order).
//
// Per priority, the ids queued in increasing order (new tasks: ids only grow) sit in a FIFO run,
// O(1) to push and to pop; the ones queued out of order (a retry, a task released by its lane or
// a dependency after newer ones) go into a binary min-heap beside it, and a pop takes the lower
// of the two fronts. A flat map id -> priority holds the tasks queued now. erase() only forgets the
// task in the map; its run or heap entry is stale and skipped when it surfaces (and everything is
// compacted when stale entries outnumber live ones). No allocation per push in steady state.
// A task is queued at most once: pushing it again with another priority moves it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "flat_id_map.hpp"
#include "tasklane/task_spec.hpp"

namespace tasklane::detail {

class ReadyQueue {
 public:
  void push(Priority p, TaskId id) {
    if (const auto* queued = members_.find(id.value); queued && *queued == p) return;
    members_.put(id.value, p);
    lanes_[index(p)].push(id.value);
  }
  void erase(Priority p, TaskId id) {
    if (!contains(p, id)) return;
    members_.erase(id.value);
    ++stale_;
    if (stale_ > 64 && stale_ > members_.size()) compact();
  }
  bool contains(Priority p, TaskId id) const {
    const auto* queued = members_.find(id.value);
    return queued && *queued == p;
  }
  bool empty() const { return members_.empty(); }
  std::size_t size() const { return members_.size(); }
  std::optional<TaskId> pop() {
    for (int i = priority_count - 1; i >= 0 && !members_.empty(); --i) {
      auto& lane = lanes_[static_cast<std::size_t>(i)];
      while (const auto id = lane.pop()) {
        const auto* queued = members_.find(*id);
        if (queued && index(*queued) == static_cast<std::size_t>(i)) {
          members_.erase(*id);
          return TaskId{*id};
        }
        if (stale_ > 0) --stale_;
      }
    }
    return std::nullopt;
  }

 private:
  static std::size_t index(Priority p) { return static_cast<std::size_t>(p); }

  // One priority's entries, lowest id first: the in-order run and the out-of-order heap.
  struct Lane {
    std::vector<std::uint64_t> run;  // increasing ids; run[head..] are queued
    std::size_t head = 0;
    std::vector<std::uint64_t> heap;  // a min-heap

    void push(std::uint64_t id) {
      if (head == run.size() || id > run.back()) {
        run.push_back(id);
      } else {
        heap.push_back(id);
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
      }
    }
    std::optional<std::uint64_t> pop() {
      const bool in_run = head < run.size();
      if (!in_run && heap.empty()) return std::nullopt;
      if (in_run && (heap.empty() || run[head] < heap.front())) {
        const std::uint64_t id = run[head++];
        if (head == run.size()) {
          run.clear();
          head = 0;
        } else if (head >= 1024 && head * 2 >= run.size()) {  // amortized O(1): at most one move per pop
          run.erase(run.begin(), run.begin() + static_cast<std::ptrdiff_t>(head));
          head = 0;
        }
        return id;
      }
      const std::uint64_t id = heap.front();
      std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
      heap.pop_back();
      return id;
    }
    void clear() {
      run.clear();
      head = 0;
      heap.clear();
    }
  };

  // Rebuilds the lanes from the members: drops every stale entry, and leaves every id in a run.
  void compact() {
    for (auto& lane : lanes_) lane.clear();
    members_.for_each([&](std::uint64_t id, Priority p) { lanes_[index(p)].run.push_back(id); });
    for (auto& lane : lanes_) std::sort(lane.run.begin(), lane.run.end());
    stale_ = 0;
  }

  std::array<Lane, priority_count> lanes_;
  FlatIdMap<Priority> members_;
  std::size_t stale_ = 0;  // run and heap entries whose task left the queue (an estimate; compaction resets it)
};

}  // namespace tasklane::detail
