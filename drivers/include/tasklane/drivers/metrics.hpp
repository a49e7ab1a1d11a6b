// Metrics: what a runtime has done and what it holds now, for a dashboard or an alert.
//
//   counters  tasks spawned, attempts started, tasks finished by status, retries, attempt
//             timeouts, completions the kernel ignored as stale (the kernel's own KernelStats)
//   gauges    tasks pending (due, waiting for a slot), delayed (waiting for run_after or a backoff)
//             and running, each per priority
//   histogram the lag between an attempt's due time and its start (queueing behind capacity,
//             lanes, quotas and the timer), in fixed buckets
//
// RuntimeCore feeds a Metrics from the kernel's command stream and its reads and publishes it once
// per turn of its owner, before the user callbacks that turn answers run; both real drivers
// hand out its snapshot (asio::runtime::metrics(), qt::TaskRuntime::metrics()), and
// prometheus_text() writes the Prometheus text exposition format:
//
//   std::cout << tasklane::drivers::prometheus_text(rt.metrics());
//
// Threading: the feeding calls run on the runtime's owner; snapshot() from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>

#include "tasklane/kernel.hpp"

namespace tasklane::drivers {

struct LagHistogram {
  // Upper bounds of the buckets, in microseconds; a last, unbounded bucket follows.
  static constexpr std::array<std::int64_t, 11> bounds_us = {1'000,   5'000,     10'000,    50'000,     100'000,    250'000,
                                                             500'000, 1'000'000, 5'000'000, 30'000'000, 120'000'000};
  std::array<std::uint64_t, bounds_us.size() + 1> buckets{};  // per bucket, not cumulative
  std::uint64_t count = 0;
  std::int64_t sum_us = 0;
  void observe(Duration lag);  // a negative lag (the clock went back) counts as zero
  void add(const LagHistogram& other);  // every observation of `other` too
  friend bool operator==(const LagHistogram&, const LagHistogram&) = default;
};

struct PriorityGauges {
  std::uint64_t pending = 0;
  std::uint64_t delayed = 0;
  std::uint64_t running = 0;
  friend bool operator==(const PriorityGauges&, const PriorityGauges&) = default;
};

struct MetricsSnapshot {
  KernelStats counters;  // spawned, started, completed, failed, cancelled, timed_out, retried, ...
  std::array<PriorityGauges, priority_count> by_priority{};  // indexed by Priority
  LagHistogram start_lag;
  Time at{0};  // the kernel time the gauges were judged at (delayed: due after this)

  std::uint64_t pending() const;
  std::uint64_t delayed() const;
  std::uint64_t running() const;
};

const char* priority_label(Priority p);  // "low", "normal", "high", "critical"

class Metrics {
 public:
  // ---- fed on the owner, by RuntimeCore ----
  // Before the driver carries a Start out. `task` is the kernel's glance of its task (its due time
  // gives the start's lag; nullptr when the kernel no longer has it), read by the caller, which
  // needs it too; `now` is the kernel's time. Other commands feed nothing: the gauges come from the
  // kernel's own counts (Kernel::load), delayed tasks included.
  void on_start(const command::Start& start, const TaskGlance* task, Time now);
  // Makes what was fed since the last publish() visible to snapshot(): the kernel's counters and
  // per-priority load, the starts' lags. Any number of inputs may come between two calls
  // (RuntimeCore publishes once per owner turn, before any user callback of that turn runs).
  void publish(const Kernel& kernel);

  // ---- any thread ----
  MetricsSnapshot snapshot() const;

 private:
  LagHistogram unpublished_lag_;  // owner only: starts seen since the last publish()
  mutable std::mutex mutex_;      // guards what follows (written on the owner only)
  Kernel::PriorityLoad load_;
  KernelStats counters_;
  LagHistogram lag_;
  Time at_{0};
};

// The Prometheus text exposition format (version 0.0.4): HELP and TYPE lines, counters named
// *_total, gauges with a priority label, the lag as tasklane_start_lag_seconds_bucket{le=...},
// _sum and _count. `prefix` starts every name.
std::string prometheus_text(const MetricsSnapshot& metrics, const std::string& prefix = "tasklane");

}  // namespace tasklane::drivers
