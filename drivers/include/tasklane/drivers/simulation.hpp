// Simulation: the deterministic driver. A virtual clock that jumps to the next thing that happens
// (a kernel deadline or a piece of work finishing), work that takes virtual time and ends with a
// chosen outcome, and completions at equal times interleaved by a seeded generator.
//
// Tests use it to replay every ordering; users use it to test their own handlers:
//
//   tasklane::sim::Simulation sim(tasklane::Config{}, /*seed=*/42);
//   sim.on_kind("summarize", [](const tasklane::sim::WorkRequest& w) {
//     return tasklane::sim::WorkPlan{tasklane::milliseconds(30), tasklane::Outcome::success({{"ok", true}})};
//   });
//   auto id = sim.spawn(spec);
//   sim.run_until_idle();
//   EXPECT_EQ(sim.kernel().get(id.value())->status, tasklane::TaskStatus::Completed);
//
// Every input the simulation feeds the kernel is recorded as a TimedEvent (trace()), and every
// command it drained with the time it was drained (commands()), so a run replays exactly:
//
//   tasklane::Kernel fresh(config);
//   for (const auto& e : sim.trace()) { tasklane::apply(fresh, e); while (fresh.poll()) {} }
//
// gives the same commands in the same order (replay() below does exactly this, and also handles
// the fresh kernels that crash() puts in).
//
// How commands are carried out:
//   Start          the kind's handler answers a WorkPlan; the completion is due at now + duration
//                  (never, for never_returns work); heartbeats every plan.heartbeat_every until then.
//   Cancel         Requested or Shutdown: the work returns Outcome::failure("cancelled") after the
//                  plan's cancel_latency, unless it was due to return sooner anyway. TimedOut: the
//                  kernel already counts the attempt as over, so the work is left alone and its
//                  completion still arrives later, as a stale one the kernel must ignore; hanging
//                  (never_returns) work honours the token and returns after cancel_latency.
//   RunQueuedWork  the QueuedWorkHost answers at once (recorded as event::QueuedWorkAnswer).
//   Persist        buffered; the records one input caused are committed together at its end (a
//                  group commit, as RuntimeCore does), and only then is a durable spawn acknowledged.
//   the others     recorded: persisted(), notifications(), deliveries(), flush_result().
//
// Fault sites (late and early timers, duplicated and stale completions, persistence errors, crashes
// at any step, work that hangs) are off unless set_faults() switches them on: see sim_faults.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tasklane/drivers/sim_faults.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane::sim {

// What a simulated piece of work is asked to do: the Start command, plus the simulation's seeded
// generator for handlers that want randomness of their own.
struct WorkRequest {
  command::Start start;
  Time now{0};
  std::uint64_t random = 0;  // a fresh draw from the simulation's generator
};

// How a simulated attempt behaves.
struct WorkPlan {
  Duration duration{1000};      // virtual time until the work returns
  Outcome outcome;              // what it returns
  bool never_returns = false;   // work that hangs (only a timeout or a cancel can end it)
  Duration cancel_latency{0};   // after a Cancel command, the work returns this much later
  // Work that reports heartbeats (TaskSpec::heartbeat): one every this much virtual time after its
  // start, until it returns, each fed as Kernel::heartbeat. Work that a Cancel{TimedOut} leaves
  // running goes on beating (stale beats the kernel ignores); a hang fault stops the beats, as a
  // stuck call would. Hanging work that beats keeps run_until_idle busy until it is cancelled.
  std::optional<Duration> heartbeat_every;
};

using Handler = std::function<WorkPlan(const WorkRequest&)>;

// The host's answer to a RunQueuedWork command (seed 001): the session it submitted, or nullopt.
using QueuedWorkHost = std::function<std::optional<std::string>(const command::RunQueuedWork&)>;

struct TimedCommand {
  Time at{0};
  Command command;
  friend bool operator==(const TimedCommand&, const TimedCommand&) = default;
};

class Simulation {
 public:
  Simulation(Config config, std::uint64_t seed);

  Kernel& kernel();
  const Kernel& kernel() const;
  Time now() const;

  // Handlers by task kind. A kind without a handler succeeds after 1 ms with a null result.
  void on_kind(std::string kind, Handler handler);
  void on_queued_work(QueuedWorkHost host);  // default: always idle

  // Inputs, stamped with the virtual now and recorded in the trace.
  Result<TaskId, SpawnError> spawn(TaskSpec spec);
  std::size_t abort(const AbortSelector& which);
  FlushId flush(const FlushSelector& which);
  // Kernel::pause / resume. The store keeps the rules at once, as RuntimeCore does by writing a
  // snapshot: durable_state() carries them, unless the process died carrying the input out.
  std::size_t pause(const PauseSelector& which);
  std::size_t resume(const PauseSelector& which);
  Result<void, SendError> send(TaskId to, std::string from, Json message);
  void poke(std::optional<std::string> session, std::string reason);
  void complete_session(std::string session, std::string reason);
  void shutdown(ShutdownMode mode);
  void restore(const Snapshot& snapshot);

  // A process crash: returns the kernel's durable state, puts a fresh kernel (same config) in its
  // place and drops every piece of work in flight (it died with the process; its completions never
  // arrive) and every record a failed commit left unsynced. Not an input: nothing is recorded in
  // the trace but a restart mark (restarts()). Follow it with restore(snapshot), or with
  // restore(durable_state()) for what a real restart reads back, or not, for a total loss.
  // kernel() stays the same object.
  // Flush results are forgotten (flush ids start again at 1); the other records are kept.
  Snapshot crash();

  // Time: processes, in time order, every work completion and kernel deadline up to `until`, then
  // leaves the clock at `until`. Completions due at the same instant go in a seeded order.
  void advance_to(Time until);
  void advance_by(Duration d);
  // Steps until nothing is running and no deadline is left, or until virtual `limit` (counted from
  // now) is reached. Returns false when the limit stopped it (the clock is then at now + limit).
  // Work that hangs without a timeout is never due, so it does not keep this from returning true:
  // kernel().running() tells whether such work is left. With Config::queued_work_runner the poll
  // re-arms for ever, so only the limit stops it.
  bool run_until_idle(Duration limit = seconds(3600));
  // One step: the next completion or deadline, whichever is first. False when there is none.
  bool step();

  // What happened.
  const std::vector<TimedEvent>& trace() const;
  // Indices into trace() where crash() put a fresh kernel: replay starts a new kernel there.
  const std::vector<std::size_t>& restarts() const;
  const std::vector<TimedCommand>& commands() const;
  std::uint64_t command_hash() const;  // FNV-1a over the JSON of every command, with its time
  std::optional<command::FlushDone> flush_result(FlushId id) const;
  const std::vector<command::Notify>& notifications() const;
  const std::vector<command::Deliver>& deliveries() const;
  // The durable store as the committed Persist commands left it: the latest record per task (a
  // PersistSnapshot replaces it with the snapshot's tasks, as a compaction does).
  const std::map<TaskId, TaskInfo>& persisted() const;
  // The last PersistSnapshot (at the end of a shutdown), if any.
  const std::optional<Snapshot>& persisted_snapshot() const;
  // What a restarting process reads back: the last snapshot with the committed records over it
  // (next_id past the records, as FileJournal's recovery does, and past every id handed out: a
  // real driver reserves ids in its journal ahead, so a restart never hands out an id twice).
  // crash faults restart from it.
  Snapshot durable_state() const;
  std::size_t unsynced_records() const;  // Persist records a failed commit left buffered
  // Durable spawns whose commit succeeded: what a real driver would have acknowledged.
  const std::set<TaskId>& acknowledged() const;

  // Fault sites (sim_faults.hpp): from now on, until the next call. Faults{} switches them off.
  void set_faults(const Faults& faults);
  const Faults& faults() const;
  const std::vector<FaultRecord>& fault_log() const;
  // What the fault sites saw the kernel do that it must not; empty in a correct run.
  const std::vector<std::string>& fault_findings() const;
  // Called for every fault as it is used (before its effect for a crash).
  void on_fault(std::function<void(const FaultRecord&)> observer);
  // Called when a crash fault has put a fresh kernel in place, with the durable state it is about to
  // restore (the restore follows at once, as an input). crash() itself does not call it.
  void on_restart(std::function<void(const Snapshot& restored)> observer);
  std::size_t in_flight() const;  // simulated attempts whose work has not returned yet

  // Called for every command after the simulation has carried it out (for invariant checkers); also
  // for the commands the kernel emitted after a crash fault killed the process, which were not
  // carried out. Observers are called in the order they were added and must not feed the simulation inputs.
  void on_command(std::function<void(Time, const Command&)> observer);
  // Called after every input (spawn, abort, a tick, a completion, ...) once every command it caused
  // has been carried out, with the input as recorded in the trace. The answers to RunQueuedWork are
  // part of the input that asked for them: they are in the trace but not reported on their own.
  void on_input(std::function<void(const TimedEvent&)> observer);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Feeds `trace` into fresh kernels (a new one at each index in `restarts`) and returns every
// command they emit, stamped with its event's time. Equal to Simulation::commands() for that run.
std::vector<TimedCommand> replay(const Config& config, const std::vector<TimedEvent>& trace,
                                 const std::vector<std::size_t>& restarts = {});

// The hash Simulation::command_hash() keeps, over any list of commands.
std::uint64_t command_hash(const std::vector<TimedCommand>& commands);

}  // namespace tasklane::sim
