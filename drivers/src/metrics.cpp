#include "tasklane/drivers/metrics.hpp"

#include <algorithm>

namespace tasklane::drivers {

void LagHistogram::observe(Duration lag) {
  const std::int64_t us = std::max<std::int64_t>(0, lag.count());
  const auto bound = std::lower_bound(bounds_us.begin(), bounds_us.end(), us);  // le: us <= bound
  ++buckets[static_cast<std::size_t>(bound - bounds_us.begin())];
  ++count;
  sum_us += us;
}

void LagHistogram::add(const LagHistogram& other) {
  for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum_us += other.sum_us;
}

std::uint64_t MetricsSnapshot::pending() const {
  std::uint64_t n = 0;
  for (const auto& g : by_priority) n += g.pending;
  return n;
}
std::uint64_t MetricsSnapshot::delayed() const {
  std::uint64_t n = 0;
  for (const auto& g : by_priority) n += g.delayed;
  return n;
}
std::uint64_t MetricsSnapshot::running() const {
  std::uint64_t n = 0;
  for (const auto& g : by_priority) n += g.running;
  return n;
}

const char* priority_label(Priority p) {
  switch (p) {
    case Priority::Low: return "low";
    case Priority::Normal: return "normal";
    case Priority::High: return "high";
    case Priority::Critical: return "critical";
  }
  return "normal";
}

void Metrics::on_start(const command::Start& start, const TaskGlance* task, Time now) {
  // The record still describes this attempt unless a later command of the same input moved it on.
  if (task && task->attempt == start.attempt) unpublished_lag_.observe(now - task->due);
}

void Metrics::publish(const Kernel& kernel) {
  std::lock_guard lock(mutex_);
  lag_.add(unpublished_lag_);
  unpublished_lag_ = LagHistogram{};
  load_ = kernel.load();
  counters_ = kernel.stats();
  at_ = kernel.last_time();
}

MetricsSnapshot Metrics::snapshot() const {
  std::lock_guard lock(mutex_);
  MetricsSnapshot s;
  s.counters = counters_;
  s.start_lag = lag_;
  s.at = at_;
  for (std::size_t p = 0; p < s.by_priority.size(); ++p) {
    PriorityGauges& g = s.by_priority[p];
    g.running = load_.running[p];
    const std::uint64_t waiting = load_.unfinished[p] - load_.running[p];
    g.delayed = load_.delayed[p];
    g.pending = waiting - g.delayed;
  }
  return s;
}

}  // namespace tasklane::drivers
