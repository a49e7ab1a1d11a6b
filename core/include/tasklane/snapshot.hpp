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

// A rate limiter's token bucket: `tokens` free as counted at `refilled_at`.
struct RateLimitUsage {
  std::string key;
  std::uint32_t tokens = 0;
  Time refilled_at{0};
  friend bool operator==(const RateLimitUsage&, const RateLimitUsage&) = default;
};

struct Snapshot {
  std::uint64_t next_id = 0;
  std::uint64_t rng_state = 0;
  std::vector<TaskInfo> tasks;       // durable tasks only, by id
  std::vector<QuotaUsage> quotas;    // by key
  std::vector<RateLimitUsage> rate_limits;  // by key: every bucket a start has touched
  std::vector<std::string> paused_owners;    // the pause rules in force (Kernel::pause), sorted
  std::vector<std::string> paused_purposes;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

}  // namespace tasklane
