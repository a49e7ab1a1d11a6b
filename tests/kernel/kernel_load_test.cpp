// Kernel::load(): unfinished, running and delayed tasks per priority. Delayed: pending with a due
// time ahead of the kernel's time (run_after, a retry's backoff), whatever else holds the task.
#include "kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::task;

std::size_t delayed(const Harness& h, Priority p = Priority::Normal) {
  return h.kernel.load().delayed[static_cast<std::size_t>(p)];
}

TEST(KernelLoad, ADelayedTaskCountsUntilItsDueTimeComesThoughItCannotStartThen) {
  Config config;
  config.max_running = 1;
  Harness h(config);
  const TaskId busy = h.spawn(task(), ms(0));  // takes the one slot
  TaskSpec later = task();
  later.run_after = ms(10);
  later.priority = Priority::High;
  h.spawn(later, ms(0));
  h.drain();
  EXPECT_EQ(delayed(h, Priority::High), 1u);
  h.kernel.tick(ms(9));
  EXPECT_EQ(delayed(h, Priority::High), 1u);
  h.kernel.tick(ms(10));  // due: pending now, behind the busy slot
  h.drain();
  EXPECT_EQ(delayed(h, Priority::High), 0u);
  EXPECT_EQ(h.kernel.load().unfinished[static_cast<std::size_t>(Priority::High)], 1u);
  h.succeed(busy, 1, ms(11));
  h.drain();
  EXPECT_EQ(h.kernel.load().running[static_cast<std::size_t>(Priority::High)], 1u);
}

TEST(KernelLoad, AnInputAfterTheDueTimeEndsTheDelayAsATickWould) {
  Harness h;
  TaskSpec later = task();
  later.run_after = ms(5);
  h.spawn(later, ms(0));
  h.drain();
  ASSERT_EQ(delayed(h), 1u);
  h.spawn(task(), ms(7));  // no tick came: the spawn fires the due timer first
  h.drain();
  EXPECT_EQ(delayed(h), 0u);
}

TEST(KernelLoad, APausedOrWaitingTaskWithADueTimeAheadCountsAsDelayed) {
  Config config;
  config.max_running = 1;
  Harness h(config);
  const TaskId dep = h.spawn(task(), ms(0));
  TaskSpec waiter = task();
  waiter.run_after = ms(10);
  waiter.after = {dep};
  h.spawn(waiter, ms(0));
  h.kernel.pause(pause_selector::Owner{"bob"}, ms(0));
  TaskSpec paused = task("work", "bob");
  paused.run_after = ms(10);
  h.spawn(paused, ms(0));
  h.drain();
  EXPECT_EQ(delayed(h), 2u);
  h.kernel.tick(ms(10));  // both are due; neither can start (a dependency, a pause)
  h.drain();
  EXPECT_EQ(delayed(h), 0u);
  EXPECT_EQ(h.kernel.unfinished(), 3u);
}

TEST(KernelLoad, ACancelledDelayedTaskAndARetryWaitingOutItsBackoff) {
  Harness h;
  TaskSpec later = task();
  later.run_after = ms(50);
  const TaskId cancelled = h.spawn(later, ms(0));
  TaskSpec retried = task();
  retried.retry.max_attempts = 2;
  retried.retry.initial_backoff = ms(20);
  const TaskId id = h.spawn(retried, ms(0));
  h.drain();
  ASSERT_EQ(delayed(h), 1u);
  EXPECT_TRUE(h.kernel.cancel(cancelled, ms(1)));
  h.drain();
  EXPECT_EQ(delayed(h), 0u) << "a cancelled delayed task leaves the count";
  h.fail(id, 1, ms(2), "busy");
  h.drain();
  EXPECT_EQ(delayed(h), 1u) << "waiting out its backoff";
  h.kernel.tick(ms(22));
  h.drain();
  EXPECT_EQ(delayed(h), 0u);
  EXPECT_EQ(h.status(id), TaskStatus::Running);
}

}  // namespace
}  // namespace tasklane
