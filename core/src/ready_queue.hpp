// ReadyQueue: tasks that may start now, highest priority first, then lowest id (spawn order).
//
// One binary min-heap of ids per priority, and a flat map id -> priority of the tasks queued now.
// erase() only forgets the task in the map; its heap entry is stale and skipped when it surfaces
// (and the heaps are compacted when stale entries outnumber live ones). No allocation per push in
// steady state: new ids arrive in increasing order, so a push is usually O(1) and a pop O(log n).
// A task is queued at most once: pushing it again with another priority moves it.
#pragma once

#include <algorithm>
#include <array>
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
    auto& heap = heaps_[index(p)];
    heap.push_back(id.value);
    std::push_heap(heap.begin(), heap.end(), std::greater<>{});
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
      auto& heap = heaps_[static_cast<std::size_t>(i)];
      while (!heap.empty()) {
        const std::uint64_t id = heap.front();
        std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
        heap.pop_back();
        const auto* queued = members_.find(id);
        if (queued && index(*queued) == static_cast<std::size_t>(i)) {
          members_.erase(id);
          return TaskId{id};
        }
        if (stale_ > 0) --stale_;
      }
    }
    return std::nullopt;
  }

 private:
  static std::size_t index(Priority p) { return static_cast<std::size_t>(p); }

  // Rebuilds the heaps from the members: drops every stale entry.
  void compact() {
    for (auto& heap : heaps_) heap.clear();
    members_.for_each([&](std::uint64_t id, Priority p) { heaps_[index(p)].push_back(id); });
    for (auto& heap : heaps_) std::make_heap(heap.begin(), heap.end(), std::greater<>{});
    stale_ = 0;
  }

  std::array<std::vector<std::uint64_t>, priority_count> heaps_;
  FlatIdMap<Priority> members_;
  std::size_t stale_ = 0;  // heap entries whose task left the queue (an estimate; compaction resets it)
};

}  // namespace tasklane::detail
