// Messages to sub-agents (seed 003): the typed send errors in the seed's order, and Deliver for
// the running attempt, including messages sent before the attempt started.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::delivers;
using testkit::Harness;
using testkit::ms;
using testkit::persists;
using testkit::started_ids;
using testkit::task;

TaskSpec sub_agent(std::string owner = "alice") {
  TaskSpec spec = task("sub_agent", std::move(owner));
  spec.inbox = true;
  return spec;
}

// A durable sub-agent that waits 50 ms for its start: messages sent meanwhile wait in its record.
TaskSpec waiting_durable_sub_agent() {
  TaskSpec spec = sub_agent();
  spec.durable = true;
  spec.run_after = ms(50);
  return spec;
}

SendErrorCode send_error(Harness& h, TaskId to, std::string from, Time now) {
  const auto r = h.kernel.send(to, std::move(from), Json{{"content", "hi"}}, now);
  EXPECT_FALSE(r.has_value());
  return r ? SendErrorCode::TaskNotFound : r.error().code;
}

TEST(KernelSend, ARefusedSendStillSettlesWhatItsTimeMadeDue) {
  // Every input first fires what is due at its time, and must then settle as any input does: here
  // a refused send fires b's delay, and next_deadline() must not go on naming the stale timeout of
  // a's finished attempt (a driver would wake for nothing, and an early tick would change it).
  Config config;
  config.max_running = 2;
  Harness h(config);
  TaskSpec timed = task("a");
  timed.timeout = ms(50);
  const TaskId a = h.spawn(timed, ms(0));
  TaskSpec later = task("b");
  later.run_after = ms(20);
  const TaskId b = h.spawn(later, ms(0));
  h.drain();
  h.succeed(a, 1, ms(10));
  h.drain();
  EXPECT_EQ(send_error(h, TaskId{99}, "alice", ms(30)), SendErrorCode::TaskNotFound);
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{b});
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt) << "a's timeout died with its attempt";
}

TEST(KernelSend, DeliversToTheRunningAttempt) {
  Harness h;
  const TaskId id = h.spawn(sub_agent(), ms(0));
  h.drain();
  ASSERT_TRUE(h.kernel.send(id, "alice", Json{{"content", "hello"}}, ms(1)).has_value());
  EXPECT_EQ(delivers(h.drain()), (std::vector<command::Deliver>{{id, 1, "alice", Json{{"content", "hello"}}}}));
}

TEST(KernelSend, MessagesSentBeforeTheAttemptStartedFollowItsStart) {
  Harness h;
  TaskSpec spec = sub_agent();
  spec.run_after = ms(50);
  const TaskId id = h.spawn(spec, ms(0));
  ASSERT_TRUE(h.kernel.send(id, "alice", "first", ms(1)).has_value());
  ASSERT_TRUE(h.kernel.send(id, "alice", "second", ms(2)).has_value());
  EXPECT_TRUE(h.drain().empty()) << "nothing to deliver to yet";
  h.tick(ms(50));
  const auto out = h.drain();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<command::Start>(out[0]));
  EXPECT_EQ(std::get<command::Deliver>(out[1]), (command::Deliver{id, 1, "alice", "first"}));
  EXPECT_EQ(std::get<command::Deliver>(out[2]), (command::Deliver{id, 1, "alice", "second"}));
}

TEST(KernelSend, MessagesSentBetweenAttemptsGoToTheNextAttempt) {
  Harness h;
  TaskSpec spec = sub_agent();
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(10);
  const TaskId id = h.spawn(spec, ms(0));
  h.fail(id, 1, ms(1), "crashed");
  h.drain();
  ASSERT_TRUE(h.kernel.send(id, "alice", "are you there", ms(2)).has_value());
  EXPECT_TRUE(delivers(h.drain()).empty());
  h.tick(ms(11));
  EXPECT_EQ(delivers(h.drain()), (std::vector<command::Deliver>{{id, 2, "alice", "are you there"}}));
}

TEST(KernelSend, ErrorsComeInTheSeedsOrder) {
  Harness h;
  // Not found beats everything.
  EXPECT_EQ(send_error(h, TaskId{5}, "alice", ms(0)), SendErrorCode::TaskNotFound);

  // Not owner is checked before terminated and before no-inbox.
  const TaskId plain = h.spawn(task("work", "alice"), ms(0));
  h.succeed(plain, 1, ms(1));
  EXPECT_EQ(send_error(h, plain, "mallory", ms(2)), SendErrorCode::NotOwner);
  // Terminated is checked before no-inbox.
  EXPECT_EQ(send_error(h, plain, "alice", ms(2)), SendErrorCode::TaskTerminated);
  const TaskId live_plain = h.spawn(task("work", "alice"), ms(3));
  EXPECT_EQ(send_error(h, live_plain, "alice", ms(3)), SendErrorCode::NoInbox);
  // No-inbox is checked before closed.
  EXPECT_TRUE(h.kernel.cancel(live_plain, ms(3)));
  EXPECT_EQ(send_error(h, live_plain, "alice", ms(3)), SendErrorCode::NoInbox);

  // Closed: the sub-agent is being cancelled.
  const TaskId agent = h.spawn(sub_agent(), ms(4));
  EXPECT_TRUE(h.kernel.cancel(agent, ms(5)));
  EXPECT_EQ(send_error(h, agent, "mallory", ms(6)), SendErrorCode::NotOwner);
  EXPECT_EQ(send_error(h, agent, "alice", ms(6)), SendErrorCode::InboxClosed);
}

TEST(KernelSend, MessagesNameTheProblem) {
  Harness h;
  auto message = [&](TaskId to, std::string from) {
    const auto r = h.kernel.send(to, std::move(from), "x", ms(10));
    return r ? std::string("<delivered>") : r.error().message;
  };
  EXPECT_EQ(message(TaskId{3}, "alice"), "task not found");
  const TaskId done = h.spawn(sub_agent(), ms(0));
  EXPECT_EQ(message(done, "bob"), "caller does not own this task");
  h.succeed(done, 1, ms(1));
  EXPECT_EQ(message(done, "alice"), "task already completed");
  const TaskId failed = h.spawn(sub_agent(), ms(2));
  h.fail(failed, 1, ms(3), "x");
  EXPECT_EQ(message(failed, "alice"), "task already failed");
  TaskSpec delayed = sub_agent();
  delayed.run_after = seconds(1);
  const TaskId cancelled = h.spawn(delayed, ms(4));
  EXPECT_TRUE(h.kernel.cancel(cancelled, ms(5)));
  EXPECT_EQ(message(cancelled, "alice"), "task already cancelled");
  const TaskId plain = h.spawn(task(), ms(6));
  EXPECT_EQ(message(plain, "alice"), "task has no inbox (not a sub-agent)");
  const TaskId closing = h.spawn(sub_agent(), ms(7));
  EXPECT_TRUE(h.kernel.cancel(closing, ms(8)));
  EXPECT_EQ(message(closing, "alice"), "sub-agent inbox closed");
}

TEST(KernelSend, TheInboxClosesWhenTheKernelStops) {
  Harness h;
  const TaskId agent = h.spawn(sub_agent(), ms(0));
  h.kernel.shutdown(ShutdownMode::Drain, ms(1));
  h.drain();
  const auto r = h.kernel.send(agent, "alice", "late", ms(2));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, SendErrorCode::InboxClosed);
  EXPECT_TRUE(h.drain().empty());
}

TEST(KernelSend, AFailedSendEmitsNothing) {
  Harness h;
  const TaskId plain = h.spawn(task(), ms(0));
  h.drain();
  (void)h.kernel.send(plain, "alice", "x", ms(1));
  (void)h.kernel.send(plain, "bob", "x", ms(1));
  EXPECT_TRUE(h.drain().empty());
}

// Seed 003's sub-agents, durable: a message sent while the sub-agent waits for its start is in its
// record (TaskInfo::undelivered), so a restart keeps it, and the restored task's first attempt gets
// it in order. Once delivered it leaves the record.
TEST(KernelSend, MessagesWaitingForTheStartOfADurableSubAgentSurviveARestart) {
  Harness h;
  const TaskId id = h.spawn(waiting_durable_sub_agent(), ms(0));
  h.drain();
  ASSERT_TRUE(h.kernel.send(id, "alice", "first", ms(1)).has_value());
  const auto records = persists(h.drain());
  ASSERT_EQ(records.size(), 1u) << "the send changed the durable record";
  ASSERT_TRUE(records[0].record.undelivered);
  EXPECT_EQ(*records[0].record.undelivered, (std::vector<InboxMessage>{{"alice", "first"}}));
  ASSERT_TRUE(h.kernel.send(id, "alice", "second", ms(2)).has_value());
  h.drain();

  Harness restarted;
  restarted.kernel.restore(h.kernel.snapshot(), ms(10));
  EXPECT_TRUE(delivers(restarted.drain()).empty());
  restarted.tick(ms(50));
  const auto out = restarted.drain();
  EXPECT_EQ(started_ids(out), std::vector<TaskId>{id});
  EXPECT_EQ(delivers(out), (std::vector<command::Deliver>{{id, 1, "alice", "first"}, {id, 1, "alice", "second"}}));
  const auto started = persists(out);
  ASSERT_FALSE(started.empty());
  EXPECT_FALSE(started.back().record.undelivered) << "delivered: no longer in the record";
}

TEST(KernelSend, AnEndedSubAgentKeepsNoUndeliveredMessages) {
  Harness h;
  const TaskId id = h.spawn(waiting_durable_sub_agent(), ms(0));
  ASSERT_TRUE(h.kernel.send(id, "alice", "never read", ms(1)).has_value());
  EXPECT_TRUE(h.kernel.cancel(id, ms(2)));
  const auto records = persists(h.drain());
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().record.status, TaskStatus::Cancelled);
  EXPECT_FALSE(records.back().record.undelivered);
}

// A message may end up in a durable record (TaskInfo::undelivered), so it meets the payload limits,
// whether the sub-agent runs or not; and what waits for a start is bounded, so one sub-agent's
// record stays far below what a journal record may hold.
TEST(KernelSend, AMessageMeetsThePayloadLimits) {
  Config config;
  config.max_payload_bytes = 16;
  Harness h(config);
  const TaskId running = h.spawn(sub_agent(), ms(0));
  h.drain();
  const auto big = h.kernel.send(running, "alice", Json{{"text", "more than sixteen bytes"}}, ms(1));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, SendErrorCode::MessageTooLarge);
  EXPECT_EQ(big.error().message, "message is 34 bytes; the limit is 16");
  Json deep = 1;
  for (int i = 0; i < 300; ++i) deep = Json::array({deep});
  const auto nested = h.kernel.send(running, "alice", deep, ms(2));
  ASSERT_FALSE(nested.has_value());
  EXPECT_EQ(nested.error().code, SendErrorCode::MessageTooLarge);
  EXPECT_EQ(nested.error().message, "message nests deeper than 256 levels");
  EXPECT_TRUE(h.drain().empty()) << "a refused send emits nothing";
  EXPECT_TRUE(h.kernel.send(running, "alice", "small", ms(3)).has_value());
}

TEST(KernelSend, MessagesWaitingForTheStartAreBoundedInNumberAndBytes) {
  Config config;
  config.max_payload_bytes = 20;
  Harness h(config);
  TaskSpec spec = sub_agent();
  spec.run_after = ms(50);
  const TaskId id = h.spawn(spec, ms(0));
  EXPECT_TRUE(h.kernel.send(id, "alice", "12345678", ms(1)).has_value());  // 10 bytes as JSON
  EXPECT_TRUE(h.kernel.send(id, "alice", "abcdefgh", ms(2)).has_value());  // 20 together: at the limit
  const auto full = h.kernel.send(id, "alice", "x", ms(3));
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, SendErrorCode::InboxFull);
  EXPECT_EQ(full.error().message, "2 messages wait for the sub-agent's start; at most 256 and 20 bytes together");
  h.tick(ms(50));
  EXPECT_EQ(delivers(h.drain()).size(), 2u);
  EXPECT_TRUE(h.kernel.send(id, "alice", "x", ms(51)).has_value()) << "running: delivered at once";

  h.drain();

  Harness many;  // the default 1 MiB: the count bounds it
  const TaskId waiting = many.spawn(spec, ms(0));
  for (std::size_t i = 0; i < 256; ++i) ASSERT_TRUE(many.kernel.send(waiting, "alice", i, ms(1)).has_value()) << i;
  const auto over = many.kernel.send(waiting, "alice", 256, ms(2));
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, SendErrorCode::InboxFull);
}

// The bound counts messages a restart brought back: the restored record's bytes count as sent ones.
TEST(KernelSend, TheBoundOnWaitingMessagesCountsThoseARestoreBroughtBack) {
  Config config;
  config.max_payload_bytes = 20;
  Harness h(config);
  const TaskId id = h.spawn(waiting_durable_sub_agent(), ms(0));
  ASSERT_TRUE(h.kernel.send(id, "alice", "12345678", ms(1)).has_value());  // 10 bytes as JSON
  ASSERT_TRUE(h.kernel.send(id, "alice", "abcdefgh", ms(2)).has_value());  // 20 together
  h.drain();

  Harness restarted(config);
  restarted.kernel.restore(h.kernel.snapshot(), ms(10));
  const auto full = restarted.kernel.send(id, "alice", "x", ms(11));
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, SendErrorCode::InboxFull);
  restarted.tick(ms(50));
  EXPECT_EQ(delivers(restarted.drain()).size(), 2u);
}

// Delivered messages no longer count: between two attempts the bound starts from zero again.
TEST(KernelSend, DeliveredMessagesLeaveTheBoundOnWaitingOnes) {
  Config config;
  config.max_payload_bytes = 20;
  Harness h(config);
  TaskSpec spec = waiting_durable_sub_agent();
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(10);
  const TaskId id = h.spawn(spec, ms(0));
  ASSERT_TRUE(h.kernel.send(id, "alice", "12345678", ms(1)).has_value());
  ASSERT_TRUE(h.kernel.send(id, "alice", "abcdefgh", ms(2)).has_value());  // 20 bytes wait
  h.tick(ms(50));
  EXPECT_EQ(delivers(h.drain()).size(), 2u);
  h.fail(id, 1, ms(51), "boom");  // pending again until ms(61)
  h.drain();
  ASSERT_EQ(h.status(id), TaskStatus::Pending);
  EXPECT_TRUE(h.kernel.send(id, "alice", "12345678", ms(52)).has_value());
  EXPECT_TRUE(h.kernel.send(id, "alice", "abcdefgh", ms(53)).has_value()) << "the first attempt's messages still count";
  EXPECT_FALSE(h.kernel.send(id, "alice", "x", ms(54)).has_value());
  h.tick(ms(61));
  EXPECT_EQ(delivers(h.drain()).size(), 2u);
}

}  // namespace
}  // namespace tasklane
