// Heartbeat timeouts (Temporal's activity heartbeats): each attempt must report a heartbeat within
// TaskSpec::heartbeat of its start or of its last heartbeat, else it ends as timed out and may retry.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::cancels;
using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::starts;
using testkit::task;
using testkit::us;

TaskSpec beating(Duration interval) {
  TaskSpec spec = task();
  spec.heartbeat = interval;
  return spec;
}

TEST(KernelHeartbeat, NoHeartbeatWithinTheIntervalTimesTheAttemptOut) {
  Harness h;
  const TaskId id = h.spawn(beating(ms(500)), ms(10));
  const auto started = starts(h.drain());
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].deadline, std::nullopt) << "the Start's deadline is the per-attempt timeout only";
  EXPECT_EQ(h.kernel.next_deadline(), ms(510));

  h.tick(ms(510) - us(1));
  EXPECT_TRUE(h.drain().empty());
  h.tick(ms(510));
  const auto out = h.drain();
  EXPECT_EQ(cancels(out), (std::vector<command::Cancel>{{id, 1, CancelReason::TimedOut}}));
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::TimedOut);
  EXPECT_EQ(notifies(out)[0].error, "heartbeat timeout: no heartbeat within 500 ms");
  EXPECT_EQ(h.kernel.running(), 0u);
  EXPECT_EQ(h.kernel.stats().attempt_timeouts, 1u);
  EXPECT_EQ(h.kernel.stats().heartbeat_timeouts, 1u);
  EXPECT_EQ(h.kernel.stats().timed_out, 1u);
}

TEST(KernelHeartbeat, EachHeartbeatMovesTheDeadline) {
  Harness h;
  const TaskId id = h.spawn(beating(ms(100)), ms(0));
  h.drain();
  h.kernel.heartbeat(id, 1, ms(80));
  EXPECT_TRUE(h.drain().empty()) << "a heartbeat emits no command";
  h.tick(ms(100));
  EXPECT_TRUE(h.drain().empty()) << "the old deadline passed, but a heartbeat came before it";
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  EXPECT_EQ(h.kernel.next_deadline(), ms(180)) << "the timer follows the last heartbeat";
  h.kernel.heartbeat(id, 1, ms(170));
  h.tick(ms(269));
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  h.succeed(id, 1, ms(269));
  EXPECT_EQ(h.status(id), TaskStatus::Completed);
  EXPECT_EQ(h.kernel.stats().heartbeat_timeouts, 0u);
}

TEST(KernelHeartbeat, AMissedHeartbeatRetriesWhileAttemptsRemainAndTheRetryGetsAFreshDeadline) {
  Harness h;
  TaskSpec spec = beating(ms(50));
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(10);
  const TaskId id = h.spawn(spec, ms(0));
  h.drain();
  h.tick(ms(50));
  auto out = h.drain();
  EXPECT_EQ(cancels(out).size(), 1u);
  EXPECT_TRUE(notifies(out).empty());
  EXPECT_EQ(h.status(id), TaskStatus::Pending);
  EXPECT_EQ(h.kernel.get(id)->error, "heartbeat timeout: no heartbeat within 50 ms");
  h.tick(ms(60));
  out = h.drain();
  ASSERT_EQ(starts(out).size(), 1u);
  EXPECT_EQ(starts(out)[0].attempt, 2u);
  EXPECT_EQ(h.kernel.next_deadline(), ms(110));
  h.kernel.heartbeat(id, 1, ms(100));  // from the first attempt: stale
  EXPECT_EQ(h.kernel.stats().ignored_heartbeats, 1u);
  h.tick(ms(110));
  out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::TimedOut);
  EXPECT_EQ(h.kernel.stats().retried, 1u);
  EXPECT_EQ(h.kernel.stats().heartbeat_timeouts, 2u);
}

TEST(KernelHeartbeat, HeartbeatsForUnknownPendingFinishedOrStaleAttemptsAreIgnoredAndCounted) {
  Harness h;
  TaskSpec delayed = beating(ms(100));
  delayed.run_after = ms(1000);
  const TaskId pending = h.spawn(delayed, ms(0));
  const TaskId running = h.spawn(beating(ms(100)), ms(0));
  h.drain();
  const Snapshot before = h.kernel.snapshot();
  h.kernel.heartbeat(TaskId{99}, 1, ms(1));
  h.kernel.heartbeat(pending, 1, ms(1));
  h.kernel.heartbeat(running, 2, ms(1));
  h.kernel.heartbeat(running, 0, ms(1));
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(h.kernel.stats().ignored_heartbeats, 4u);
  EXPECT_EQ(h.kernel.snapshot(), before);
  h.succeed(running, 1, ms(2));
  h.kernel.heartbeat(running, 1, ms(3));
  EXPECT_EQ(h.kernel.stats().ignored_heartbeats, 5u);
  EXPECT_EQ(h.kernel.stats().ignored_completions, 0u);
}

TEST(KernelHeartbeat, AHeartbeatArrivingAtTheDeadlineWithoutATickLosesToTheTimeout) {
  Harness h;
  const TaskId id = h.spawn(beating(ms(100)), ms(0));
  h.drain();
  h.kernel.heartbeat(id, 1, ms(100));
  EXPECT_EQ(cancels(h.drain()).size(), 1u);
  EXPECT_EQ(h.status(id), TaskStatus::TimedOut);
  EXPECT_EQ(h.kernel.stats().ignored_heartbeats, 1u);
}

TEST(KernelHeartbeat, TheEarlierOfTimeoutAndHeartbeatDeadlineNamesTheEndAndATieIsTheTimeout) {
  {
    Harness h;  // both passed before a late tick: the heartbeat deadline (50) came first
    TaskSpec spec = beating(ms(50));
    spec.timeout = ms(80);
    const TaskId id = h.spawn(spec, ms(0));
    h.drain();
    h.tick(ms(200));
    EXPECT_EQ(h.kernel.get(id)->error, "heartbeat timeout: no heartbeat within 50 ms");
  }
  {
    Harness h;  // a heartbeat moved the heartbeat deadline past the timeout: the timeout ends it
    TaskSpec spec = beating(ms(50));
    spec.timeout = ms(80);
    const TaskId id = h.spawn(spec, ms(0));
    h.drain();
    h.kernel.heartbeat(id, 1, ms(40));
    h.tick(ms(200));
    EXPECT_EQ(h.kernel.get(id)->error, "timed out after 80 ms");
    EXPECT_EQ(h.kernel.stats().heartbeat_timeouts, 0u);
  }
  {
    Harness h;  // equal deadlines: the per-attempt timeout
    TaskSpec spec = beating(ms(80));
    spec.timeout = ms(80);
    const TaskId id = h.spawn(spec, ms(0));
    h.drain();
    h.tick(ms(80));
    EXPECT_EQ(h.kernel.get(id)->error, "timed out after 80 ms");
  }
}

TEST(KernelHeartbeat, IntervalsBelowAMillisecondAreNamedInMicroseconds) {
  Harness h;
  const TaskId id = h.spawn(beating(us(1500)), ms(0));
  h.drain();
  h.tick(ms(2));
  EXPECT_EQ(h.kernel.get(id)->error, "heartbeat timeout: no heartbeat within 1500 us");
}

TEST(KernelHeartbeat, ACancelledAttemptThatMissesItsHeartbeatEndsCancelled) {
  Harness h;
  TaskSpec spec = beating(ms(50));
  spec.retry.max_attempts = 3;
  const TaskId id = h.spawn(spec, ms(0));
  h.drain();
  EXPECT_TRUE(h.kernel.cancel(id, ms(10)));
  h.drain();
  h.tick(ms(50));
  const auto out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Cancelled);
}

TEST(KernelHeartbeat, ANonPositiveIntervalIsRefusedSayingWhatToFix) {
  Harness h;
  for (const Duration bad : {Duration{0}, Duration{-5}}) {
    const SpawnError e = h.refuse(beating(bad), ms(0));
    EXPECT_EQ(e.code, SpawnErrorCode::InvalidHeartbeat);
    EXPECT_NE(e.message.find("heartbeat must be positive"), std::string::npos) << e.message;
  }
  const SpawnError e = h.refuse(beating(std::chrono::hours(24 * 365 * 11)), ms(0));
  EXPECT_EQ(e.code, SpawnErrorCode::InvalidHeartbeat);
}

TEST(KernelHeartbeat, ATaskWithoutAHeartbeatIntervalAcceptsHeartbeatsAndNeverTimesOutForThem) {
  Harness h;
  const TaskId id = h.spawn(task(), ms(0));
  h.drain();
  h.kernel.heartbeat(id, 1, ms(5));
  EXPECT_EQ(h.kernel.stats().ignored_heartbeats, 0u) << "the current attempt may beat; nothing waits for it";
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
  h.tick(ms(100000));
  EXPECT_EQ(h.status(id), TaskStatus::Running);
}

TEST(KernelHeartbeat, ARestartedTaskThatIsRequeuedGetsANewDeadlineAtItsNextStart) {
  Harness h;
  TaskSpec spec = beating(ms(100));
  spec.durable = true;
  spec.retry.max_attempts = 2;
  spec.retry.requeue_on_restart = true;
  h.spawn(spec, ms(0));
  h.drain();
  const Snapshot snapshot = h.kernel.snapshot();
  Harness after;
  after.kernel.restore(snapshot, ms(1000));
  const auto out = after.drain();
  ASSERT_EQ(starts(out).size(), 1u);
  EXPECT_EQ(after.kernel.next_deadline(), ms(1100));
}

}  // namespace
}  // namespace tasklane
