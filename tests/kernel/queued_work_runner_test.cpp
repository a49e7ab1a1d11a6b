// QueuedWorkRunner: the poke-driven runner of seed 001 as a state machine. One drive is outstanding
// at a time; in-flight sessions are never submitted twice; a global drive waits for an empty flight.
#include "../../core/src/queued_work_runner.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace tasklane {
namespace {

using command::RunQueuedWork;

std::vector<RunQueuedWork> requests(std::deque<Command>& out) {
  std::vector<RunQueuedWork> r;
  for (auto& c : out) {
    if (auto* w = std::get_if<RunQueuedWork>(&c)) r.push_back(*w);
  }
  out.clear();
  return r;
}

TEST(QueuedWorkRunner, StartupIsAGlobalDriveWithoutIdleTracing) {
  detail::QueuedWorkRunner runner;
  std::deque<Command> out;
  runner.startup(out);
  EXPECT_EQ(requests(out), (std::vector<RunQueuedWork>{{1, std::nullopt, "startup", false}}));
  EXPECT_TRUE(runner.awaiting_answer());
}

TEST(QueuedWorkRunner, SubmittedSessionIsHeldInFlightUntilCompletion) {
  detail::QueuedWorkRunner runner;
  std::deque<Command> out;
  runner.poke(std::string("root"), "process_wake", out);
  EXPECT_EQ(requests(out), (std::vector<RunQueuedWork>{{1, std::string("root"), "process_wake", true}}));
  EXPECT_TRUE(runner.answer(1, std::string("root"), out));
  EXPECT_TRUE(runner.in_flight("root"));

  runner.poke(std::string("root"), "duplicate", out);
  EXPECT_TRUE(requests(out).empty()) << "an in-flight session is not submitted twice";
  runner.poll(out);
  runner.poke(std::nullopt, "any", out);
  EXPECT_TRUE(requests(out).empty()) << "a global drive submits nothing while a session is in flight";

  runner.complete("root", "queued_turn_completed", out);
  EXPECT_FALSE(runner.in_flight("root"));
  EXPECT_EQ(requests(out), (std::vector<RunQueuedWork>{{2, std::string("root"), "queued_turn_completed", false}}));
}

TEST(QueuedWorkRunner, RequestsArrivingDuringADriveWaitTheirTurnInOrder) {
  detail::QueuedWorkRunner runner;
  std::deque<Command> out;
  runner.poke(std::string("a"), "first", out);
  runner.poke(std::string("b"), "second", out);
  runner.poke(std::string("a"), "third", out);
  EXPECT_EQ(requests(out).size(), 1u);

  EXPECT_TRUE(runner.answer(1, std::string("a"), out));
  // "b" runs next; the second poke of "a" is dropped later because "a" is in flight by then.
  EXPECT_EQ(requests(out), (std::vector<RunQueuedWork>{{2, std::string("b"), "second", true}}));
  EXPECT_TRUE(runner.answer(2, std::nullopt, out));
  EXPECT_TRUE(requests(out).empty());
  EXPECT_FALSE(runner.awaiting_answer());
  EXPECT_EQ(runner.in_flight_count(), 1u);
}

TEST(QueuedWorkRunner, AnAnswerForAnotherRequestIsRefused) {
  detail::QueuedWorkRunner runner;
  std::deque<Command> out;
  EXPECT_FALSE(runner.answer(1, std::nullopt, out)) << "nothing is outstanding";
  runner.startup(out);
  EXPECT_FALSE(runner.answer(7, std::string("x"), out));
  EXPECT_FALSE(runner.in_flight("x"));
  EXPECT_TRUE(runner.answer(1, std::nullopt, out));
  EXPECT_FALSE(runner.answer(1, std::nullopt, out)) << "an answer counts once";
}

TEST(QueuedWorkRunner, PollDuringAnOutstandingDriveIsDropped) {
  detail::QueuedWorkRunner runner;
  std::deque<Command> out;
  runner.startup(out);
  requests(out);
  runner.poll(out);
  EXPECT_TRUE(runner.answer(1, std::nullopt, out));
  EXPECT_TRUE(requests(out).empty()) << "the poll was not queued behind the drive";
  runner.poll(out);
  EXPECT_EQ(requests(out), (std::vector<RunQueuedWork>{{2, std::nullopt, "poll", false}}));
}

}  // namespace
}  // namespace tasklane
