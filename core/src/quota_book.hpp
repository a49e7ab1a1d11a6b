// QuotaBook: per quota key, the attempts started, the last start (for the cooldown) and how many
// unfinished tasks hold the key (for single-flight) (seed 002).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tasklane/snapshot.hpp"

namespace tasklane::detail {

class QuotaBook {
 public:
  // When the cooldown of `spec` lets a task start: `now` or later.
  Time cooldown_until(const QuotaSpec& spec, Time now) const {
    const auto it = usage_.find(spec.key);
    if (it == usage_.end() || !it->second.last_start) return now;
    return std::max(now, *it->second.last_start + spec.cooldown);
  }
  bool attempts_exhausted(const QuotaSpec& spec) const {
    if (spec.max_attempts == 0) return false;
    const auto it = usage_.find(spec.key);
    return it != usage_.end() && it->second.attempts >= spec.max_attempts;
  }
  bool held(const QuotaSpec& spec) const {
    const auto it = usage_.find(spec.key);
    return it != usage_.end() && it->second.holders > 0;
  }
  std::uint32_t holders(const QuotaSpec& spec) const {
    const auto it = usage_.find(spec.key);
    return it == usage_.end() ? 0 : it->second.holders;
  }
  void hold(const QuotaSpec& spec) { ++usage_[spec.key].holders; }
  void release(const QuotaSpec& spec) {
    const auto it = usage_.find(spec.key);
    if (it != usage_.end() && it->second.holders > 0) --it->second.holders;
  }
  void started(const QuotaSpec& spec, Time now) {
    auto& u = usage_[spec.key];
    ++u.attempts;
    u.last_start = now;
  }

  std::vector<QuotaUsage> usage() const {
    std::vector<QuotaUsage> out;
    for (const auto& [key, u] : usage_) {
      if (u.attempts > 0 || u.last_start) out.push_back(QuotaUsage{key, u.attempts, u.last_start});
    }
    return out;
  }
  void restore(const QuotaUsage& q) {
    auto& u = usage_[q.key];
    u.attempts = std::max(u.attempts, q.attempts);
    if (q.last_start && (!u.last_start || *u.last_start < *q.last_start)) u.last_start = q.last_start;
  }

 private:
  struct Usage {
    std::uint32_t attempts = 0;
    std::optional<Time> last_start;
    std::uint32_t holders = 0;
  };
  std::map<std::string, Usage> usage_;
};

}  // namespace tasklane::detail
