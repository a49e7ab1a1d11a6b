// Determinism: the same events at the same times give the same commands, byte for byte, whether
// fed through the kernel's methods or replayed as TimedEvents through apply().
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::ms;
using testkit::task;

// A busy script: priorities, a lane, a delay, retries with jitter, a timeout, a cancel, a send, a
// flush and a shutdown. Completions are answered at the time the kernel asks for (next_deadline),
// so jitter moves the whole timeline.
std::vector<std::pair<Time, Command>> run_script(std::uint64_t seed) {
  Config config;
  config.seed = seed;
  config.max_running = 2;
  Kernel k(config);
  std::vector<std::pair<Time, Command>> out;
  auto drain = [&](Time now) {
    while (auto c = k.poll()) out.emplace_back(now, std::move(*c));
  };

  TaskSpec flaky = task("flaky");
  flaky.retry = RetryPolicy{4, ms(100), 2.0, seconds(1), 0.8, {}, false};
  flaky.durable = true;
  TaskSpec slow = task("slow", "bob");
  slow.timeout = ms(250);
  slow.retry.max_attempts = 2;
  slow.retry.jitter = 0.3;
  TaskSpec lane = task("lane");
  lane.key = testkit::key("actor", "facts");
  TaskSpec agent = task("sub_agent");
  agent.inbox = true;
  agent.run_after = ms(40);
  agent.priority = Priority::Critical;

  Time now = ms(0);
  const TaskId f = k.spawn(flaky, now).value();
  const TaskId s = k.spawn(slow, now).value();
  const TaskId l1 = k.spawn(lane, now).value();
  const TaskId l2 = k.spawn(lane, now).value();
  const TaskId a = k.spawn(agent, now).value();
  (void)k.send(a, "alice", "early", now);
  (void)k.flush(flush_selector::All{}, now);
  drain(now);

  for (int step = 0; step < 40; ++step) {
    const auto due = k.next_deadline();
    now = due ? std::max(*due, now + ms(1)) : now + ms(7);
    k.tick(now);
    drain(now);
    // The work of each running task returns at the kernel's next wake-up: flaky fails twice, the
    // lane head and the sub-agent succeed, the slow one never returns (only its timeout ends it).
    if (const std::optional<TaskInfo> info = k.get(f); info->status == TaskStatus::Running) {
      if (info->attempt < 3) {
        k.complete(f, info->attempt, Outcome::failure("flaky " + std::to_string(info->attempt)), now);
      } else {
        k.complete(f, info->attempt, Outcome::success(Json{{"attempt", info->attempt}}), now);
      }
    }
    if (k.get(l1)->status == TaskStatus::Running) k.complete(l1, 1, Outcome::success(), now);
    if (step == 3 && !is_terminal(k.get(l2)->status)) (void)k.cancel(l2, now);
    if (k.get(l2)->status == TaskStatus::Running && step > 3) k.complete(l2, 1, Outcome::success(), now);
    if (k.get(a)->status == TaskStatus::Running) k.complete(a, 1, Outcome::success("bye"), now);
    drain(now);
    if (step == 30) k.shutdown(ShutdownMode::Cancel, now);
    drain(now);
    if (k.stopped()) break;
  }
  (void)s;
  return out;
}

TEST(KernelDeterminism, TheSameScriptTwiceGivesEqualCommands) {
  const auto first = run_script(11);
  const auto second = run_script(11);
  EXPECT_EQ(first, second);

  // The script must exercise what can diverge: retries, a timeout, a delivery, a flush, a stop.
  std::vector<Command> commands;
  for (const auto& [at, c] : first) commands.push_back(c);
  EXPECT_GE(testkit::starts(commands).size(), 7u);
  EXPECT_EQ(testkit::delivers(commands).size(), 1u);
  EXPECT_EQ(testkit::flush_dones(commands).size(), 1u);
  EXPECT_EQ(testkit::stops(commands), 1u);
  EXPECT_EQ(testkit::notifies(commands).size(), 5u);
  bool timed_out = false;
  for (const auto& c : testkit::cancels(commands)) timed_out = timed_out || c.reason == CancelReason::TimedOut;
  EXPECT_TRUE(timed_out);
}

TEST(KernelDeterminism, AnotherSeedMovesTheJitteredTimeline) {
  EXPECT_NE(run_script(11), run_script(12));
}

TEST(KernelDeterminism, ReplayingTheRecordedEventsThroughApplyGivesTheSameCommands) {
  TaskSpec spec = task("work");
  spec.retry = RetryPolicy{3, ms(10), 2.0, seconds(1), 0.5, {}, false};
  spec.timeout = ms(100);
  spec.durable = true;
  TaskSpec child = task("sub_agent");
  child.parent.task = TaskId{0};
  child.inbox = true;
  const std::vector<TimedEvent> trace{
      {ms(0), event::Spawn{spec}},
      {ms(0), event::Spawn{child}},
      {ms(1), event::Send{TaskId{1}, "alice", "hello"}},
      {ms(2), event::Complete{TaskId{0}, 1, Outcome::failure("flaky")}},
      {ms(5), event::Flush{flush_selector::All{}}},
      {ms(40), event::Tick{}},
      {ms(60), event::Abort{abort_selector::Tree{TaskId{0}}}},
      {ms(61), event::Complete{TaskId{1}, 1, Outcome::success()}},
      {ms(200), event::Tick{}},
      {ms(300), event::Shutdown{ShutdownMode::Drain}},
  };
  auto replay = [&] {
    Kernel k(Config{});
    std::vector<Command> out;
    for (const auto& e : trace) {
      apply(k, e);
      while (auto c = k.poll()) out.push_back(std::move(*c));
    }
    return out;
  };
  const auto first = replay();
  EXPECT_EQ(first, replay());
  EXPECT_EQ(testkit::stops(first), 1u);
  EXPECT_EQ(testkit::delivers(first).size(), 1u);
  EXPECT_EQ(testkit::flush_dones(first).size(), 1u);

  // The same inputs through the methods give the same commands as apply().
  Kernel k(Config{});
  std::vector<Command> direct;
  auto drain = [&] {
    while (auto c = k.poll()) direct.push_back(std::move(*c));
  };
  (void)k.spawn(spec, ms(0));
  drain();
  (void)k.spawn(child, ms(0));
  drain();
  (void)k.send(TaskId{1}, "alice", "hello", ms(1));
  drain();
  k.complete(TaskId{0}, 1, Outcome::failure("flaky"), ms(2));
  drain();
  (void)k.flush(flush_selector::All{}, ms(5));
  drain();
  k.tick(ms(40));
  drain();
  (void)k.abort(abort_selector::Tree{TaskId{0}}, ms(60));
  drain();
  k.complete(TaskId{1}, 1, Outcome::success(), ms(61));
  drain();
  k.tick(ms(200));
  drain();
  k.shutdown(ShutdownMode::Drain, ms(300));
  drain();
  EXPECT_EQ(direct, first);
}

}  // namespace
}  // namespace tasklane
