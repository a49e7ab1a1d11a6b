// SequenceLanes: tasks with one SequenceKey run one after another in spawn order (seed 000).
// Only the head of a lane may start; the next becomes head when the head is terminal.
//
// Lanes are found by hash: a lookup hashes the key's three strings once, where an ordered map
// compared up to three strings at each of ~log2(lanes) levels (over half of a bulk cancel of
// keyed tasks). Nothing iterates the lanes, so their order cannot show.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <optional>

#include "tasklane/task_spec.hpp"

namespace tasklane::detail {

class SequenceLanes {
 public:
  void push(const SequenceKey& key, TaskId id) {
    auto& lane = lanes_[key];
    // Restored tasks may arrive after newer ones: keep each lane in id (spawn) order.
    lane.insert(std::upper_bound(lane.begin(), lane.end(), id), id);
  }
  bool is_head(const SequenceKey& key, TaskId id) const {
    const auto it = lanes_.find(key);
    return it != lanes_.end() && !it->second.empty() && it->second.front() == id;
  }
  // Removes `id`; answers the lane's new head when `id` was the head.
  std::optional<TaskId> remove(const SequenceKey& key, TaskId id) {
    const auto it = lanes_.find(key);
    if (it == lanes_.end()) return std::nullopt;
    auto& lane = it->second;
    const bool was_head = !lane.empty() && lane.front() == id;
    if (was_head) {
      lane.pop_front();  // the usual case, O(1): a lane's tasks end in order
    } else {
      // The lane is in id order: find the task by binary search (a cancelled task mid-lane).
      const auto at = std::lower_bound(lane.begin(), lane.end(), id);
      if (at != lane.end() && *at == id) lane.erase(at);
    }
    if (lane.empty()) {
      lanes_.erase(it);
      return std::nullopt;
    }
    return was_head ? std::optional<TaskId>(lane.front()) : std::nullopt;
  }
  std::size_t lane_count() const { return lanes_.size(); }

 private:
  struct KeyHash {
    std::size_t operator()(const SequenceKey& k) const {
      const std::hash<std::string> h;
      std::size_t seed = h(k.agent);
      seed ^= h(k.scope) + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
      seed ^= h(k.purpose) + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
      return seed;
    }
  };
  std::unordered_map<SequenceKey, std::deque<TaskId>, KeyHash> lanes_;
};

}  // namespace tasklane::detail
