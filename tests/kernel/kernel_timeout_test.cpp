// Per-attempt timeouts: Cancel{TimedOut} at the deadline (not before), the running slot freed at
// once, a retry or the TimedOut end with "timed out after N ms", and late completions ignored.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::cancels;
using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::started_ids;
using testkit::starts;
using testkit::task;
using testkit::timed;
using testkit::us;

TEST(KernelTimeout, TheDeadlineIsOnTheStartAndFiresExactlyThere) {
  Harness h;
  const TaskId id = h.spawn(timed(ms(100)), ms(5));
  const auto started = starts(h.drain());
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].deadline, ms(105));
  EXPECT_EQ(h.kernel.next_deadline(), ms(105));

  h.tick(ms(105) - us(1));
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(h.status(id), TaskStatus::Running);

  h.tick(ms(105));
  const auto out = h.drain();
  EXPECT_EQ(cancels(out), (std::vector<command::Cancel>{{id, 1, CancelReason::TimedOut}}));
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::TimedOut);
  EXPECT_EQ(notifies(out)[0].error, "timed out after 100 ms");
  EXPECT_EQ(h.status(id), TaskStatus::TimedOut);
  EXPECT_EQ(h.kernel.running(), 0u);
  EXPECT_EQ(h.kernel.stats().timed_out, 1u);
  EXPECT_EQ(h.kernel.stats().attempt_timeouts, 1u);
}

TEST(KernelTimeout, ALateCompletionChangesNothing) {
  Harness h;
  const TaskId id = h.spawn(timed(ms(100)), ms(0));
  h.drain();
  h.tick(ms(100));
  h.drain();
  const TaskInfo before = *h.kernel.get(id);
  h.succeed(id, 1, ms(150), Json{{"late", true}});
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(*h.kernel.get(id), before);
  EXPECT_EQ(h.kernel.stats().ignored_completions, 1u);
  EXPECT_EQ(h.kernel.stats().completed, 0u);
}

TEST(KernelTimeout, ACompletionArrivingAfterTheDeadlineWithoutATickLosesToTheTimeout) {
  Harness h;
  const TaskId id = h.spawn(timed(ms(100)), ms(0));
  h.drain();
  h.succeed(id, 1, ms(100));  // at the deadline: the timeout is due first
  const auto out = h.drain();
  EXPECT_EQ(cancels(out).size(), 1u);
  EXPECT_EQ(h.status(id), TaskStatus::TimedOut);
  EXPECT_EQ(h.kernel.stats().ignored_completions, 1u);
}

TEST(KernelTimeout, ACompletionJustBeforeTheDeadlineWins) {
  Harness h;
  const TaskId id = h.spawn(timed(ms(100)), ms(0));
  h.drain();
  h.succeed(id, 1, ms(100) - us(1));
  EXPECT_EQ(h.status(id), TaskStatus::Completed);
  EXPECT_TRUE(cancels(h.drain()).empty());
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt) << "the finished attempt's timer is gone";
  h.tick(ms(200));
  EXPECT_TRUE(h.drain().empty());
}

TEST(KernelTimeout, ATimeoutFreesTheRunningSlotAtOnce) {
  Config config;
  config.max_running = 1;
  Harness h(config);
  const TaskId slow = h.spawn(timed(ms(50)), ms(0));
  const TaskId waiting = h.spawn(task(), ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{slow});
  h.tick(ms(50));  // the slow work has not returned, yet its slot is free
  const auto out = h.drain();
  EXPECT_EQ(cancels(out).size(), 1u);
  EXPECT_EQ(started_ids(out), std::vector<TaskId>{waiting});
}

TEST(KernelTimeout, ATimedOutAttemptIsRetriedWithBackoffAndANewDeadline) {
  Harness h;
  TaskSpec spec = timed(ms(100));
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(30);
  const TaskId id = h.spawn(spec, ms(0));
  h.drain();
  h.tick(ms(100));
  auto out = h.drain();
  EXPECT_EQ(cancels(out), (std::vector<command::Cancel>{{id, 1, CancelReason::TimedOut}}));
  EXPECT_TRUE(notifies(out).empty());
  EXPECT_EQ(h.status(id), TaskStatus::Pending);
  EXPECT_EQ(h.kernel.get(id)->error, "timed out after 100 ms");
  EXPECT_EQ(h.kernel.next_deadline(), ms(130));

  h.tick(ms(130));
  out = h.drain();
  ASSERT_EQ(starts(out).size(), 1u);
  EXPECT_EQ(starts(out)[0].attempt, 2u);
  EXPECT_EQ(starts(out)[0].deadline, ms(230));

  h.succeed(id, 1, ms(140));  // the first attempt returns late: stale
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  h.tick(ms(230));
  out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::TimedOut);
  EXPECT_EQ(h.kernel.stats().attempt_timeouts, 2u);
  EXPECT_EQ(h.kernel.stats().timed_out, 1u);
  EXPECT_EQ(h.kernel.stats().ignored_completions, 1u);
}

TEST(KernelTimeout, ATimeoutOfATaskBeingCancelledEndsItCancelled) {
  Harness h;
  const TaskId id = h.spawn(timed(ms(100)), ms(0));
  h.drain();
  EXPECT_TRUE(h.kernel.cancel(id, ms(10)));
  EXPECT_EQ(cancels(h.drain()), (std::vector<command::Cancel>{{id, 1, CancelReason::Requested}}));
  h.tick(ms(100));  // the work never returned
  const auto out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Cancelled);
  EXPECT_EQ(notifies(out)[0].error, std::nullopt);
}

TEST(KernelTimeout, TheMessageCountsWholeMilliseconds) {
  Harness h;
  const TaskId id = h.spawn(timed(us(2500)), ms(0));
  h.tick(ms(3));
  EXPECT_EQ(h.kernel.get(id)->error, "timed out after 2 ms");
}

}  // namespace
}  // namespace tasklane
