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
// command it drained with the time it was drained (commands()), so a run replays exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

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
};

using Handler = std::function<WorkPlan(const WorkRequest&)>;

// The host's answer to a RunQueuedWork command (seed 001): the session it submitted, or nullopt.
using QueuedWorkHost = std::function<std::optional<std::string>(const command::RunQueuedWork&)>;

struct TimedCommand {
  Time at{0};
  Command command;
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
  Result<void, SendError> send(TaskId to, std::string from, Json message);
  void poke(std::optional<std::string> session, std::string reason);
  void complete_session(std::string session, std::string reason);
  void shutdown(ShutdownMode mode);
  void restore(const Snapshot& snapshot);

  // Time: processes, in time order, every work completion and kernel deadline up to `until`, then
  // leaves the clock at `until`. Completions due at the same instant go in a seeded order.
  void advance_to(Time until);
  void advance_by(Duration d);
  // Steps until nothing is running and no deadline is left, or until virtual `limit` is reached.
  // Returns false when the limit stopped it.
  bool run_until_idle(Duration limit = seconds(3600));
  // One step: the next completion or deadline, whichever is first. False when there is none.
  bool step();

  // What happened.
  const std::vector<TimedEvent>& trace() const;
  const std::vector<TimedCommand>& commands() const;
  std::uint64_t command_hash() const;  // FNV-1a over the JSON of every command, with its time
  std::optional<command::FlushDone> flush_result(FlushId id) const;
  const std::vector<command::Notify>& notifications() const;
  const std::vector<command::Deliver>& deliveries() const;
  // The durable store as the Persist commands left it: the latest record per task.
  const std::map<TaskId, TaskInfo>& persisted() const;
  std::size_t in_flight() const;  // simulated attempts whose work has not returned yet

  // Called for every command after the simulation has carried it out (for invariant checkers).
  void on_command(std::function<void(Time, const Command&)> observer);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tasklane::sim
