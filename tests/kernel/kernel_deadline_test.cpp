// next_deadline() names a time something is due, after every input: when an input changes the task
// whose timer is at the top of the queue (the kernel remembers that timer as checked, and must
// forget it then), the stale timer goes and the next one is named.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::started_ids;
using testkit::task;
using testkit::timed;

TaskSpec delayed(std::string kind, Duration by) {
  TaskSpec spec = task(std::move(kind));
  spec.run_after = by;
  return spec;
}

TEST(KernelDeadline, CancellingTheDelayedTaskAtTheTopNamesTheNextDue) {
  Harness h;
  const TaskId a = h.spawn(delayed("a", ms(100)), ms(0));
  h.spawn(delayed("b", ms(200)), ms(0));  // an input with a's timer on top, unchanged
  ASSERT_EQ(h.kernel.next_deadline(), ms(100));
  ASSERT_TRUE(h.kernel.cancel(a, ms(10)));
  EXPECT_EQ(h.kernel.next_deadline(), ms(200)) << "a's due timer died with it";
}

TEST(KernelDeadline, CompletingTheAttemptWhoseTimeoutIsAtTheTopNamesTheNextTimer) {
  Harness h;
  const TaskId a = h.spawn(timed(ms(50), "a"), ms(0));
  h.spawn(delayed("b", ms(80)), ms(1));  // a's timeout stays on top
  ASSERT_EQ(h.kernel.next_deadline(), ms(50));
  h.drain();
  h.succeed(a, 1, ms(20));
  EXPECT_EQ(h.kernel.next_deadline(), ms(81)) << "a's timeout died with its attempt";
}

TEST(KernelDeadline, ARetryRearmsTheTaskWhoseTimeoutWasAtTheTop) {
  Harness h;
  TaskSpec spec = timed(ms(50), "a");
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(30);
  const TaskId a = h.spawn(spec, ms(0));
  h.spawn(delayed("b", ms(500)), ms(1));
  h.drain();
  ASSERT_EQ(h.kernel.next_deadline(), ms(50));
  h.kernel.complete(a, 1, Outcome::failure("flaky"), ms(10));
  EXPECT_EQ(h.kernel.next_deadline(), ms(40)) << "the backoff, not the first attempt's timeout";
  h.tick(ms(40));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{a});
  EXPECT_EQ(h.kernel.next_deadline(), ms(90)) << "the second attempt's timeout";
}

TEST(KernelDeadline, ShutdownDropsTheDueTimersAtTheTop) {
  Harness h;
  h.spawn(delayed("a", ms(100)), ms(0));
  h.spawn(delayed("b", ms(200)), ms(0));
  ASSERT_EQ(h.kernel.next_deadline(), ms(100));
  h.kernel.shutdown(ShutdownMode::Drain, ms(10));
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt) << "no task starts once stopping: nothing is due";
}

}  // namespace
}  // namespace tasklane
