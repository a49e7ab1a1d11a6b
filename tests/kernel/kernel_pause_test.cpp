// Pause and resume by owner or by purpose: paused work stays pending (TaskInfo::paused) and keeps
// its place, running attempts go on, later spawns that match a rule are paused too, and a resume
// makes them ready in their original order. Rules are durable through the snapshot.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::started_ids;
using testkit::task;

Config one_at_a_time() {
  Config config;
  config.max_running = 1;
  return config;
}

TaskSpec with_purpose(std::string purpose, std::string owner = "alice") {
  TaskSpec spec = task("work", std::move(owner));
  spec.key = testkit::key("s-" + purpose, purpose);
  return spec;
}

TEST(KernelPause, PausedWorkStaysPendingAndResumesInItsOriginalOrder) {
  Harness h(one_at_a_time());
  const TaskId running = h.spawn(task("work", "alice"), ms(0));
  const TaskId a1 = h.spawn(task("work", "alice"), ms(0));
  const TaskId b1 = h.spawn(task("work", "bob"), ms(0));
  const TaskId a2 = h.spawn(task("work", "alice"), ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{running});
  EXPECT_EQ(h.kernel.pause(pause_selector::Owner{"alice"}, ms(1)), 2u) << "a1 and a2; the running attempt is not touched";
  EXPECT_TRUE(h.kernel.get(a1)->paused && h.kernel.get(a2)->paused);
  EXPECT_FALSE(h.kernel.get(running)->paused);
  EXPECT_EQ(h.status(a1), TaskStatus::Pending);
  h.succeed(running, 1, ms(2));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{b1}) << "the paused ones are passed over";
  const TaskId a3 = h.spawn(task("work", "alice"), ms(3));
  EXPECT_TRUE(h.kernel.get(a3)->paused) << "a later spawn under the rule is paused too";
  h.succeed(b1, 1, ms(4));
  EXPECT_TRUE(started_ids(h.drain()).empty());
  EXPECT_EQ(h.kernel.resume(pause_selector::Owner{"alice"}, ms(5)), 3u);
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{a1});
  h.succeed(a1, 1, ms(6));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{a2});
  h.succeed(a2, 1, ms(7));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{a3});
}

TEST(KernelPause, ByPurposeHoldsOnlyTasksWhoseKeyHasThatPurpose) {
  Harness h(one_at_a_time());
  h.kernel.pause(pause_selector::Purpose{"compaction"}, ms(0));
  const TaskId compact = h.spawn(with_purpose("compaction"), ms(0));
  const TaskId facts = h.spawn(with_purpose("facts"), ms(0));
  const TaskId keyless = h.spawn(task(), ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{facts});
  EXPECT_TRUE(h.kernel.get(compact)->paused);
  EXPECT_FALSE(h.kernel.get(keyless)->paused) << "no key, no purpose to pause";
  h.succeed(facts, 1, ms(1));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{keyless});
}

TEST(KernelPause, APausedLaneHeadKeepsItsPlaceAndHoldsTheLane) {
  Harness h(one_at_a_time());
  TaskSpec mine = with_purpose("facts", "alice");
  TaskSpec theirs = with_purpose("facts", "bob");  // same key: one lane
  const TaskId head = h.spawn(mine, ms(0));
  const TaskId behind = h.spawn(theirs, ms(0));
  h.kernel.pause(pause_selector::Owner{"alice"}, ms(0));  // head already runs: it goes on
  h.succeed(head, 1, ms(1));
  h.drain();
  const TaskId second_head = h.spawn(mine, ms(2));
  h.succeed(behind, 1, ms(3));
  const TaskId last = h.spawn(theirs, ms(4));
  EXPECT_TRUE(started_ids(h.drain()).empty()) << "the paused head holds bob's task behind it";
  EXPECT_EQ(h.kernel.resume(pause_selector::Owner{"alice"}, ms(5)), 1u);
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second_head});
  h.succeed(second_head, 1, ms(6));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{last});
}

TEST(KernelPause, ARetryUnderARuleWaitsForTheResume) {
  Harness h(one_at_a_time());
  TaskSpec flaky = task("work", "alice");
  flaky.retry.max_attempts = 2;
  flaky.retry.initial_backoff = Duration{0};
  const TaskId id = h.spawn(flaky, ms(0));
  h.drain();
  h.kernel.pause(pause_selector::Owner{"alice"}, ms(1));
  h.fail(id, 1, ms(2), "429");
  EXPECT_TRUE(started_ids(h.drain()).empty());
  EXPECT_TRUE(h.kernel.get(id)->paused);
  h.kernel.resume(pause_selector::Owner{"alice"}, ms(3));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{id});
}

TEST(KernelPause, OverlappingRulesHoldUntilTheLastIsLifted) {
  Harness h(one_at_a_time());
  h.kernel.pause(pause_selector::Owner{"alice"}, ms(0));
  h.kernel.pause(pause_selector::Purpose{"facts"}, ms(0));
  const TaskId id = h.spawn(with_purpose("facts"), ms(0));
  EXPECT_EQ(h.kernel.pause(pause_selector::Owner{"alice"}, ms(0)), 0u) << "already in force";
  EXPECT_EQ(h.kernel.resume(pause_selector::Owner{"alice"}, ms(1)), 0u) << "the purpose rule still holds it";
  EXPECT_TRUE(h.kernel.get(id)->paused);
  EXPECT_EQ(h.kernel.resume(pause_selector::Owner{"alice"}, ms(1)), 0u) << "no such rule any more";
  EXPECT_EQ(h.kernel.resume(pause_selector::Purpose{"facts"}, ms(2)), 1u);
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{id});
}

TEST(KernelPause, AFlushOfPausedWorkWaitsAndADrainingShutdownDoesNot) {
  Harness h(one_at_a_time());
  h.kernel.pause(pause_selector::Owner{"alice"}, ms(0));
  const TaskId id = h.spawn(task("work", "alice"), ms(0));
  h.kernel.flush(flush_selector::All{}, ms(1));
  EXPECT_TRUE(testkit::flush_dones(h.drain()).empty()) << "the flush waits for the paused task";
  h.kernel.shutdown(ShutdownMode::Drain, ms(2));
  EXPECT_EQ(testkit::stops(h.drain()), 1u) << "nothing runs: the shutdown ends at once";
  EXPECT_EQ(h.status(id), TaskStatus::Pending);
}

TEST(KernelPause, CancellingPausedWorkEndsIt) {
  Harness h;
  h.kernel.pause(pause_selector::Owner{"alice"}, ms(0));
  const TaskId id = h.spawn(task("work", "alice"), ms(0));
  EXPECT_TRUE(h.kernel.cancel(id, ms(1)));
  EXPECT_EQ(h.status(id), TaskStatus::Cancelled);
  EXPECT_FALSE(h.kernel.get(id)->paused);
}

TEST(KernelPause, RulesAreInTheSnapshotAndARestartKeepsTheWorkPaused) {
  Harness h;
  TaskSpec durable = task("work", "alice");
  durable.durable = true;
  h.kernel.pause(pause_selector::Owner{"alice"}, ms(0));
  h.kernel.pause(pause_selector::Purpose{"compaction"}, ms(0));
  const TaskId id = h.spawn(durable, ms(0));
  const auto persisted = testkit::persists(h.drain());
  ASSERT_FALSE(persisted.empty());
  EXPECT_TRUE(persisted.back().record.paused);
  const Snapshot snap = h.kernel.snapshot();
  EXPECT_EQ(snap.paused_owners, std::vector<std::string>{"alice"});
  EXPECT_EQ(snap.paused_purposes, std::vector<std::string>{"compaction"});

  Harness after(Config{});
  after.kernel.restore(snap, ms(10));
  EXPECT_TRUE(started_ids(after.drain()).empty());
  EXPECT_TRUE(after.kernel.get(id)->paused);
  EXPECT_EQ(after.kernel.snapshot(), snap) << "snapshot -> restore -> snapshot";
  after.kernel.resume(pause_selector::Owner{"alice"}, ms(11));
  EXPECT_EQ(started_ids(after.drain()), std::vector<TaskId>{id});
}

TEST(KernelPause, APausedWaiterNeedsBothItsDependencyAndTheResume) {
  Harness h;
  const TaskId dep = h.spawn(task("work", "bob"), ms(0));
  TaskSpec waiter = task("work", "alice");
  waiter.after = {dep};
  h.kernel.pause(pause_selector::Owner{"alice"}, ms(0));
  const TaskId w = h.spawn(waiter, ms(0));
  h.drain();
  h.succeed(dep, 1, ms(1));
  EXPECT_TRUE(started_ids(h.drain()).empty());
  h.kernel.resume(pause_selector::Owner{"alice"}, ms(2));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{w});
}

TEST(KernelPause, ReplayThroughApplyGivesTheSameCommands) {
  const std::vector<TimedEvent> events = {
      {ms(0), event::Pause{pause_selector::Purpose{"p"}}},
      {ms(0), event::Spawn{with_purpose("p")}},
      {ms(0), event::Spawn{task()}},
      {ms(1), event::Resume{pause_selector::Purpose{"p"}}},
  };
  Kernel a;
  Kernel b;
  for (const auto& e : events) apply(a, e);
  for (const auto& e : events) apply(b, e);
  EXPECT_EQ(testkit::drain(a), testkit::drain(b));
  EXPECT_EQ(a.running(), 2u);
}

}  // namespace
}  // namespace tasklane
