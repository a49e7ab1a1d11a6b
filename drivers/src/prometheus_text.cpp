// The Prometheus text exposition format, version 0.0.4: one HELP and one TYPE line per family,
// then its samples; histograms as cumulative _bucket{le} samples ending in +Inf, then _sum, _count.
#include <cstdio>
#include <sstream>

#include "tasklane/drivers/metrics.hpp"

namespace tasklane::drivers {
namespace {

class Writer {
 public:
  explicit Writer(std::string prefix) : prefix_(std::move(prefix)) {}

  void family(const std::string& name, const char* type, const char* help) {
    out_ << "# HELP " << prefix_ << "_" << name << " " << help << "\n"
         << "# TYPE " << prefix_ << "_" << name << " " << type << "\n";
  }
  void sample(const std::string& name, const std::string& labels, const std::string& value) {
    out_ << prefix_ << "_" << name;
    if (!labels.empty()) out_ << "{" << labels << "}";
    out_ << " " << value << "\n";
  }
  void sample(const std::string& name, const std::string& labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  // A counter family with its one unlabelled sample.
  void counter(const std::string& name, const char* help, std::uint64_t value) {
    family(name, "counter", help);
    sample(name, "", value);
  }
  std::string text() const { return out_.str(); }

 private:
  std::string prefix_;
  std::ostringstream out_;
};

// A bucket bound: the shortest form ("0.001", "30").
std::string bound_text(std::int64_t us) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(us) / 1e6);
  return text;
}

// A sum, exact to the microsecond.
std::string seconds_text(std::int64_t us) {
  char text[40];
  std::snprintf(text, sizeof text, "%lld.%06lld", static_cast<long long>(us / 1000000), static_cast<long long>(us % 1000000));
  return text;
}

}  // namespace

std::string prometheus_text(const MetricsSnapshot& m, const std::string& prefix) {
  Writer w(prefix);
  const KernelStats& c = m.counters;
  w.counter("tasks_spawned_total", "Tasks the kernel accepted.", c.spawned);
  w.counter("spawns_refused_total", "Spawns the kernel refused with a SpawnError.", c.refused);
  w.counter("attempts_started_total", "Attempts started (a retry is a new attempt).", c.started);
  w.family("tasks_finished_total", "counter", "Tasks that ended, by final status.");
  w.sample("tasks_finished_total", "status=\"completed\"", c.completed);
  w.sample("tasks_finished_total", "status=\"failed\"", c.failed);
  w.sample("tasks_finished_total", "status=\"cancelled\"", c.cancelled);
  w.sample("tasks_finished_total", "status=\"timed_out\"", c.timed_out);
  w.counter("retries_total", "Failed attempts that were scheduled to run again.", c.retried);
  w.counter("attempt_timeouts_total", "Attempts that hit their deadline, retried or not.", c.attempt_timeouts);
  w.counter("ignored_completions_total",
            "Completions the kernel ignored: stale attempts, unknown tasks, tasks not running.",
            c.ignored_completions);
  w.counter("heartbeat_timeouts_total",
            "Of attempt_timeouts_total: attempts that missed their heartbeat.",
            c.heartbeat_timeouts);
  w.counter("ignored_heartbeats_total",
            "Heartbeats the kernel ignored: stale attempts, unknown tasks, tasks not running.",
            c.ignored_heartbeats);
  w.counter("repeat_runs_total", "Runs of repeating series spawned after the previous run ended.", c.repeated);
  w.counter("repeat_slots_skipped_total",
            "Fixed-rate slots that passed while a run was still going.",
            c.repeat_slots_skipped);
  w.counter("repeat_series_cut_total",
            "Repeating series that ended early: the next run was refused, a run never started, or the runtime shut down.",
            c.series_cut);

  struct Gauge {
    const char* name;
    const char* help;
    std::uint64_t PriorityGauges::*field;
  };
  const Gauge gauges[] = {
      {"tasks_pending", "Tasks due and waiting to start (for a slot, a lane or a quota).", &PriorityGauges::pending},
      {"tasks_delayed", "Tasks waiting for their due time (run_after or a retry backoff).", &PriorityGauges::delayed},
      {"tasks_running", "Tasks with an attempt running.", &PriorityGauges::running},
  };
  for (const Gauge& g : gauges) {
    w.family(g.name, "gauge", g.help);
    for (int p = 0; p < priority_count; ++p) {
      const std::string label = std::string("priority=\"") + priority_label(static_cast<Priority>(p)) + "\"";
      w.sample(g.name, label, m.by_priority[static_cast<std::size_t>(p)].*(g.field));
    }
  }

  const LagHistogram& h = m.start_lag;
  w.family("start_lag_seconds", "histogram", "Time from an attempt's due time to its start.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LagHistogram::bounds_us.size(); ++i) {
    cumulative += h.buckets[i];
    w.sample("start_lag_seconds_bucket", "le=\"" + bound_text(LagHistogram::bounds_us[i]) + "\"", cumulative);
  }
  cumulative += h.buckets.back();
  w.sample("start_lag_seconds_bucket", "le=\"+Inf\"", cumulative);
  w.sample("start_lag_seconds_sum", "", seconds_text(h.sum_us));
  w.sample("start_lag_seconds_count", "", h.count);
  return w.text();
}

}  // namespace tasklane::drivers
