// RateLimiter: one token bucket per limiter key. A bucket holds at most `starts` tokens and gains
// one every interval / starts (rounded up to a microsecond, so never faster than the limit says);
// every attempt's start takes one. A key never used has a full bucket.
//
// The bucket refills by the limit of the task that asks, so tasks sharing a key should give the
// same limit. Everything is integer arithmetic on microseconds: replays match on every platform.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tasklane/snapshot.hpp"

namespace tasklane::detail {

// Microseconds between two tokens of `limit`: interval / starts, rounded up; at least 1.
inline Duration token_period(const RateLimit& limit) {
  const auto interval = limit.interval.count();
  const auto starts = static_cast<Duration::rep>(std::max<std::uint32_t>(limit.starts, 1));
  return Duration{std::max<Duration::rep>(1, (interval + starts - 1) / starts)};
}

class RateLimiter {
 public:
  // True when a start under `limit` may take a token at `now`.
  bool has_token(const RateLimit& limit, Time now) const { return refilled(limit, now).tokens > 0; }

  // When the next token is free: `now` when one is free already.
  Time next_token(const RateLimit& limit, Time now) const {
    const Bucket b = refilled(limit, now);
    return b.tokens > 0 ? now : b.refilled_at + token_period(limit);
  }

  // A start at `now` takes a token (the caller checked has_token).
  void take(const RateLimit& limit, Time now) {
    Bucket b = refilled(limit, now);
    if (b.tokens > 0) --b.tokens;
    buckets_[limit.key] = b;
  }

  std::vector<RateLimitUsage> usage() const {
    std::vector<RateLimitUsage> out;
    for (const auto& [key, b] : buckets_) out.push_back(RateLimitUsage{key, b.tokens, b.refilled_at});
    return out;
  }
  // A key this limiter already counts keeps its own bucket (restore normally runs once, first).
  void restore(const RateLimitUsage& u) { buckets_.try_emplace(u.key, Bucket{u.tokens, u.refilled_at}); }

 private:
  struct Bucket {
    std::uint32_t tokens = 0;
    Time refilled_at{0};  // tokens were counted up to here; the next comes one period later
  };

  Bucket refilled(const RateLimit& limit, Time now) const {
    const std::uint32_t capacity = std::max<std::uint32_t>(limit.starts, 1);
    const auto it = buckets_.find(limit.key);
    if (it == buckets_.end()) return Bucket{capacity, now};
    Bucket b = it->second;
    if (now <= b.refilled_at) return b;
    const Duration period = token_period(limit);
    const auto gained = (now - b.refilled_at) / period;  // whole tokens since the last count
    if (gained >= static_cast<Duration::rep>(capacity - std::min(b.tokens, capacity))) return Bucket{capacity, now};
    b.tokens += static_cast<std::uint32_t>(gained);
    b.refilled_at += period * gained;
    return b;
  }

  std::map<std::string, Bucket> buckets_;
};

}  // namespace tasklane::detail
