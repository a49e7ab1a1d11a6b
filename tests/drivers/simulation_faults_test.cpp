// The simulation's fault sites (sim_faults.hpp), one at a time: each does what it says, stays within
// its bounds, and leaves the run replayable.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "tasklane/drivers/simulation.hpp"

namespace tasklane::sim {
namespace {

TaskSpec task(std::string kind) {
  TaskSpec spec;
  spec.kind = std::move(kind);
  spec.owner = "alice";
  return spec;
}

WorkPlan plan(Duration d, Outcome outcome = Outcome::success()) { return WorkPlan{d, std::move(outcome), false, Duration{0}, std::nullopt}; }

std::vector<FaultRecord> faults_of(const Simulation& sim, FaultKind kind) {
  std::vector<FaultRecord> out;
  for (const auto& f : sim.fault_log()) {
    if (f.kind == kind) out.push_back(f);
  }
  return out;
}

std::vector<std::pair<Time, command::Start>> starts(const Simulation& sim) {
  std::vector<std::pair<Time, command::Start>> out;
  for (const auto& c : sim.commands()) {
    if (const auto* s = std::get_if<command::Start>(&c.command)) out.emplace_back(c.at, *s);
  }
  return out;
}

void expect_replays(const Simulation& sim) {
  EXPECT_EQ(replay(sim.kernel().config(), sim.trace(), sim.restarts()), sim.commands());
  EXPECT_TRUE(sim.fault_findings().empty()) << sim.fault_findings().front();
}

// Runs a small mixed workload; used to show that faults switched off change nothing.
std::uint64_t small_run(Simulation& sim) {
  sim.on_kind("work", [](const WorkRequest& w) {
    return plan(milliseconds(1 + static_cast<std::int64_t>(w.random % 5)), w.random % 3 ? Outcome::success() : Outcome::failure("x"));
  });
  for (int i = 0; i < 20; ++i) {
    TaskSpec spec = task("work");
    spec.durable = i % 2 == 0;
    spec.run_after = milliseconds(i % 4);
    spec.retry.max_attempts = 3;
    (void)sim.spawn(spec);
    sim.advance_by(milliseconds(1));
  }
  sim.run_until_idle();
  return sim.command_hash();
}

TEST(SimulationFaults, FaultsSwitchedOffLeaveTheRunAsItWas) {
  Simulation plain(Config{}, 11);
  Simulation switched(Config{}, 11);
  switched.set_faults(Faults{});
  EXPECT_EQ(small_run(plain), small_run(switched));
  EXPECT_TRUE(switched.fault_log().empty());
  EXPECT_FALSE(Faults{}.any());
}

TEST(SimulationFaults, LateTimersFireWithinTheirBound) {
  Simulation sim(Config{}, 3);
  Faults f;
  f.late_timer = 1000;
  f.max_lateness = milliseconds(3);
  sim.set_faults(f);
  TaskSpec spec = task("work");
  spec.run_after = milliseconds(10);
  const TaskId id = sim.spawn(spec).value();
  EXPECT_TRUE(sim.run_until_idle());
  const auto s = starts(sim);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_GT(s[0].first, milliseconds(10)) << "the tick came late";
  EXPECT_LE(s[0].first, milliseconds(13)) << "but not later than max_lateness";
  const auto late = faults_of(sim, FaultKind::LateTimer);
  ASSERT_FALSE(late.empty());
  EXPECT_EQ(late[0].deadline, std::optional<Time>(milliseconds(10)));
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Completed);
  expect_replays(sim);
}

TEST(SimulationFaults, EarlyTicksChangeNothingThatIsNotDue) {
  Simulation sim(Config{}, 5);
  Faults f;
  f.early_timer = 1000;
  sim.set_faults(f);
  TaskSpec spec = task("work");
  spec.run_after = milliseconds(10);
  spec.timeout = milliseconds(4);
  (void)sim.spawn(spec);
  EXPECT_TRUE(sim.run_until_idle());
  const auto early = faults_of(sim, FaultKind::EarlyTimer);
  ASSERT_FALSE(early.empty());
  EXPECT_LT(early[0].at, milliseconds(10));
  const auto s = starts(sim);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].first, milliseconds(10)) << "the early tick did not start it early";
  EXPECT_EQ(s[0].second.deadline, std::optional<Time>(milliseconds(14)));
  expect_replays(sim);
}

TEST(SimulationFaults, DuplicatedCompletionsAreIgnored) {
  Simulation sim(Config{}, 7);
  Faults f;
  f.duplicate_completion = 1000;
  sim.set_faults(f);
  for (int i = 0; i < 5; ++i) (void)sim.spawn(task("work"));
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(faults_of(sim, FaultKind::DuplicateCompletion).size(), 5u);
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 5u);
  EXPECT_EQ(sim.notifications().size(), 5u) << "one Notify per task";
  expect_replays(sim);
}

TEST(SimulationFaults, StaleCompletionsOfEarlierAttemptsAreIgnored) {
  Simulation sim(Config{}, 9);
  sim.on_kind("flaky", [](const WorkRequest& w) {
    return plan(milliseconds(2), w.start.attempt < 3 ? Outcome::failure("again") : Outcome::success());
  });
  Faults f;
  f.stale_completion = 1000;
  sim.set_faults(f);
  TaskSpec spec = task("flaky");
  spec.retry.max_attempts = 3;
  const TaskId id = sim.spawn(spec).value();
  EXPECT_TRUE(sim.run_until_idle());
  const auto stale = faults_of(sim, FaultKind::StaleCompletion);
  ASSERT_EQ(stale.size(), 3u);
  EXPECT_NE(stale[0].task, std::optional<TaskId>(id)) << "attempt 1 has no attempt before it: an unknown task";
  EXPECT_EQ(stale[1].task, std::optional<TaskId>(id));
  EXPECT_EQ(stale[1].attempt, 1u);
  EXPECT_EQ(stale[2].attempt, 2u);
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 3u);
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Completed);
  expect_replays(sim);
}

TEST(SimulationFaults, AFailedPersistIsNotAcknowledgedAndIsRetriedByTheNextCommit) {
  Simulation sim(Config{}, 13);
  Faults f;
  f.persist_error = 1000;
  sim.set_faults(f);
  TaskSpec durable = task("work");
  durable.durable = true;
  durable.run_after = seconds(10);
  const TaskId first = sim.spawn(durable).value();
  EXPECT_EQ(sim.acknowledged().count(first), 0u) << "the commit failed: no ack";
  EXPECT_EQ(sim.persisted().count(first), 0u);
  EXPECT_EQ(sim.unsynced_records(), 1u) << "the record stays buffered";
  ASSERT_EQ(faults_of(sim, FaultKind::PersistError).size(), 1u);
  EXPECT_EQ(faults_of(sim, FaultKind::PersistError)[0].tasks_unacknowledged, 1u);

  sim.set_faults(Faults{});
  const TaskId second = sim.spawn(durable).value();
  EXPECT_EQ(sim.acknowledged(), std::set<TaskId>{second}) << "only the spawn whose commit succeeded";
  EXPECT_EQ(sim.persisted().count(first), 1u) << "written by the next commit";
  EXPECT_EQ(sim.unsynced_records(), 0u);
  EXPECT_EQ(sim.durable_state().tasks, sim.kernel().snapshot().tasks);
}

TEST(SimulationFaults, ARecordLeftUnsyncedDiesWithTheProcess) {
  Simulation sim(Config{}, 13);
  Faults f;
  f.persist_error = 1000;
  sim.set_faults(f);
  TaskSpec durable = task("work");
  durable.durable = true;
  durable.run_after = seconds(10);
  const TaskId id = sim.spawn(durable).value();
  sim.set_faults(Faults{});
  (void)sim.crash();
  EXPECT_EQ(sim.unsynced_records(), 0u);
  const Snapshot back = sim.durable_state();
  EXPECT_TRUE(back.tasks.empty()) << "never acknowledged, never stored";
  sim.restore(back);
  EXPECT_FALSE(sim.kernel().get(id).has_value());
}

TEST(SimulationFaults, ACrashRestartsFromTheDurableStore) {
  Simulation sim(Config{}, 17);
  sim.on_kind("long", [](const WorkRequest&) { return plan(milliseconds(50)); });
  TaskSpec durable = task("long");
  durable.durable = true;
  const TaskId before = sim.spawn(durable).value();
  ASSERT_EQ(sim.acknowledged().count(before), 1u);
  std::vector<Snapshot> restored;
  sim.on_restart([&](const Snapshot& s) { restored.push_back(s); });
  Faults f;
  f.crash = 1000;
  sim.set_faults(f);
  (void)sim.spawn(durable);  // the process dies while carrying this spawn out
  sim.set_faults(Faults{});
  ASSERT_EQ(sim.restarts().size(), 1u);
  ASSERT_EQ(restored.size(), 1u);
  const auto crashes = faults_of(sim, FaultKind::Crash);
  ASSERT_EQ(crashes.size(), 1u);
  EXPECT_LE(crashes[0].records_kept, crashes[0].records);
  // The acknowledged task was durable before the crash; it was running, so it comes back orphaned.
  const std::optional<TaskInfo> info = sim.kernel().get(before);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, TaskStatus::Failed);
  EXPECT_EQ(sim.in_flight(), 0u) << "the dead process's work never returns";
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().unfinished(), 0u);
  expect_replays(sim);
}

TEST(SimulationFaults, CrashesAtEveryStepKeepEveryAcknowledgedSpawn) {
  // Crash often, everywhere, with failing commits: an acknowledged spawn is always recovered.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Simulation sim(Config{}, seed);
    sim.on_kind("work", [](const WorkRequest& w) { return plan(milliseconds(static_cast<std::int64_t>(w.random % 7))); });
    std::set<TaskId> lost;
    std::set<TaskId> acknowledged_so_far;
    sim.on_restart([&](const Snapshot& restored) {
      std::set<TaskId> back;
      for (const auto& r : restored.tasks) back.insert(r.id);
      for (const TaskId id : sim.acknowledged()) {
        if (!back.count(id)) lost.insert(id);
      }
    });
    Faults f;
    f.crash = 150;
    f.persist_error = 150;
    sim.set_faults(f);
    for (int i = 0; i < 60; ++i) {
      TaskSpec spec = task("work");
      spec.durable = true;
      spec.retry.max_attempts = 2;
      spec.retry.requeue_on_restart = i % 2 == 0;
      (void)sim.spawn(spec);
      sim.advance_by(milliseconds(2));
    }
    sim.set_faults(Faults{});
    EXPECT_TRUE(sim.run_until_idle());
    EXPECT_FALSE(faults_of(sim, FaultKind::Crash).empty()) << "seed " << seed;
    EXPECT_TRUE(lost.empty()) << "seed " << seed << ": an acknowledged spawn was lost, first " << to_string(*lost.begin());
    EXPECT_EQ(sim.kernel().unfinished(), 0u) << "seed " << seed;
    expect_replays(sim);
  }
}

TEST(SimulationFaults, HangingWorkIsEndedByItsTimeout) {
  Simulation sim(Config{}, 19);
  Faults f;
  f.hang = 1000;
  sim.set_faults(f);
  TaskSpec timed = task("work");
  timed.timeout = milliseconds(8);
  const TaskId a = sim.spawn(timed).value();
  const TaskId b = sim.spawn(task("work")).value();
  sim.set_faults(Faults{});
  EXPECT_EQ(faults_of(sim, FaultKind::Hang).size(), 2u);
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().get(a)->status, TaskStatus::TimedOut);
  EXPECT_EQ(sim.kernel().get(b)->status, TaskStatus::Running) << "no timeout: only a cancel ends it";
  EXPECT_EQ(sim.abort(abort_selector::Task{b}), 1u);
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().get(b)->status, TaskStatus::Cancelled);
  expect_replays(sim);
}

TEST(SimulationFaults, TheSameSeedGivesTheSameFaults) {
  auto run = [](std::uint64_t seed) {
    Simulation sim(Config{}, seed);
    Faults f;
    f.late_timer = 300;
    f.early_timer = 300;
    f.duplicate_completion = 300;
    f.stale_completion = 300;
    f.persist_error = 100;
    f.crash = 50;
    f.hang = 100;
    sim.set_faults(f);
    const std::uint64_t hash = small_run(sim);
    return std::make_pair(hash, sim.fault_log().size());
  };
  EXPECT_EQ(run(23), run(23));
  EXPECT_NE(run(23).first, run(24).first);
}

}  // namespace
}  // namespace tasklane::sim
