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

// An input names the same task several times in a row (a spawn and its Start, a completion and
// its Notify): one entry is enough, publish() reads the task once.
void Metrics::touch(TaskId id) {
  if (touched_.empty() || touched_.back() != id) touched_.push_back(id);
}

void Metrics::on_command(const Command& command, const Kernel& kernel) {
  if (const auto* start = std::get_if<command::Start>(&command)) {
    touch(start->id);
    // The record still describes this attempt unless a later command of the same input moved it on.
    const auto task = kernel.glance(start->id);
    if (task && task->attempt == start->attempt) unpublished_lag_.observe(kernel.last_time() - task->due);
  } else if (const auto* cancel = std::get_if<command::Cancel>(&command)) {
    touch(cancel->id);
  } else if (const auto* notify = std::get_if<command::Notify>(&command)) {
    touch(notify->id);
  } else if (const auto* persist = std::get_if<command::Persist>(&command)) {
    touch(persist->record.id);
  }
}

void Metrics::publish(const Kernel& kernel) {
  std::lock_guard lock(mutex_);
  const Time now = kernel.last_time();
  for (const TaskId id : touched_) {
    const auto task = kernel.glance(id);
    if (task && task->status == TaskStatus::Pending && task->due > now) {
      delayed_.put(id.value, Delayed{task->priority, task->due});
    } else {
      delayed_.erase(id.value);
    }
  }
  touched_.clear();
  lag_.add(unpublished_lag_);
  unpublished_lag_ = LagHistogram{};
  load_ = kernel.load();
  counters_ = kernel.stats();
  at_ = now;
}

MetricsSnapshot Metrics::snapshot() const {
  std::lock_guard lock(mutex_);
  MetricsSnapshot s;
  s.counters = counters_;
  s.start_lag = lag_;
  s.at = at_;
  delayed_.for_each([&](std::uint64_t, const Delayed& d) {
    if (d.due > at_) ++s.by_priority[static_cast<std::size_t>(d.priority)].delayed;
  });
  for (std::size_t p = 0; p < s.by_priority.size(); ++p) {
    PriorityGauges& g = s.by_priority[p];
    g.running = load_.running[p];
    const std::uint64_t waiting = load_.unfinished[p] - load_.running[p];
    g.delayed = std::min<std::uint64_t>(g.delayed, waiting);  // never more than the kernel holds
    g.pending = waiting - g.delayed;
  }
  return s;
}

}  // namespace tasklane::drivers
