// The simulation driver's heartbeats (WorkPlan::heartbeat_every): work that beats often enough
// outlives its heartbeat interval, work that beats too rarely times out and retries, the beats of a
// timed-out attempt that goes on running are stale and ignored, and the run replays exactly.
#include <gtest/gtest.h>

#include <variant>

#include "tasklane/drivers/invariants.hpp"
#include "tasklane/drivers/simulation.hpp"

namespace tasklane::sim {
namespace {

TaskSpec beating(Duration interval) {
  TaskSpec spec;
  spec.kind = "call";
  spec.owner = "alice";
  spec.heartbeat = interval;
  return spec;
}

WorkPlan beats_every(Duration every, Duration lasts) {
  WorkPlan plan;
  plan.duration = lasts;
  plan.outcome = Outcome::success();
  plan.heartbeat_every = every;
  return plan;
}

std::size_t heartbeats_in(const std::vector<TimedEvent>& trace) {
  std::size_t n = 0;
  for (const auto& e : trace) n += std::holds_alternative<event::Heartbeat>(e.event) ? 1 : 0;
  return n;
}

TEST(SimulationHeartbeat, WorkThatBeatsOftenEnoughOutlivesItsInterval) {
  Simulation sim(Config{}, 3);
  InvariantChecker checker(sim.kernel());
  watch(sim, checker);
  sim.on_kind("call", [](const WorkRequest&) { return beats_every(milliseconds(30), milliseconds(200)); });
  const auto id = sim.spawn(beating(milliseconds(50)));
  ASSERT_TRUE(id.has_value());
  checker.on_spawned(id.value());
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().get(id.value())->status, TaskStatus::Completed);
  EXPECT_EQ(sim.kernel().get(id.value())->attempt, 1u);
  EXPECT_EQ(heartbeats_in(sim.trace()), 6u) << "at 30, 60, ..., 180 ms";
  EXPECT_EQ(sim.kernel().stats().ignored_heartbeats, 0u);
  EXPECT_TRUE(checker.ok()) << checker.violations().front();
}

TEST(SimulationHeartbeat, WorkThatBeatsTooRarelyTimesOutRetriesAndItsLateBeatsAreIgnored) {
  Simulation sim(Config{}, 5);
  InvariantChecker checker(sim.kernel());
  watch(sim, checker);
  sim.on_kind("call", [](const WorkRequest&) { return beats_every(milliseconds(80), milliseconds(300)); });
  TaskSpec spec = beating(milliseconds(50));
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = milliseconds(1);
  const auto id = sim.spawn(spec);
  ASSERT_TRUE(id.has_value());
  checker.on_spawned(id.value());
  EXPECT_TRUE(sim.run_until_idle());
  const std::optional<TaskInfo> info = sim.kernel().get(id.value());
  EXPECT_EQ(info->status, TaskStatus::TimedOut);
  EXPECT_EQ(info->error, "heartbeat timeout: no heartbeat within 50 ms");
  EXPECT_EQ(sim.kernel().stats().heartbeat_timeouts, 2u);
  EXPECT_GT(sim.kernel().stats().ignored_heartbeats, 0u) << "timed-out work left running goes on beating";
  EXPECT_TRUE(checker.ok()) << checker.violations().front();
  EXPECT_TRUE(checker.unnotified().empty());
  EXPECT_EQ(replay(Config{}, sim.trace(), sim.restarts()), sim.commands());
}

TEST(SimulationHeartbeat, AHangStopsTheBeats) {
  Simulation sim(Config{}, 9);
  Faults faults;
  faults.hang = 1000;  // every attempt hangs
  sim.set_faults(faults);
  sim.on_kind("call", [](const WorkRequest&) { return beats_every(milliseconds(10), milliseconds(100)); });
  const auto id = sim.spawn(beating(milliseconds(40)));
  ASSERT_TRUE(id.has_value());
  sim.run_until_idle(seconds(1));
  EXPECT_EQ(sim.kernel().get(id.value())->status, TaskStatus::TimedOut);
  EXPECT_EQ(heartbeats_in(sim.trace()), 0u);
}

}  // namespace
}  // namespace tasklane::sim
