// Tests of the InvariantChecker itself: a clean run gives no violation, and each rule fires on a
// command stream forged to break it (the kernel is real, so the checker reads real specs).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tasklane/drivers/invariants.hpp"
#include "tasklane/drivers/simulation.hpp"
#include "tasklane/drivers/splitmix64.hpp"

namespace tasklane::sim {
namespace {

TaskSpec task(std::string kind = "work") {
  TaskSpec spec;
  spec.kind = std::move(kind);
  spec.owner = "alice";
  return spec;
}

bool mentions(const InvariantChecker& checker, const std::string& text) {
  for (const auto& v : checker.violations()) {
    if (v.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string all(const InvariantChecker& checker) {
  std::string out;
  for (const auto& v : checker.violations()) out += v + "\n";
  return out;
}

// A kernel that accepts tasks but never starts one, so every Start below is forged.
struct Forged {
  Forged() : kernel(make_config()), checker(kernel) {}
  static Config make_config() {
    Config c;
    c.max_running = 0;
    return c;
  }
  TaskId spawn(TaskSpec spec, Time at = Time{0}) {
    auto r = kernel.spawn(std::move(spec), at);
    EXPECT_TRUE(r.has_value());
    while (kernel.poll()) {
    }
    checker.on_spawned(r.value());
    return r.value();
  }
  void start(TaskId id, std::uint32_t attempt, Time at, std::optional<Time> deadline = std::nullopt) {
    checker.on_command(at, command::Start{id, attempt, "work", nullptr, deadline, false});
  }
  // A real cancel of a pending task, whose Notify the checker sees.
  void cancel(TaskId id, Time at) {
    EXPECT_TRUE(kernel.cancel(id, at));
    while (auto c = kernel.poll()) checker.on_command(at, *c);
  }
  // A forged Notify: the kernel has sent it already.
  void notify_again(TaskId id, Time at) {
    checker.on_command(at, command::Notify{"alice", id, TaskStatus::Cancelled, nullptr, std::nullopt, std::nullopt});
  }
  Kernel kernel;
  InvariantChecker checker;
};

TEST(InvariantChecker, CleanSimulationHasNoViolation) {
  Config config;
  config.max_running = 2;
  Simulation sim(config, 11);
  InvariantChecker checker(sim.kernel());
  watch(sim, checker);
  sim.on_kind("flaky", [](const WorkRequest& w) {
    return WorkPlan{milliseconds(static_cast<std::int64_t>(w.random % 5)),
                    w.random % 3 ? Outcome::success() : Outcome::failure("flaked"), false, Duration{0}, std::nullopt};
  });
  for (int i = 0; i < 20; ++i) {
    TaskSpec spec = task("flaky");
    if (i % 2) spec.key = SequenceKey{"agent", "s", "p"};
    if (i % 3 == 0) spec.quota = QuotaSpec{"q", milliseconds(2), 0, false};
    spec.retry.max_attempts = 3;
    spec.retry.initial_backoff = Duration{0};
    spec.timeout = milliseconds(3);
    auto id = sim.spawn(spec);
    ASSERT_TRUE(id.has_value());
    checker.on_spawned(id.value());
  }
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_TRUE(checker.ok()) << all(checker);
  EXPECT_TRUE(checker.unnotified().empty());
}

// How a fuzz target uses it: no simulation, inputs straight into a kernel, times that sometimes go
// backwards (the kernel clamps them, and so must the checker, or it would report nonsense).
TEST(InvariantChecker, FedDirectlyWithTimeGoingBackwards) {
  Config config;
  config.max_running = 3;
  Kernel kernel(config);
  InvariantChecker checker(kernel);
  SplitMix64 rng(5);
  std::vector<command::Start> running;
  Time now{0};
  auto drain = [&] {
    while (auto c = kernel.poll()) {
      checker.on_command(now, *c);
      if (const auto* s = std::get_if<command::Start>(&*c)) running.push_back(*s);
    }
    checker.after_input(now);
  };
  for (int i = 0; i < 3000; ++i) {
    now += Duration{static_cast<Duration::rep>(rng.below(3000))} - Duration{1000};  // may go back 1 ms
    if (now < Time{0}) now = Time{0};
    switch (rng.below(4)) {
      case 0: {
        TaskSpec spec = task();
        if (rng.chance(50)) spec.key = SequenceKey{"a", "s" + std::to_string(rng.below(2)), "p"};
        if (rng.chance(30)) spec.quota = QuotaSpec{"q", milliseconds(2), 0, false};
        if (rng.chance(30)) spec.run_after = milliseconds(static_cast<std::int64_t>(rng.below(5)));
        if (rng.chance(40)) spec.timeout = milliseconds(1 + static_cast<std::int64_t>(rng.below(5)));
        spec.retry.max_attempts = 1 + static_cast<std::uint32_t>(rng.below(3));
        spec.retry.initial_backoff = Duration{0};
        if (auto id = kernel.spawn(spec, now)) {
          drain();
          checker.on_spawned(id.value());
        } else {
          drain();
        }
        break;
      }
      case 1:
        if (!running.empty()) {
          const std::size_t at = rng.below(running.size());
          const command::Start s = running[at];
          running.erase(running.begin() + static_cast<long>(at));
          kernel.complete(s.id, s.attempt, rng.chance(70) ? Outcome::success() : Outcome::failure("x"), now);
          drain();
        }
        break;
      case 2:
        kernel.tick(now);
        drain();
        break;
      default:
        if (rng.chance(10)) {
          (void)kernel.abort(abort_selector::Task{TaskId{rng.below(400)}}, now);
          drain();
        }
        break;
    }
  }
  EXPECT_GT(kernel.stats().started, 500u);
  EXPECT_TRUE(checker.ok()) << all(checker);
}

TEST(InvariantChecker, UnnotifiedListsTasksStillLive) {
  Forged f;
  const TaskId a = f.spawn(task());
  EXPECT_EQ(f.checker.unnotified(), std::vector<TaskId>{a});
  f.cancel(a, Time{0});
  EXPECT_TRUE(f.checker.unnotified().empty());
  EXPECT_TRUE(f.checker.ok()) << all(f.checker);
}

TEST(InvariantChecker, SecondNotifyAndStartAfterNotify) {
  Forged f;
  const TaskId a = f.spawn(task());
  f.cancel(a, milliseconds(1));
  EXPECT_TRUE(f.checker.ok()) << all(f.checker);
  f.notify_again(a, milliseconds(2));
  f.start(a, 1, milliseconds(3));
  EXPECT_TRUE(mentions(f.checker, "a second Notify for bg_0")) << all(f.checker);
  EXPECT_TRUE(mentions(f.checker, "bg_0 started (attempt 1) after its Notify")) << all(f.checker);
}

TEST(InvariantChecker, AttemptsMustGoUpByOne) {
  Forged f;
  const TaskId a = f.spawn(task());
  f.start(a, 2, Time{0});
  EXPECT_TRUE(mentions(f.checker, "started attempt 2 after attempt 0")) << all(f.checker);
}

TEST(InvariantChecker, NoStartBeforeRunAfter) {
  Forged f;
  TaskSpec spec = task();
  spec.run_after = milliseconds(10);
  const TaskId a = f.spawn(spec, milliseconds(5));
  f.start(a, 1, milliseconds(14));
  EXPECT_TRUE(mentions(f.checker, "before its run_after (15.000 ms)")) << all(f.checker);
}

TEST(InvariantChecker, QuotaCooldownBetweenStarts) {
  Forged f;
  TaskSpec spec = task();
  spec.quota = QuotaSpec{"session-1/compaction", milliseconds(50), 0, false};
  const TaskId a = f.spawn(spec);
  const TaskId b = f.spawn(spec);
  const TaskId c = f.spawn(spec);
  f.start(a, 1, milliseconds(0));
  f.start(b, 1, milliseconds(50));
  EXPECT_TRUE(f.checker.ok()) << all(f.checker);
  f.start(c, 1, milliseconds(60));
  EXPECT_TRUE(mentions(f.checker, "bg_2 started under quota 'session-1/compaction' 10.000 ms after")) << all(f.checker);
}

TEST(InvariantChecker, RateLimitNeedsAFreeToken) {
  Forged f;
  TaskSpec spec = task();
  spec.rate_limit = RateLimit{"openai", 2, milliseconds(100)};
  std::vector<TaskId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(f.spawn(spec));
  f.start(ids[0], 1, milliseconds(0));
  f.start(ids[1], 1, milliseconds(0));
  f.start(ids[2], 1, milliseconds(50));
  EXPECT_TRUE(f.checker.ok()) << "a burst of 2, then a token every 50 ms: " << all(f.checker);
  f.start(ids[3], 1, milliseconds(60));
  EXPECT_TRUE(mentions(f.checker, "bg_3 started under rate limit 'openai' with no token free (the next is due at 100.000 ms)"))
      << all(f.checker);
}

TEST(InvariantChecker, NoStartWhileAPauseRuleHoldsTheTask) {
  Forged f;
  TaskSpec mine = task();
  TaskSpec compaction = task();
  compaction.owner = "bob";
  compaction.key = SequenceKey{"agent", "s1", "compaction"};
  const TaskId a = f.spawn(mine);
  const TaskId b = f.spawn(compaction);
  f.checker.on_pause(pause_selector::Owner{"alice"});
  f.checker.on_pause(pause_selector::Purpose{"compaction"});
  f.start(a, 1, milliseconds(1));
  f.checker.after_input(milliseconds(1));
  EXPECT_TRUE(mentions(f.checker, "bg_0 started while paused (owner 'alice')")) << all(f.checker);
  f.start(b, 1, milliseconds(2));  // started by the resume input that lifts its rule: fine
  f.checker.on_resume(pause_selector::Purpose{"compaction"});
  f.checker.after_input(milliseconds(2));
  EXPECT_FALSE(mentions(f.checker, "bg_1 started while paused")) << all(f.checker);
}

TEST(InvariantChecker, OneKeyStartsInOrderAndNeverOverlaps) {
  Forged f;
  TaskSpec spec = task();
  spec.key = SequenceKey{"agent", "s1", "facts"};
  const TaskId a = f.spawn(spec);
  const TaskId b = f.spawn(spec);
  f.start(b, 1, milliseconds(1));
  EXPECT_TRUE(mentions(f.checker, "bg_1 started while bg_0 of its key (agent, s1, facts) has not finished"))
      << all(f.checker);
  f.start(a, 1, milliseconds(2));
  EXPECT_TRUE(mentions(f.checker, "bg_0 started after bg_1, a later task of its key")) << all(f.checker);
}

TEST(InvariantChecker, OneKeyInOrderIsFine) {
  Forged f;
  TaskSpec spec = task();
  spec.key = SequenceKey{"agent", "s1", "facts"};
  const TaskId a = f.spawn(spec);  // cancelled before it ever runs
  const TaskId b = f.spawn(spec);
  f.cancel(a, milliseconds(1));
  f.start(b, 1, milliseconds(2));
  EXPECT_EQ(f.checker.violation_count(), 0u) << all(f.checker);
}

TEST(InvariantChecker, TimeoutBeforeDeadlineAndCancelOfNothing) {
  Forged f;
  const TaskId a = f.spawn(task());
  f.start(a, 1, Time{0}, milliseconds(10));
  f.checker.on_command(milliseconds(9), command::Cancel{a, 1, CancelReason::TimedOut});
  EXPECT_TRUE(mentions(f.checker, "bg_0 timed out before its deadline 10.000 ms")) << all(f.checker);
  f.checker.on_command(milliseconds(11), command::Cancel{a, 1, CancelReason::Requested});
  EXPECT_TRUE(mentions(f.checker, "Cancel (requested) of bg_0 attempt 1, which is not running")) << all(f.checker);
}

TEST(InvariantChecker, FlushDoneAtMostOnce) {
  Forged f;
  f.checker.on_command(Time{0}, command::FlushDone{4, std::nullopt});
  EXPECT_TRUE(f.checker.ok());
  f.checker.on_command(Time{0}, command::FlushDone{4, std::nullopt});
  EXPECT_TRUE(mentions(f.checker, "a second FlushDone for flush 4")) << all(f.checker);
}

TEST(InvariantChecker, RunningCountMustMatchStartedAttempts) {
  Kernel kernel(Config{});
  InvariantChecker checker(kernel);
  ASSERT_TRUE(kernel.spawn(task(), Time{0}).has_value());
  while (kernel.poll()) {
  }  // the Start is hidden from the checker
  checker.after_input(Time{0});
  EXPECT_TRUE(mentions(checker, "running() is 1 but 0 started attempts are still running")) << all(checker);
}

TEST(InvariantChecker, RestartForgetsLostTasksAndKeepsDurableOnes) {
  Simulation sim(Config{}, 2);
  InvariantChecker checker(sim.kernel());
  watch(sim, checker);
  sim.on_kind("long", [](const WorkRequest&) { return WorkPlan{milliseconds(50), Outcome::success(), false, Duration{0}, std::nullopt}; });
  TaskSpec durable = task("long");
  durable.durable = true;
  const auto kept = sim.spawn(durable);
  const auto lost = sim.spawn(task("long"));
  ASSERT_TRUE(kept && lost);
  checker.on_spawned(kept.value());
  checker.on_spawned(lost.value());
  sim.advance_by(milliseconds(5));
  const Snapshot snapshot = sim.crash();
  checker.on_restart(snapshot);
  EXPECT_EQ(checker.unnotified(), std::vector<TaskId>{kept.value()});
  sim.restore(snapshot);  // orphaned: its Notify comes now
  EXPECT_TRUE(checker.unnotified().empty());
  EXPECT_TRUE(checker.ok()) << all(checker);
}

}  // namespace
}  // namespace tasklane::sim
