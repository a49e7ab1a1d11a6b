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

// An input names the same task several times in a row: one entry is enough, publish() reads it once.
void Metrics::touch(TaskId id) {
  if (touched_.empty() || touched_.back() != id) touched_.push_back(id);
}

// A task that starts or ends leaves the waiting ones: dropped from the delayed table, if it is there
// (it cannot be when the table is empty: only publish() fills it, and it reads the task then).
void Metrics::left_waiting(TaskId id) {
  if (!delayed_.empty()) left_waiting_.push_back(id);  // delayed_ is written on this thread only
}

void Metrics::on_command(const Command& command, const TaskGlance* task, Time now) {
  if (const auto* start = std::get_if<command::Start>(&command)) {
    on_start(*start, task, now);
  } else if (const auto* cancel = std::get_if<command::Cancel>(&command)) {
    on_cancel(*cancel);
  } else if (const auto* notify = std::get_if<command::Notify>(&command)) {
    on_end(*notify);
  }
}

void Metrics::on_start(const command::Start& start, const TaskGlance* task, Time now) {
  left_waiting(start.id);
  // The record still describes this attempt unless a later command of the same input moved it on.
  if (task && task->attempt == start.attempt) unpublished_lag_.observe(now - task->due);
}

void Metrics::on_cancel(const command::Cancel& cancel) {
  touch(cancel.id);  // a timed-out attempt may wait out a backoff now
}

void Metrics::on_end(const command::Notify& notify) { left_waiting(notify.id); }

void Metrics::publish(const Kernel& kernel) {
  std::lock_guard lock(mutex_);
  const Time now = kernel.last_time();
  for (const TaskId id : left_waiting_) delayed_.erase(id.value);
  left_waiting_.clear();
  for (const TaskId id : touched_) {  // after: a task may have started and be waiting again since
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
