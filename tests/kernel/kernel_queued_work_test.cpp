// The queued-work runner inside the kernel (seed 001): the startup drive at the first input, the
// 400 ms poll as the recovery path, and silence once the kernel has stopped.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using command::RunQueuedWork;
using testkit::Harness;
using testkit::ms;
using testkit::queued_work;
using testkit::us;

Config runner_on() {
  Config c;
  c.queued_work_runner = true;
  return c;
}

TEST(KernelQueuedWork, OffByDefaultNoStartupDriveAndNoPoll) {
  Harness h;
  h.tick(ms(0));
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
  h.tick(seconds(10));
  EXPECT_TRUE(h.drain().empty());
}

// Config::queued_work_runner is "off unless the host drives queued turns through it": a runner
// that is off should not ask the host to run anything, whatever it is poked with.
TEST(KernelQueuedWork, APokeWhileTheRunnerIsOffDrivesNothing) {
  Harness h;
  h.kernel.poke(std::string("root"), "process_wake", ms(0));
  h.kernel.complete_session("root", "queued_turn_completed", ms(1));
  EXPECT_TRUE(queued_work(h.drain()).empty());
}

TEST(KernelQueuedWork, TheFirstInputDrivesStartupAndArmsThePoll) {
  Harness h(runner_on());
  h.tick(ms(1000));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{1, std::nullopt, "startup", false}}));
  EXPECT_EQ(h.kernel.next_deadline(), ms(1400));
}

TEST(KernelQueuedWork, PollsEvery400MillisecondsWhileIdle) {
  Harness h(runner_on());
  h.tick(ms(0));
  h.kernel.answer_queued_work(1, std::nullopt, ms(5));
  h.drain();
  h.tick(ms(400) - us(1));
  EXPECT_TRUE(h.drain().empty());
  h.tick(ms(400));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{2, std::nullopt, "poll", false}}));
  h.kernel.answer_queued_work(2, std::nullopt, ms(410));
  EXPECT_EQ(h.kernel.next_deadline(), ms(800));
  h.tick(ms(800));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{3, std::nullopt, "poll", false}}));
}

TEST(KernelQueuedWork, ALateTickPollsOnceAndCountsTheNextPollFromThen) {
  Harness h(runner_on());
  h.tick(ms(0));
  h.kernel.answer_queued_work(1, std::nullopt, ms(1));
  h.drain();
  h.tick(ms(1900));  // four polls were missed: one drive, not four
  EXPECT_EQ(queued_work(h.drain()).size(), 1u);
  EXPECT_EQ(h.kernel.next_deadline(), ms(2300));
}

TEST(KernelQueuedWork, APollWhileADriveIsOutstandingIsSkipped) {
  Harness h(runner_on());
  h.tick(ms(0));  // startup drive, never answered
  h.drain();
  h.tick(ms(400));
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(h.kernel.next_deadline(), ms(800)) << "the poll keeps its cadence";
}

TEST(KernelQueuedWork, PokesDuringADriveWaitForItsAnswer) {
  Harness h(runner_on());
  h.kernel.poke(std::string("a"), "wake", ms(0));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{1, std::nullopt, "startup", false}}));
  h.kernel.answer_queued_work(1, std::nullopt, ms(1));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{2, std::string("a"), "wake", true}}));
}

TEST(KernelQueuedWork, NothingIsDrivenOnceStopped) {
  Harness h(runner_on());
  h.tick(ms(0));
  h.kernel.answer_queued_work(1, std::nullopt, ms(1));
  h.kernel.shutdown(ShutdownMode::Drain, ms(2));
  h.drain();
  ASSERT_TRUE(h.kernel.stopped());
  h.kernel.poke(std::nullopt, "late", ms(3));
  h.kernel.complete_session("s", "late", ms(4));
  h.tick(ms(5000));
  EXPECT_TRUE(queued_work(h.drain()).empty());
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
}

// A drive outstanding at shutdown: its answer still arrives, but the requests that queued behind it
// must not be driven by the stopped kernel.
TEST(KernelQueuedWork, AnAnswerAfterStoppedDrivesNoWaitingRequest) {
  Harness h(runner_on());
  h.tick(ms(0));  // startup drive, request 1, unanswered
  h.kernel.poke(std::string("a"), "wake", ms(1));
  h.kernel.poke(std::nullopt, "again", ms(2));
  h.kernel.shutdown(ShutdownMode::Drain, ms(3));
  h.drain();
  ASSERT_TRUE(h.kernel.stopped());
  h.kernel.answer_queued_work(1, std::string("b"), ms(4));
  EXPECT_TRUE(queued_work(h.drain()).empty());
  EXPECT_EQ(h.kernel.stats().ignored_completions, 0u) << "the answer was the outstanding one: not ignored";
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
}

}  // namespace
}  // namespace tasklane
