// Which task starts when: priorities, spawn order, run_after, max_running, capacity and sequence
// keys. Each test drives the kernel by hand with explicit times.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::started_ids;
using testkit::starts;
using testkit::task;
using testkit::us;

Config one_at_a_time() {
  Config c;
  c.max_running = 1;
  return c;
}

TaskSpec with_priority(Priority p) {
  TaskSpec spec = task();
  spec.priority = p;
  return spec;
}

TEST(KernelScheduling, PrioritiesStartCriticalHighNormalLow) {
  Harness h(one_at_a_time());
  const TaskId blocker = h.spawn(task(), ms(0));
  const TaskId low = h.spawn(with_priority(Priority::Low), ms(1));
  const TaskId normal = h.spawn(with_priority(Priority::Normal), ms(2));
  const TaskId critical = h.spawn(with_priority(Priority::Critical), ms(3));
  const TaskId high = h.spawn(with_priority(Priority::High), ms(4));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{blocker});

  std::vector<TaskId> order;
  TaskId running = blocker;
  for (int i = 0; i < 4; ++i) {
    h.succeed(running, 1, ms(10 + i));
    const auto started = started_ids(h.drain());
    ASSERT_EQ(started.size(), 1u);
    running = started[0];
    order.push_back(running);
  }
  EXPECT_EQ(order, (std::vector<TaskId>{critical, high, normal, low}));
}

TEST(KernelScheduling, WithinOnePrioritySpawnOrderWins) {
  Harness h(one_at_a_time());
  const TaskId blocker = h.spawn(task(), ms(0));
  std::vector<TaskId> spawned;
  for (int i = 0; i < 5; ++i) spawned.push_back(h.spawn(with_priority(Priority::High), ms(1)));
  h.drain();
  std::vector<TaskId> order;
  TaskId running = blocker;
  for (int i = 0; i < 5; ++i) {
    h.succeed(running, 1, ms(2));
    const auto started = started_ids(h.drain());
    ASSERT_EQ(started.size(), 1u);
    running = started[0];
    order.push_back(running);
  }
  EXPECT_EQ(order, spawned);
}

TEST(KernelScheduling, ARetriedTaskKeepsItsPlaceByIdAmongItsPriority) {
  Harness h(one_at_a_time());
  TaskSpec retried = task();
  retried.retry.max_attempts = 2;
  retried.retry.initial_backoff = Duration{0};
  const TaskId first = h.spawn(retried, ms(0));
  const TaskId second = h.spawn(task(), ms(0));
  h.drain();
  h.fail(first, 1, ms(1), "flaky");
  // Backoff 0: the older task is ready again at once and goes before the newer one.
  const auto out = h.drain();
  ASSERT_EQ(starts(out).size(), 1u);
  EXPECT_EQ(starts(out)[0].id, first);
  EXPECT_EQ(starts(out)[0].attempt, 2u);
  EXPECT_EQ(h.status(second), TaskStatus::Pending);
}

TEST(KernelScheduling, RunAfterStartsExactlyAtDueNeverEarlier) {
  Harness h;
  TaskSpec spec = task();
  spec.run_after = ms(50);
  const TaskId id = h.spawn(spec, ms(10));
  EXPECT_TRUE(starts(h.drain()).empty());
  EXPECT_EQ(h.kernel.get(id)->due, ms(60));
  EXPECT_EQ(h.kernel.next_deadline(), ms(60));

  h.tick(ms(60) - us(1));
  EXPECT_TRUE(starts(h.drain()).empty());
  EXPECT_EQ(h.status(id), TaskStatus::Pending);
  EXPECT_EQ(h.kernel.next_deadline(), ms(60));

  h.tick(ms(60));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{id});
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
}

TEST(KernelScheduling, ALateTickStartsEveryDueTaskInPriorityOrder) {
  Harness h;
  TaskSpec later = task();
  later.run_after = ms(20);
  later.priority = Priority::Low;
  TaskSpec sooner = task();
  sooner.run_after = ms(10);
  sooner.priority = Priority::Low;
  TaskSpec urgent = task();
  urgent.run_after = ms(30);
  urgent.priority = Priority::Critical;
  const TaskId a = h.spawn(later, ms(0));
  const TaskId b = h.spawn(sooner, ms(0));
  const TaskId c = h.spawn(urgent, ms(0));
  EXPECT_EQ(h.kernel.next_deadline(), ms(10));
  h.tick(ms(100));
  // All three are ready by the time the scheduler runs, so the ready order decides: priority, then
  // spawn order (not due order).
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{c, a, b}));
}

TEST(KernelScheduling, MaxRunningIsNeverExceeded) {
  Config config;
  config.max_running = 2;
  Harness h(config);
  std::vector<TaskId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h.spawn(task(), ms(0)));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{ids[0], ids[1]}));
  EXPECT_EQ(h.kernel.running(), 2u);
  EXPECT_EQ(h.kernel.unfinished(), 5u);

  h.succeed(ids[1], 1, ms(1));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{ids[2]});
  EXPECT_EQ(h.kernel.running(), 2u);
  h.fail(ids[0], 1, ms(2), "no");
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{ids[3]});
  EXPECT_EQ(h.kernel.running(), 2u);
}

TEST(KernelScheduling, CapacityCountsUnfinishedTasksOnly) {
  Config config;
  config.capacity = 2;
  config.max_running = 1;
  Harness h(config);
  const TaskId running = h.spawn(task(), ms(0));
  const TaskId pending = h.spawn(task(), ms(0));
  const SpawnError full = h.refuse(task(), ms(1));
  EXPECT_EQ(full.code, SpawnErrorCode::QueueFull);
  EXPECT_EQ(full.message, "queue is full (limit 2)");

  h.succeed(running, 1, ms(2));  // a finished task frees room
  EXPECT_EQ(h.status(pending), TaskStatus::Running);
  const TaskId third = h.spawn(task(), ms(3));
  EXPECT_EQ(h.refuse(task(), ms(3)).code, SpawnErrorCode::QueueFull);
  EXPECT_TRUE(h.kernel.cancel(third, ms(4)));  // so does a cancelled pending one
  h.spawn(task(), ms(5));
  EXPECT_EQ(h.kernel.unfinished(), 2u);

  // A running task being cancelled is still unfinished until its work returns.
  EXPECT_TRUE(h.kernel.cancel(pending, ms(6)));
  EXPECT_EQ(h.refuse(task(), ms(7)).code, SpawnErrorCode::QueueFull);
  h.succeed(pending, 1, ms(8));
  h.spawn(task(), ms(9));
}

TEST(KernelScheduling, SameSequenceKeyRunsOneAfterAnotherInSpawnOrder) {
  Harness h;
  TaskSpec keyed = task();
  keyed.key = testkit::key("actor", "facts");
  const TaskId a = h.spawn(keyed, ms(0));
  const TaskId b = h.spawn(keyed, ms(1));
  const TaskId c = h.spawn(keyed, ms(2));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{a});
  EXPECT_EQ(h.status(b), TaskStatus::Pending);

  h.succeed(a, 1, ms(3));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{b});
  h.fail(b, 1, ms(4), "a failure also hands the lane on");
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{c});
}

TEST(KernelScheduling, DifferentSequenceKeysOverlap) {
  Harness h;
  TaskSpec facts = task();
  facts.key = testkit::key("actor", "facts");
  TaskSpec relations = task();
  relations.key = testkit::key("actor", "relationship");
  TaskSpec other_agent = task();
  other_agent.key = testkit::key("actor", "facts", "another-agent");
  const TaskId a = h.spawn(facts, ms(0));
  const TaskId b = h.spawn(relations, ms(0));
  const TaskId c = h.spawn(other_agent, ms(0));
  const TaskId d = h.spawn(task(), ms(0));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{a, b, c, d}));
  EXPECT_EQ(h.kernel.running(), 4u);
}

TEST(KernelScheduling, ALaneHeadKeepsItsSpawnOrderOverAHigherPriorityFollower) {
  Harness h(one_at_a_time());
  TaskSpec low = task();
  low.key = testkit::key("actor", "facts");
  low.priority = Priority::Low;
  low.run_after = ms(10);
  TaskSpec critical = low;
  critical.priority = Priority::Critical;
  critical.run_after = Duration{0};
  const TaskId first = h.spawn(low, ms(0));
  const TaskId second = h.spawn(critical, ms(0));
  EXPECT_TRUE(starts(h.drain()).empty()) << "the follower waits for the delayed head";
  h.tick(ms(10));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.succeed(first, 1, ms(11));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
}

TEST(KernelScheduling, CancellingAPendingLaneHeadHandsTheLaneOn) {
  Harness h;
  TaskSpec keyed = task();
  keyed.key = testkit::key("actor", "facts");
  keyed.run_after = ms(100);
  const TaskId head = h.spawn(keyed, ms(0));
  keyed.run_after = Duration{0};
  const TaskId next = h.spawn(keyed, ms(0));
  EXPECT_TRUE(starts(h.drain()).empty());
  EXPECT_TRUE(h.kernel.cancel(head, ms(1)));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{next});
}

TEST(KernelScheduling, NextDeadlineDropsTheTimerOfACancelledTask) {
  Harness h;
  TaskSpec spec = task();
  spec.run_after = ms(100);
  const TaskId id = h.spawn(spec, ms(0));
  EXPECT_EQ(h.kernel.next_deadline(), ms(100));
  EXPECT_TRUE(h.kernel.cancel(id, ms(1)));
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
}

}  // namespace
}  // namespace tasklane
