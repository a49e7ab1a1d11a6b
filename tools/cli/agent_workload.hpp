// A random agent workload for `tasklane sim`: sessions that spawn post-turn maintenance
// (summaries, memory writes in a sequence lane, compaction under a quota), sub-agents that get
// messages, low-priority embeddings with retries; users who cancel and flush. Each step is one
// user action or a jump of virtual time; a seed gives the same run everywhere (SplitMix64).
//
// With faults, work also fails (retryable or not), runs past its timeout, hangs until its timeout
// cancels it, and is slow to honour cancellation; and the simulation's fault sites (sim_faults.hpp)
// are on: late and early timers, duplicated and stale completions, failing commits, hangs, and a
// crash about once in a thousand inputs that restarts from what the store kept. At the end faults
// stop, hanging work is cancelled, and every accepted task must end.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tasklane/drivers/simulation.hpp"

namespace tasklane::cli {

struct WorkloadOptions {
  std::uint64_t seed = 1;
  std::uint64_t steps = 1000;
  bool faults = false;
  std::size_t max_running = 4;
};

struct WorkloadRun {
  Config config;
  std::vector<TimedEvent> trace;     // every input, as the simulation recorded it
  std::vector<std::size_t> restarts; // where crash() put in a fresh kernel
  std::vector<std::string> violations;
  std::size_t violation_count = 0;
  std::vector<TaskId> unnotified;    // accepted tasks that never got their Notify
  std::vector<std::string> fault_findings;        // what a fault site saw the kernel do wrongly
  std::map<std::string, std::size_t> faults_used; // by fault kind
  KernelStats stats;                 // summed over every kernel the run had (one per restart)
  std::size_t commands = 0;
  std::uint64_t command_hash = 0;
  Time end{0};
};

WorkloadRun run_agent_workload(const WorkloadOptions& options,
                               const std::function<void(std::uint64_t step, std::uint64_t steps)>& progress = {});

}  // namespace tasklane::cli
