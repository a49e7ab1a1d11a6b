// Snapshot: the kernel's durable state as a value. The journal in drivers/ stores it; restore
// loads it. snapshot -> restore -> snapshot is the identity while no task was running.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tasklane/task_info.hpp"

namespace tasklane {

struct QuotaUsage {
  std::string key;
  std::uint32_t attempts = 0;
  std::optional<Time> last_start;
  friend bool operator==(const QuotaUsage&, const QuotaUsage&) = default;
};

struct Snapshot {
  std::uint64_t next_id = 0;
  std::uint64_t rng_state = 0;
  std::vector<TaskInfo> tasks;       // durable tasks only, by id
  std::vector<QuotaUsage> quotas;    // by key
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

}  // namespace tasklane
