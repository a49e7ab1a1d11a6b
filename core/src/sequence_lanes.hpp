// SequenceLanes: tasks with one SequenceKey run one after another in spawn order (seed 000).
// Only the head of a lane may start; the next becomes head when the head is terminal.
//
// A task's lane is found from its id (a FlatIdMap of lane pointers, filled at push), then its key
// is checked: no hashing of the key's three strings on the hot path (every finish of a keyed task
// removes it and asks whether the next is head); an ordered map by key compared up to three
// strings at each of ~log2(lanes) levels, over half of a bulk cancel of keyed tasks. Lanes live in
// an unordered_map, whose nodes keep their address; nothing iterates them, so no order shows.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <optional>

#include "tasklane/flat_id_map.hpp"
#include "tasklane/task_spec.hpp"

namespace tasklane::detail {

class SequenceLanes {
 public:
  void push(const SequenceKey& key, TaskId id) {
    Lane& lane = *lanes_.try_emplace(key).first;  // a node: its address stays while the lane lives
    // Restored tasks may arrive after newer ones: keep each lane in id (spawn) order.
    lane.second.insert(std::upper_bound(lane.second.begin(), lane.second.end(), id), id);
    lane_of_.put(id.value, &lane);
  }
  bool is_head(const SequenceKey& key, TaskId id) const {
    const Lane* lane = find(key, id);
    return lane != nullptr && lane->second.front() == id;
  }
  // Removes `id`; answers the lane's new head when `id` was the head.
  std::optional<TaskId> remove(const SequenceKey& key, TaskId id) {
    Lane* lane = find(key, id);
    if (lane == nullptr) return std::nullopt;
    lane_of_.erase(id.value);
    auto& ids = lane->second;
    const bool was_head = ids.front() == id;
    if (was_head) {
      ids.pop_front();  // the usual case, O(1): a lane's tasks end in order
    } else {
      // The lane is in id order: find the task by binary search (a cancelled task mid-lane).
      const auto at = std::lower_bound(ids.begin(), ids.end(), id);
      if (at != ids.end() && *at == id) ids.erase(at);
    }
    if (ids.empty()) {
      lanes_.erase(lanes_.find(lane->first));
      return std::nullopt;
    }
    return was_head ? std::optional<TaskId>(ids.front()) : std::nullopt;
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
  using Lanes = std::unordered_map<SequenceKey, std::deque<TaskId>, KeyHash>;
  using Lane = Lanes::value_type;

  // The lane `id` is in, when that lane's key is `key`.
  Lane* find(const SequenceKey& key, TaskId id) const {
    Lane* const* lane = lane_of_.find(id.value);
    return lane != nullptr && (*lane)->first == key ? *lane : nullptr;
  }

  Lanes lanes_;
  FlatIdMap<Lane*> lane_of_;  // task id -> its lane, while it is in one
};

}  // namespace tasklane::detail
