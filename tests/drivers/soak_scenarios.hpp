// Named scenarios of the simulation soak: situations that are easy to get wrong and that a random
// workload must reach on its own. ScenarioDetector watches a simulation's inputs, commands and
// faults and counts every time one happens; it never steers the run. The soak sums the counts over
// every seed, prints one line per scenario, and fails when one was never hit.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tasklane/drivers/simulation.hpp"

namespace tasklane::sim {

enum class Scenario : std::uint8_t {
  AbortWhileRunning,         // an abort sends Cancel to running work
  CompletionAfterTimeout,    // work returns for an attempt that already timed out
  CrashMidAppend,            // the process dies part-way through an input's commands, with records unsynced
  TornTail,                  // a crash cuts the records being written: recovery keeps a prefix of them
  CancelTreeWhileChildRetries,  // an abort of a tree reaches a descendant that is between or in retries
  FlushWhileLaneBlocked,     // a flush while a sequence key runs one task and holds another back
  DuplicatedCompletion,      // the same attempt's completion arrives a second time
  StaleCompletion,           // a completion for an attempt that is no longer current, or an unknown task
  PersistError,              // a commit fails and a durable spawn goes unacknowledged
  LateTimeout,               // a timeout fires after its deadline (the driver's timer came late)
  EarlyTick,                 // a tick before the kernel's deadline
  HangEndedByTimeout,        // work that never returns is ended by its timeout
  OrphanedByRestart,         // a restart fails a task that was running when the process died
  ShutdownCancelsRunning,    // a shutdown cancels work that is running
  WaiterStarts,              // a task that waited for dependencies starts once they are over
  WaiterFailedByDependency,  // a dependency failed (or was lost in a restart) and failed its waiter
  ResumeStartsPausedWork,    // a resume lets work that was paused start in the same input
  SeriesNextRunStarts,       // a repeating task's next run (run 2 or later) starts
};
constexpr std::size_t scenario_count = 18;
const char* to_string(Scenario s);

using ScenarioCounts = std::map<Scenario, std::size_t>;

class ScenarioDetector {
 public:
  // Hooks into `sim` (on_input, on_command, on_fault); `sim` must outlive the detector's use.
  explicit ScenarioDetector(Simulation& sim);
  ScenarioDetector(const ScenarioDetector&) = delete;
  ScenarioDetector& operator=(const ScenarioDetector&) = delete;

  void on_spawned(TaskId id);  // the workload's accepted spawns (the Spawn event carries no id)
  void on_restart();           // a crash() the workload made itself (crash faults are seen directly)
  const ScenarioCounts& counts() const { return counts_; }

 private:
  using Attempt = std::pair<TaskId, std::uint32_t>;
  void input(const TimedEvent& e);
  void command(Time at, const Command& c);
  void fault(const FaultRecord& f);
  void hit(Scenario s) { ++counts_[s]; }
  bool lane_blocked() const;
  void forget_task(TaskId id);
  void note_if_paused(TaskId id);

  Simulation& sim_;
  ScenarioCounts counts_;
  std::vector<Command> this_input_;             // commands of the input being carried out
  std::map<TaskId, std::uint32_t> last_start_;  // per task, the last attempt started
  std::map<TaskId, Time> deadline_;             // of the last attempt started, where it has one
  std::set<Attempt> timed_out_;
  std::set<Attempt> completed_;
  std::set<Attempt> hung_;
  std::set<TaskId> retrying_;                   // between attempts after a failure, or in attempt 2+
  std::map<SequenceKey, std::set<TaskId>> waiting_;  // per key, tasks spawned and not started
  std::map<SequenceKey, std::set<TaskId>> running_;  // per key, tasks started and not ended
  std::map<TaskId, SequenceKey> key_of_;
  std::set<TaskId> live_;    // accepted (spawned, or a series' next run) and not ended
  std::set<TaskId> paused_;  // seen held by a pause rule and not started since
};

}  // namespace tasklane::sim
