// Quota keys (seed 002): cooldown between starts, attempts per key, single-flight.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::started_ids;
using testkit::starts;
using testkit::task;
using testkit::us;

TaskSpec under(QuotaSpec quota) {
  TaskSpec spec = task("compaction", "session-7");
  spec.quota = std::move(quota);
  return spec;
}

TEST(KernelQuota, CooldownHoldsTheNextStartUntilItEnds) {
  Harness h;
  const TaskSpec spec = under(QuotaSpec{"session-7/compaction", seconds(60), 0, false});
  const TaskId first = h.spawn(spec, seconds(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.succeed(first, 1, seconds(2));
  const TaskId second = h.spawn(spec, seconds(5));
  EXPECT_TRUE(starts(h.drain()).empty());
  EXPECT_EQ(h.kernel.next_deadline(), seconds(60));
  h.tick(seconds(60) - us(1));
  EXPECT_TRUE(starts(h.drain()).empty());
  h.tick(seconds(60));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
}

TEST(KernelQuota, CooldownAppliesBetweenTasksReadyInTheSamePass) {
  Harness h;
  const TaskSpec spec = under(QuotaSpec{"k", ms(100), 0, false});
  const TaskId a = h.spawn(spec, ms(0));
  const TaskId b = h.spawn(spec, ms(0));
  const TaskId free = h.spawn(task(), ms(0));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{a, free}));
  h.tick(ms(100));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{b});
}

TEST(KernelQuota, CooldownAlsoSpacesRetriesOfOneTask) {
  Harness h;
  TaskSpec spec = under(QuotaSpec{"k", ms(500), 0, false});
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(10);
  const TaskId id = h.spawn(spec, ms(0));
  h.drain();
  h.fail(id, 1, ms(20), "boom");
  h.tick(ms(30));  // the backoff is over, the cooldown is not
  EXPECT_TRUE(starts(h.drain()).empty());
  EXPECT_EQ(h.kernel.next_deadline(), ms(500));
  h.tick(ms(500));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{id});
}

TEST(KernelQuota, KeysAreIndependent) {
  Harness h;
  const TaskId a = h.spawn(under(QuotaSpec{"session-1/compaction", seconds(60), 0, false}), ms(0));
  const TaskId b = h.spawn(under(QuotaSpec{"session-2/compaction", seconds(60), 0, false}), ms(0));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{a, b}));
}

TEST(KernelQuota, MaxAttemptsRefusesTheSpawnOnceUsedUp) {
  Harness h;
  const TaskSpec spec = under(QuotaSpec{"k", Duration{0}, 2, false});
  const TaskId a = h.spawn(spec, ms(0));
  h.succeed(a, 1, ms(1));
  const TaskId b = h.spawn(spec, ms(2));
  h.fail(b, 1, ms(3), "no");
  const SpawnError e = h.refuse(spec, ms(4));
  EXPECT_EQ(e.code, SpawnErrorCode::QuotaExhausted);
  EXPECT_EQ(e.message, "attempt quota for 'k' is used up (limit 2)");
}

TEST(KernelQuota, MaxAttemptsStopsARetryThatWouldExceedIt) {
  Harness h;
  TaskSpec spec = under(QuotaSpec{"k", Duration{0}, 2, false});
  spec.retry.max_attempts = 5;
  spec.retry.initial_backoff = Duration{0};
  const TaskId id = h.spawn(spec, ms(0));
  h.fail(id, 1, ms(1), "one");
  h.fail(id, 2, ms(2), "two");
  const auto out = h.drain();
  EXPECT_EQ(starts(out).size(), 2u) << "attempts 1 and 2 only";
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Failed);
  EXPECT_EQ(notifies(out)[0].error, "attempt quota for 'k' is used up (limit 2)");
}

TEST(KernelQuota, TwoPendingTasksShareTheAttemptLimit) {
  Harness h;
  TaskSpec spec = under(QuotaSpec{"k", Duration{0}, 1, false});
  spec.run_after = ms(10);
  const TaskId a = h.spawn(spec, ms(0));
  const TaskId b = h.spawn(spec, ms(0));  // accepted: nothing has started yet
  h.tick(ms(10));
  const auto out = h.drain();
  EXPECT_EQ(started_ids(out), std::vector<TaskId>{a});
  EXPECT_EQ(h.status(b), TaskStatus::Failed);
  EXPECT_EQ(h.kernel.get(b)->error, "attempt quota for 'k' is used up (limit 1)");
}

TEST(KernelQuota, SingleFlightRefusesWhileAnotherTaskOfTheKeyIsUnfinished) {
  Harness h;
  const TaskSpec spec = under(QuotaSpec{"k", Duration{0}, 0, true});
  const TaskId a = h.spawn(spec, ms(0));
  const SpawnError busy = h.refuse(spec, ms(1));
  EXPECT_EQ(busy.code, SpawnErrorCode::SingleFlightBusy);
  EXPECT_EQ(busy.message, "a task with single-flight key 'k' is already pending");
  h.succeed(a, 1, ms(2));
  h.spawn(spec, ms(3));  // free again once terminal
}

TEST(KernelQuota, SingleFlightCountsAPendingTaskOfTheKey) {
  Harness h;
  TaskSpec pending = under(QuotaSpec{"k", Duration{0}, 0, false});
  pending.run_after = seconds(10);
  const TaskId a = h.spawn(pending, ms(0));
  EXPECT_EQ(h.refuse(under(QuotaSpec{"k", Duration{0}, 0, true}), ms(1)).code, SpawnErrorCode::SingleFlightBusy);
  EXPECT_TRUE(h.kernel.cancel(a, ms(2)));
  h.spawn(under(QuotaSpec{"k", Duration{0}, 0, true}), ms(3));
}

}  // namespace
}  // namespace tasklane
