// Seed 001 (lash-core queued-work runner): pokes, completion, the 400 ms poll and the startup drive.
// Its test drive_holds_submitted_session_inflight_until_completion, ported to the kernel: the host
// answers each RunQueuedWork command as the recording handle would.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using command::RunQueuedWork;
using testkit::Harness;
using testkit::ms;
using testkit::queued_work;

Config runner() {
  Config c;
  c.queued_work_runner = true;
  return c;
}

TEST(Seed001QueuedWorkRunner, DriveHoldsSubmittedSessionInflightUntilCompletion) {
  Harness h(runner());
  // The runner drives once at startup (the seed's run() does so before its loop); the host is idle.
  h.kernel.poke(std::string("root"), "process_wake", ms(0));
  auto requests = queued_work(h.drain());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].reason, "startup");
  h.kernel.answer_queued_work(requests[0].request, std::nullopt, ms(1));

  // The poke: responses = [Submitted{root}, Idle].
  requests = queued_work(h.drain());
  ASSERT_EQ(requests.size(), 1u) << "first queued work request";
  const RunQueuedWork first = requests[0];
  EXPECT_EQ(first.session, "root");
  EXPECT_EQ(first.reason, "process_wake");
  EXPECT_TRUE(first.trace_idle);
  h.kernel.answer_queued_work(first.request, std::string("root"), ms(2));  // inflight = {root}

  h.kernel.poke(std::string("root"), "duplicate", ms(3));
  EXPECT_TRUE(queued_work(h.drain()).empty()) << "inflight session should suppress duplicate submission";

  h.tick(ms(400));  // the seed's global poll
  h.kernel.poke(std::nullopt, "poll", ms(401));
  EXPECT_TRUE(queued_work(h.drain()).empty()) << "global poll should not submit while work is inflight";

  h.kernel.complete_session("root", "queued_turn_completed", ms(500));
  requests = queued_work(h.drain());
  ASSERT_EQ(requests.size(), 1u) << "completion should re-drive the session";
  const RunQueuedWork resumed = requests[0];
  EXPECT_EQ(resumed.session, "root");
  EXPECT_EQ(resumed.reason, "queued_turn_completed");
  EXPECT_FALSE(resumed.trace_idle);
}

TEST(Seed001QueuedWorkRunner, StartupDrivesOnceAndPollsEvery400Ms) {
  Harness h(runner());
  h.tick(ms(0));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{1, std::nullopt, "startup", false}}));
  h.kernel.answer_queued_work(1, std::nullopt, ms(0));
  EXPECT_EQ(h.kernel.next_deadline(), ms(400));
  h.tick(ms(400));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{2, std::nullopt, "poll", false}}));
}

TEST(Seed001QueuedWorkRunner, StartupFindsExistingWorkWithoutAPoke) {
  Harness h(runner());
  h.tick(ms(0));
  h.kernel.answer_queued_work(1, std::string("restored-session"), ms(1));  // work that existed at startup
  h.kernel.poke(std::string("restored-session"), "wake", ms(2));
  EXPECT_EQ(queued_work(h.drain()).size(), 1u) << "only the startup drive: the poke finds it in flight";
  h.kernel.complete_session("restored-session", "queued_turn_completed", ms(3));
  const auto again = queued_work(h.drain());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].session, "restored-session");
}

TEST(Seed001QueuedWorkRunner, AnotherSessionIsNotHeldBackByAnInflightOne) {
  Harness h(runner());
  h.tick(ms(0));
  h.kernel.answer_queued_work(1, std::string("a"), ms(0));
  h.drain();
  h.kernel.poke(std::string("b"), "wake", ms(1));
  EXPECT_EQ(queued_work(h.drain()), (std::vector<RunQueuedWork>{{2, std::string("b"), "wake", true}}));
}

TEST(Seed001QueuedWorkRunner, OnceNothingIsInflightTheGlobalPollDrivesAgain) {
  Harness h(runner());
  h.tick(ms(0));
  h.kernel.answer_queued_work(1, std::string("a"), ms(0));
  h.tick(ms(400));
  h.drain();
  h.kernel.complete_session("a", "done", ms(500));
  auto requests = queued_work(h.drain());
  ASSERT_EQ(requests.size(), 1u);
  h.kernel.answer_queued_work(requests[0].request, std::nullopt, ms(501));  // "a" has no more work
  h.tick(ms(800));
  requests = queued_work(h.drain());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].session, std::nullopt);
  EXPECT_EQ(requests[0].reason, "poll");
}

}  // namespace
}  // namespace tasklane
