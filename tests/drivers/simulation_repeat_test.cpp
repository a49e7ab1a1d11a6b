// Repeating tasks in the simulation driver: a durable series under a cooldown runs through a crash
// (the run in flight is orphaned and the series goes on from the journal), the invariant checker
// finds nothing wrong, and the run replays exactly.
#include <gtest/gtest.h>

#include <variant>

#include "tasklane/drivers/invariants.hpp"
#include "tasklane/drivers/simulation.hpp"

namespace tasklane::sim {
namespace {

TaskSpec series_spec(std::uint32_t times) {
  TaskSpec spec;
  spec.kind = "compact";
  spec.owner = "alice";
  spec.durable = true;
  spec.quota = QuotaSpec{"alice/compaction", milliseconds(250), 0, false};  // a cooldown between runs
  spec.repeat = Repeat{milliseconds(100), RepeatMode::FixedRate, times};
  return spec;
}

WorkPlan takes(Duration d) {
  WorkPlan plan;
  plan.duration = d;
  plan.outcome = Outcome::success();
  return plan;
}

std::vector<TaskInfo> runs_of(const Kernel& kernel, TaskId series) {
  std::vector<TaskInfo> runs;
  for (auto& info : kernel.list("alice")) {
    if (info.series == series) runs.push_back(std::move(info));
  }
  return runs;
}

TEST(SimulationRepeat, ASeriesUnderACooldownRunsEveryTimeItMayAndSkipsTheSlotsBetween) {
  Simulation sim(Config{}, 11);
  InvariantChecker checker(sim.kernel());
  watch(sim, checker);
  sim.on_kind("compact", [](const WorkRequest&) { return takes(milliseconds(20)); });
  const auto first = sim.spawn(series_spec(4));
  ASSERT_TRUE(first.has_value());
  checker.on_spawned(first.value());
  EXPECT_TRUE(sim.run_until_idle());
  const auto runs = runs_of(sim.kernel(), first.value());
  ASSERT_EQ(runs.size(), 4u);
  std::vector<Time> starts;
  for (const auto& c : sim.commands()) {
    if (std::holds_alternative<command::Start>(c.command)) starts.push_back(c.at);
  }
  ASSERT_EQ(starts.size(), 4u);
  for (std::size_t i = 1; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - starts[i - 1], milliseconds(250)) << "the cooldown holds every run";
  }
  for (const auto& r : runs) EXPECT_EQ(r.due.count() % milliseconds(100).count(), 0) << "each run is due on a slot of the grid";
  EXPECT_GT(sim.kernel().stats().repeat_slots_skipped, 0u);
  for (const auto& r : runs) EXPECT_EQ(r.status, TaskStatus::Completed);
  EXPECT_TRUE(checker.ok()) << checker.violations().front();
}

TEST(SimulationRepeat, ACrashMidSeriesOrphansTheRunInFlightAndTheSeriesGoesOn) {
  Simulation sim(Config{}, 12);
  sim.on_kind("compact", [](const WorkRequest&) { return takes(milliseconds(60)); });
  TaskSpec spec = series_spec(3);
  spec.quota.reset();
  const auto first = sim.spawn(spec);
  ASSERT_TRUE(first.has_value());
  sim.advance_to(milliseconds(130));  // run 1 done at 60; run 2 started at 100, in flight
  ASSERT_EQ(runs_of(sim.kernel(), first.value()).size(), 2u);
  sim.crash();
  sim.restore(sim.durable_state());
  EXPECT_TRUE(sim.run_until_idle());
  const auto runs = runs_of(sim.kernel(), first.value());
  ASSERT_EQ(runs.size(), 3u) << "three runs in all, the orphaned one among them";
  EXPECT_EQ(runs[0].status, TaskStatus::Completed);
  EXPECT_EQ(runs[1].status, TaskStatus::Failed);
  EXPECT_EQ(runs[1].error, "task orphaned: runtime restarted while running");
  EXPECT_EQ(runs[2].status, TaskStatus::Completed);
  EXPECT_EQ(runs[2].run, 3u);
  EXPECT_EQ(runs[2].due.count() % milliseconds(100).count(), 0) << "still on the first run's grid";
}

}  // namespace
}  // namespace tasklane::sim
