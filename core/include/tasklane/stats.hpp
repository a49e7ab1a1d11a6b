// Counters the kernel keeps about itself; a metrics layer in drivers/ reads them.
#pragma once

#include <cstdint>

namespace tasklane {

struct KernelStats {
  std::uint64_t spawned = 0;
  std::uint64_t refused = 0;
  std::uint64_t started = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t timed_out = 0;  // tasks that ended TimedOut
  std::uint64_t attempt_timeouts = 0;  // attempts that hit their deadline (retried or not)
  std::uint64_t heartbeat_timeouts = 0;  // of attempt_timeouts: those ended by a missed heartbeat
  std::uint64_t retried = 0;
  std::uint64_t ignored_completions = 0;  // unknown task, stale attempt, or not running
  std::uint64_t orphaned = 0;
  std::uint64_t deduplicated = 0;  // spawns answered with a live task's id (DedupMode::KeepExisting)
  std::uint64_t ignored_heartbeats = 0;  // unknown task, stale attempt, or not running
  std::uint64_t repeated = 0;              // runs a repeating series spawned after a run ended (also in `spawned`)
  std::uint64_t repeat_slots_skipped = 0;  // fixed-rate slots that passed while a run was still going
  std::uint64_t series_cut = 0;            // series that ended early: TaskInfo::series_end says why
  friend bool operator==(const KernelStats&, const KernelStats&) = default;
};

// Sums the counts of several kernels (for example one per run between crashes).
inline KernelStats& operator+=(KernelStats& total, const KernelStats& s) {
  total.spawned += s.spawned;
  total.refused += s.refused;
  total.started += s.started;
  total.completed += s.completed;
  total.failed += s.failed;
  total.cancelled += s.cancelled;
  total.timed_out += s.timed_out;
  total.attempt_timeouts += s.attempt_timeouts;
  total.heartbeat_timeouts += s.heartbeat_timeouts;
  total.retried += s.retried;
  total.ignored_completions += s.ignored_completions;
  total.orphaned += s.orphaned;
  total.deduplicated += s.deduplicated;
  total.ignored_heartbeats += s.ignored_heartbeats;
  total.repeated += s.repeated;
  total.repeat_slots_skipped += s.repeat_slots_skipped;
  total.series_cut += s.series_cut;
  return total;
}

}  // namespace tasklane
