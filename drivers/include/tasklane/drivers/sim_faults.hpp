// Fault sites of the simulation driver: what can go wrong around the kernel in a real process,
// each switched on by a rate that a test (usually from its seed) sets and clears at will:
//
//   sim.set_faults(tasklane::sim::Faults{.late_timer = 50, .persist_error = 20, .crash = 2});
//   ... run a workload ...
//   sim.set_faults({});   // faults stop here: from now on the run is a plain simulation
//
// Rates are per thousand chances at the site. The decisions come from a generator of their own,
// seeded from the simulation's seed and drawn only while a site is on, so a run with every rate at
// zero is exactly the run of a simulation without fault sites, and a run with faults is still a
// function of the seed alone.
//
// The sites, and what the simulation does there:
//   late_timer            per kernel deadline: tick() comes 1..max_lateness µs after it (a timer that
//                         fires late; other inputs due before then go first).
//   early_timer           per kernel deadline: an extra tick() before it. Nothing is due, so the tick
//                         must emit nothing and leave next_deadline() as it was.
//   duplicate_completion  per completion: the same completion is fed again at once.
//   stale_completion      per completion: then one for the attempt before (or for a task nobody
//                         knows). Both must emit nothing and count as ignored completions.
//   persist_error         per commit (the group of Persist records one input caused, written and
//                         synced at its end, as RuntimeCore does): the write fails. As in
//                         RuntimeCore + FileJournal, the durable spawns waiting for that commit are
//                         not acknowledged, and the records stay buffered for the next commit.
//                         Also per PersistSnapshot: the snapshot is not written.
//   crash                 per input: the process dies while carrying out the input's commands, after
//                         0..5 of them; a prefix of the records not yet synced reaches the disk (the
//                         rest, the first one possibly torn, is lost). The simulation then restarts
//                         on a fresh kernel restored from durable_state(), as a real driver restores
//                         its journal.
//   hang                  per Start: the work never returns, whatever its plan said; only a timeout
//                         or a cancel ends it.
// Whenever a site is used, a FaultRecord is logged (fault_log()) and given to on_fault observers.
// What a site saw the kernel do that it must not (an early tick or an ignored completion that
// changed something) is written to fault_findings().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "tasklane/kernel.hpp"

namespace tasklane::sim {

struct Faults {
  std::uint32_t late_timer = 0;
  Duration max_lateness = milliseconds(2);
  std::uint32_t early_timer = 0;
  std::uint32_t duplicate_completion = 0;
  std::uint32_t stale_completion = 0;
  std::uint32_t persist_error = 0;
  std::uint32_t crash = 0;
  std::uint32_t hang = 0;

  bool any() const {
    return late_timer || early_timer || duplicate_completion || stale_completion || persist_error || crash || hang;
  }
  friend bool operator==(const Faults&, const Faults&) = default;
};

enum class FaultKind : std::uint8_t {
  LateTimer,            // deadline, at = when the tick came
  EarlyTimer,           // deadline, at = the early tick
  DuplicateCompletion,  // task, attempt
  StaleCompletion,      // task, attempt (of the stale completion)
  PersistError,         // records = buffered records left unsynced, tasks_unacknowledged
  Crash,                // records_kept / records = buffered records that survived / were buffered,
                        // commands_lost = commands the kernel emitted that the process never carried out
  Hang,                 // task, attempt
};
const char* to_string(FaultKind kind);

struct FaultRecord {
  FaultKind kind = FaultKind::LateTimer;
  Time at{0};
  std::optional<TaskId> task;
  std::uint32_t attempt = 0;
  std::optional<Time> deadline;
  std::size_t records = 0;
  std::size_t records_kept = 0;
  std::size_t commands_lost = 0;
  std::size_t tasks_unacknowledged = 0;
};

}  // namespace tasklane::sim
