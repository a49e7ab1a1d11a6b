// Unit tests of the simulation driver: plans are honoured, cancels and timeouts reach the work the
// way simulation.hpp says, runs are a function of the seed, and the trace replays exactly.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <variant>
#include <vector>

#include "tasklane/drivers/simulation.hpp"

namespace tasklane {
inline void PrintTo(const TaskStatus& s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(const TaskId& id, std::ostream* os) { *os << to_string(id); }
}  // namespace tasklane

namespace tasklane::sim {
namespace {

TaskSpec task(std::string kind, std::string owner = "alice") {
  TaskSpec spec;
  spec.kind = std::move(kind);
  spec.owner = std::move(owner);
  return spec;
}

WorkPlan plan(Duration d, Outcome outcome = Outcome::success()) { return WorkPlan{d, std::move(outcome), false, Duration{0}, std::nullopt}; }

template <class C>
std::vector<std::pair<Time, C>> only(const std::vector<TimedCommand>& commands) {
  std::vector<std::pair<Time, C>> out;
  for (const auto& c : commands) {
    if (const auto* x = std::get_if<C>(&c.command)) out.emplace_back(c.at, *x);
  }
  return out;
}

TaskId spawn_ok(Simulation& sim, TaskSpec spec) {
  auto r = sim.spawn(std::move(spec));
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? r.value() : TaskId{~0ULL};
}

// A workload that touches every kind of input: failures and retries, a timeout with a stale
// completion, a cancel, a flush, an inbox, and the queued-work runner.
void busy_workload(Simulation& sim) {
  sim.on_kind("slow", [](const WorkRequest& w) {
    return plan(milliseconds(w.start.attempt == 1 ? 30 : 2), Outcome::success({{"attempt", w.start.attempt}}));
  });
  sim.on_kind("flaky", [](const WorkRequest& w) {
    return plan(milliseconds(static_cast<std::int64_t>(w.random % 4)),
                w.random % 2 ? Outcome::success() : Outcome::failure("flaked"));
  });
  sim.on_kind("hang", [](const WorkRequest&) { return WorkPlan{Duration{0}, Outcome::success(), true, milliseconds(2), std::nullopt}; });
  sim.on_queued_work([](const command::RunQueuedWork& run) { return run.session; });

  TaskSpec slow = task("slow");
  slow.timeout = milliseconds(10);
  slow.retry.max_attempts = 2;
  slow.retry.initial_backoff = milliseconds(1);
  slow.durable = true;
  spawn_ok(sim, slow);
  for (int i = 0; i < 6; ++i) {
    TaskSpec flaky = task("flaky", i % 2 ? "alice" : "bob");
    flaky.key = SequenceKey{"agent", "s1", "facts"};
    flaky.retry.max_attempts = 3;
    flaky.retry.initial_backoff = milliseconds(1);
    flaky.retry.jitter = 0.5;
    spawn_ok(sim, flaky);
  }
  TaskSpec agent = task("hang");
  agent.inbox = true;
  const TaskId sub = spawn_ok(sim, agent);
  EXPECT_TRUE(sim.send(sub, "alice", {{"text", "hello"}}).has_value());
  sim.poke(std::string("s1"), "turn queued");
  sim.advance_by(milliseconds(3));
  (void)sim.flush(flush_selector::Scope{"s1"});
  sim.complete_session("s1", "turn done");
  sim.advance_by(milliseconds(5));
  EXPECT_EQ(sim.abort(abort_selector::Task{sub}), 1u);
  sim.advance_by(milliseconds(100));
}

TEST(Simulation, KindWithoutHandlerSucceedsAfterOneMillisecond) {
  Simulation sim(Config{}, 1);
  const TaskId id = spawn_ok(sim, task("anything"));
  EXPECT_TRUE(sim.run_until_idle());
  const auto notes = only<command::Notify>(sim.commands());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].first, milliseconds(1));
  EXPECT_EQ(notes[0].second.status, TaskStatus::Completed);
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Completed);
}

TEST(Simulation, KindsPlanIsHonoured) {
  Simulation sim(Config{}, 1);
  sim.on_kind("summarize", [](const WorkRequest&) { return plan(milliseconds(30), Outcome::success({{"ok", true}})); });
  sim.on_kind("broken", [](const WorkRequest&) { return plan(milliseconds(7), Outcome::failure("boom", false)); });
  const TaskId good = spawn_ok(sim, task("summarize"));
  const TaskId bad = spawn_ok(sim, task("broken"));
  EXPECT_TRUE(sim.run_until_idle());

  const auto notes = only<command::Notify>(sim.commands());
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].first, milliseconds(7));
  EXPECT_EQ(notes[0].second.id, bad);
  EXPECT_EQ(notes[0].second.status, TaskStatus::Failed);
  EXPECT_EQ(notes[0].second.error, std::optional<std::string>("boom"));
  EXPECT_EQ(notes[1].first, milliseconds(30));
  EXPECT_EQ(notes[1].second.id, good);
  EXPECT_EQ(notes[1].second.result, Json({{"ok", true}}));
  EXPECT_EQ(sim.now(), milliseconds(30));
  EXPECT_EQ(sim.notifications().size(), 2u);
}

TEST(Simulation, HandlerSeesTheStartCommandAndTheVirtualNow) {
  Simulation sim(Config{}, 1);
  std::vector<std::pair<Time, std::uint32_t>> seen;
  sim.on_kind("retry", [&](const WorkRequest& w) {
    seen.emplace_back(w.now, w.start.attempt);
    return plan(milliseconds(2), w.start.attempt < 3 ? Outcome::failure("again") : Outcome::success());
  });
  TaskSpec spec = task("retry");
  spec.retry.max_attempts = 3;
  spec.retry.initial_backoff = milliseconds(10);
  spec.retry.multiplier = 2.0;
  const TaskId id = spawn_ok(sim, spec);
  EXPECT_TRUE(sim.run_until_idle());
  // Attempt 1 at 0, fails at 2, waits 10; attempt 2 at 12, fails at 14, waits 20; attempt 3 at 34.
  const std::vector<std::pair<Time, std::uint32_t>> expected{
      {milliseconds(0), 1}, {milliseconds(12), 2}, {milliseconds(34), 3}};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Completed);
}

TEST(Simulation, StaleCompletionAfterTimeoutIsIgnoredAndCounted) {
  Simulation sim(Config{}, 1);
  sim.on_kind("slow", [](const WorkRequest&) { return plan(milliseconds(20)); });
  TaskSpec spec = task("slow");
  spec.timeout = milliseconds(5);
  const TaskId id = spawn_ok(sim, spec);

  sim.advance_to(milliseconds(6));
  const auto cancels = only<command::Cancel>(sim.commands());
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].first, milliseconds(5));
  EXPECT_EQ(cancels[0].second.reason, CancelReason::TimedOut);
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::TimedOut);
  EXPECT_EQ(sim.kernel().get(id)->error, std::optional<std::string>("timed out after 5 ms"));
  EXPECT_EQ(sim.in_flight(), 1u) << "a timed-out attempt's work keeps running";
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 0u);

  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.now(), milliseconds(20));
  EXPECT_EQ(sim.in_flight(), 0u);
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 1u);
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::TimedOut);
  EXPECT_EQ(sim.notifications().size(), 1u);
  ASSERT_FALSE(sim.trace().empty());
  const auto* last = std::get_if<event::Complete>(&sim.trace().back().event);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->attempt, 1u);
}

TEST(Simulation, StaleCompletionDoesNotDisturbTheRetry) {
  Simulation sim(Config{}, 1);
  sim.on_kind("slow", [](const WorkRequest& w) {
    return plan(milliseconds(w.start.attempt == 1 ? 20 : 3), Outcome::success({{"attempt", w.start.attempt}}));
  });
  TaskSpec spec = task("slow");
  spec.timeout = milliseconds(5);
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = milliseconds(1);
  const TaskId id = spawn_ok(sim, spec);

  sim.advance_to(milliseconds(7));  // attempt 2 started at 6 and runs until 9
  EXPECT_EQ(sim.kernel().get(id)->attempt, 2u);
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Running);
  EXPECT_TRUE(sim.run_until_idle());
  const std::optional<TaskInfo> info = sim.kernel().get(id);
  EXPECT_EQ(info->status, TaskStatus::Completed);
  EXPECT_EQ(info->finished_at, std::optional<Time>(milliseconds(9)));
  EXPECT_EQ(info->result, Json({{"attempt", 2}}));
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 1u) << "attempt 1 returned at 20 ms, after attempt 2 won";
  EXPECT_EQ(sim.notifications().size(), 1u);
}

TEST(Simulation, RequestedCancelReturnsAfterTheCancelLatency) {
  Simulation sim(Config{}, 1);
  sim.on_kind("long", [](const WorkRequest&) { return WorkPlan{milliseconds(100), Outcome::success(), false, milliseconds(3), std::nullopt}; });
  sim.on_kind("hang", [](const WorkRequest&) { return WorkPlan{Duration{0}, Outcome::success(), true, milliseconds(4), std::nullopt}; });
  const TaskId a = spawn_ok(sim, task("long"));
  const TaskId b = spawn_ok(sim, task("hang"));
  sim.advance_to(milliseconds(10));
  EXPECT_EQ(sim.abort(abort_selector::All{}), 2u);
  EXPECT_EQ(sim.kernel().get(a)->status, TaskStatus::Running) << "ends when its work returns";
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().get(a)->status, TaskStatus::Cancelled);
  EXPECT_EQ(sim.kernel().get(a)->finished_at, std::optional<Time>(milliseconds(13)));
  EXPECT_EQ(sim.kernel().get(b)->status, TaskStatus::Cancelled);
  EXPECT_EQ(sim.kernel().get(b)->finished_at, std::optional<Time>(milliseconds(14)));
  const auto completes = [&] {
    std::vector<event::Complete> out;
    for (const auto& e : sim.trace()) {
      if (const auto* c = std::get_if<event::Complete>(&e.event)) out.push_back(*c);
    }
    return out;
  }();
  ASSERT_EQ(completes.size(), 2u);
  EXPECT_EQ(completes[0].outcome, Outcome::failure("cancelled"));
  EXPECT_EQ(sim.in_flight(), 0u);
}

TEST(Simulation, HangingWorkWithoutTimeoutLeavesRunUntilIdleQuiet) {
  Simulation sim(Config{}, 1);
  sim.on_kind("hang", [](const WorkRequest&) { return WorkPlan{Duration{0}, Outcome::success(), true, Duration{0}, std::nullopt}; });
  const TaskId id = spawn_ok(sim, task("hang"));
  EXPECT_TRUE(sim.run_until_idle()) << "nothing will ever happen, so it is idle";
  EXPECT_EQ(sim.kernel().running(), 1u);
  EXPECT_EQ(sim.in_flight(), 1u);
  EXPECT_EQ(sim.now(), Time{0});
  EXPECT_FALSE(sim.step());
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Running);
}

TEST(Simulation, HangingWorkEndsAtItsTimeout) {
  Simulation sim(Config{}, 1);
  sim.on_kind("hang", [](const WorkRequest&) { return WorkPlan{Duration{0}, Outcome::success(), true, milliseconds(1), std::nullopt}; });
  TaskSpec spec = task("hang");
  spec.timeout = milliseconds(8);
  const TaskId id = spawn_ok(sim, spec);
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::TimedOut);
  EXPECT_EQ(sim.now(), milliseconds(9)) << "the token was honoured 1 ms after the timeout";
  EXPECT_EQ(sim.in_flight(), 0u);
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 1u);
}

TEST(Simulation, RunUntilIdleStopsAtItsLimit) {
  Simulation sim(Config{}, 1);
  sim.on_kind("long", [](const WorkRequest&) { return plan(seconds(10)); });
  const TaskId id = spawn_ok(sim, task("long"));
  EXPECT_FALSE(sim.run_until_idle(seconds(1)));
  EXPECT_EQ(sim.now(), seconds(1));
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Running);
  EXPECT_TRUE(sim.run_until_idle(seconds(60)));
  EXPECT_EQ(sim.now(), seconds(10));
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Completed);
  EXPECT_FALSE(sim.kernel().next_deadline().has_value());
}

TEST(Simulation, RunUntilIdleNeverIdlesWhileTheQueuedWorkPollRuns) {
  Config config;
  config.queued_work_runner = true;
  Simulation sim(config, 1);
  int asked = 0;
  sim.on_queued_work([&](const command::RunQueuedWork&) {
    ++asked;
    return std::nullopt;
  });
  sim.poke(std::nullopt, "start");
  EXPECT_FALSE(sim.run_until_idle(seconds(2)));
  EXPECT_EQ(sim.now(), seconds(2));
  // The startup drive, the poke, then a poll every 400 ms.
  EXPECT_EQ(asked, 2 + 5);
}

TEST(Simulation, QueuedWorkAnswersAreFedAndTraced) {
  Config config;
  config.queued_work_runner = true;
  Simulation sim(config, 1);
  std::vector<std::optional<std::string>> asked_for;
  sim.on_queued_work([&](const command::RunQueuedWork& run) {
    asked_for.push_back(run.session);
    return run.session;  // the host submits exactly the session it was asked about
  });
  sim.poke(std::string("s1"), "message queued");
  sim.poke(std::string("s1"), "another message");  // s1 is in flight: no second submission
  sim.complete_session("s1", "turn over");         // leaves flight, driven again
  const std::vector<std::optional<std::string>> expected{std::nullopt, std::string("s1"), std::string("s1")};
  EXPECT_EQ(asked_for, expected);
  std::vector<event::QueuedWorkAnswer> answers;
  for (const auto& e : sim.trace()) {
    if (const auto* a = std::get_if<event::QueuedWorkAnswer>(&e.event)) answers.push_back(*a);
  }
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[1].submitted, std::optional<std::string>("s1"));
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 0u) << "every answer matched its request";
}

TEST(Simulation, SameSeedGivesTheSameRun) {
  Simulation a(Config{}, 99);
  Simulation b(Config{}, 99);
  busy_workload(a);
  busy_workload(b);
  EXPECT_EQ(a.command_hash(), b.command_hash());
  EXPECT_EQ(a.commands(), b.commands());
  EXPECT_EQ(a.trace(), b.trace());
  EXPECT_EQ(a.command_hash(), command_hash(a.commands()));
}

TEST(Simulation, DifferentSeedsInterleaveEqualTimesDifferently) {
  std::set<std::uint64_t> hashes;
  std::set<std::vector<TaskId>> orders;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    Config config;
    config.max_running = 8;
    Simulation sim(config, seed);
    for (int i = 0; i < 8; ++i) spawn_ok(sim, task("same_length"));  // all return at 1 ms
    EXPECT_TRUE(sim.run_until_idle());
    hashes.insert(sim.command_hash());
    std::vector<TaskId> order;
    for (const auto& n : sim.notifications()) order.push_back(n.id);
    orders.insert(order);
  }
  EXPECT_GT(hashes.size(), 1u);
  EXPECT_GT(orders.size(), 1u) << "completions at one instant should come in a seeded order";
}

TEST(Simulation, TraceReplayReproducesTheCommandsExactly) {
  Config config;
  config.queued_work_runner = true;
  config.max_running = 2;
  Simulation sim(config, 7);
  busy_workload(sim);
  std::set<std::size_t> kinds;  // the workload reaches every kind of command but PersistSnapshot and Stopped
  for (const auto& c : sim.commands()) kinds.insert(c.command.index());
  EXPECT_EQ(kinds.size(), std::variant_size_v<Command> - 2);
  EXPECT_GT(sim.kernel().stats().ignored_completions, 0u);

  Kernel fresh(config);
  std::vector<TimedCommand> replayed;
  for (const auto& e : sim.trace()) {
    apply(fresh, e);
    while (auto c = fresh.poll()) replayed.push_back(TimedCommand{e.at, std::move(*c)});
  }
  ASSERT_EQ(replayed.size(), sim.commands().size());
  for (std::size_t i = 0; i < replayed.size(); ++i) {
    ASSERT_EQ(replayed[i], sim.commands()[i]) << "first difference at command " << i;
  }
  EXPECT_EQ(command_hash(replayed), sim.command_hash());
  EXPECT_EQ(fresh.stats(), sim.kernel().stats());
  EXPECT_EQ(fresh.snapshot(), sim.kernel().snapshot());
}

TEST(Simulation, PersistedFollowsPersistCommands) {
  Simulation sim(Config{}, 3);
  sim.on_kind("save", [](const WorkRequest&) { return plan(milliseconds(5), Outcome::success({{"saved", 1}})); });
  TaskSpec durable = task("save");
  durable.durable = true;
  const TaskId d = spawn_ok(sim, durable);
  const TaskId v = spawn_ok(sim, task("save"));
  ASSERT_EQ(sim.persisted().count(d), 1u);
  EXPECT_EQ(sim.persisted().at(d).status, TaskStatus::Running) << "spawn, then start, each persisted";
  EXPECT_EQ(sim.persisted().count(v), 0u) << "not durable";
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.persisted().at(d).status, TaskStatus::Completed);
  EXPECT_EQ(sim.persisted().at(d).result, Json({{"saved", 1}}));
  EXPECT_EQ(sim.persisted().at(d), *sim.kernel().get(d));
  EXPECT_EQ(only<command::Persist>(sim.commands()).size(), 3u);
  EXPECT_FALSE(sim.persisted_snapshot().has_value());
  sim.shutdown(ShutdownMode::Drain);
  ASSERT_TRUE(sim.persisted_snapshot().has_value());
  EXPECT_EQ(*sim.persisted_snapshot(), sim.kernel().snapshot());
  EXPECT_TRUE(sim.kernel().stopped());
}

TEST(Simulation, FlushResultsAndDeliveriesAreRecorded) {
  Simulation sim(Config{}, 3);
  sim.on_kind("fail", [](const WorkRequest&) { return plan(milliseconds(2), Outcome::failure("no disk")); });
  sim.on_kind("agent", [](const WorkRequest&) { return plan(milliseconds(10)); });
  TaskSpec failing = task("fail");
  failing.key = SequenceKey{"agent", "session-1", "facts"};
  spawn_ok(sim, failing);
  TaskSpec agent = task("agent");
  agent.inbox = true;
  const TaskId sub = spawn_ok(sim, agent);
  EXPECT_TRUE(sim.send(sub, "alice", {{"text", "one"}}).has_value());
  EXPECT_FALSE(sim.send(sub, "mallory", {{"text", "two"}}).has_value());
  const FlushId flush = sim.flush(flush_selector::Scope{"session-1"});
  EXPECT_FALSE(sim.flush_result(flush).has_value());
  EXPECT_TRUE(sim.run_until_idle());
  ASSERT_TRUE(sim.flush_result(flush).has_value());
  EXPECT_EQ(sim.flush_result(flush)->error, std::optional<std::string>("no disk"));
  ASSERT_EQ(sim.deliveries().size(), 1u);
  EXPECT_EQ(sim.deliveries()[0].message, Json({{"text", "one"}}));
}

TEST(Simulation, ObserversSeeEveryCommandAndEveryInput) {
  Simulation sim(Config{}, 3);
  std::vector<Time> command_times;
  std::size_t inputs = 0;
  sim.on_command([&](Time at, const Command&) { command_times.push_back(at); });
  sim.on_input([&](const TimedEvent&) { ++inputs; });
  spawn_ok(sim, task("a"));
  spawn_ok(sim, task("b"));
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(command_times.size(), sim.commands().size());
  EXPECT_EQ(inputs, sim.trace().size());
}

TEST(Simulation, CrashDropsWorkInFlightAndRestoreOrphansIt) {
  Simulation sim(Config{}, 5);
  sim.on_kind("long", [](const WorkRequest&) { return plan(milliseconds(50)); });
  TaskSpec durable = task("long");
  durable.durable = true;
  const TaskId running = spawn_ok(sim, durable);
  TaskSpec requeued = durable;
  requeued.retry.max_attempts = 2;
  requeued.retry.requeue_on_restart = true;
  const TaskId again = spawn_ok(sim, requeued);
  spawn_ok(sim, task("long"));  // not durable: lost
  sim.advance_to(milliseconds(10));

  const Snapshot snapshot = sim.crash();
  EXPECT_EQ(sim.in_flight(), 0u);
  EXPECT_EQ(sim.kernel().unfinished(), 0u) << "a fresh kernel";
  EXPECT_EQ(sim.restarts(), std::vector<std::size_t>{sim.trace().size()});
  sim.restore(snapshot);
  EXPECT_EQ(sim.kernel().get(running)->status, TaskStatus::Failed);
  EXPECT_EQ(sim.kernel().get(running)->error,
            std::optional<std::string>("task orphaned: runtime restarted while running"));
  EXPECT_EQ(sim.kernel().get(again)->status, TaskStatus::Running);
  EXPECT_EQ(sim.kernel().get(again)->attempt, 2u);
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().get(again)->status, TaskStatus::Completed);
  EXPECT_EQ(sim.kernel().get(again)->finished_at, std::optional<Time>(milliseconds(60)));
  EXPECT_EQ(sim.kernel().stats().ignored_completions, 0u) << "the dead process's work never returns";

  const auto replayed = replay(Config{}, sim.trace(), sim.restarts());
  EXPECT_EQ(replayed, sim.commands());
  EXPECT_NE(replay(Config{}, sim.trace()), sim.commands()) << "one kernel for the whole trace differs";
}

TEST(Simulation, ARestartNeverHandsOutAnIdAgainNotEvenOneOfALostTask) {
  // RuntimeCore reserves ids in its journal ahead; the simulated store keeps them durable at once,
  // so tasks that were not durable, and the next runs of a series, keep their ids to themselves.
  Simulation sim(Config{}, 3);
  sim.on_kind("quick", [](const WorkRequest&) { return plan(milliseconds(1)); });
  TaskSpec durable = task("quick");
  durable.durable = true;
  const TaskId kept = spawn_ok(sim, durable);
  const TaskId lost = spawn_ok(sim, task("quick"));  // not durable: gone after the crash
  TaskSpec repeating = task("quick");
  repeating.repeat = Repeat{milliseconds(5), RepeatMode::FixedDelay, 2};
  const TaskId first_run = spawn_ok(sim, repeating);
  sim.advance_to(milliseconds(3));  // every first attempt took 1 ms: run 2 is pending
  const auto next_run = sim.kernel().current_run(first_run);
  ASSERT_TRUE(next_run.has_value());
  ASSERT_NE(*next_run, first_run);
  sim.crash();
  sim.restore(sim.durable_state());
  EXPECT_TRUE(sim.kernel().get(kept).has_value());
  EXPECT_FALSE(sim.kernel().get(lost).has_value());
  const TaskId fresh = spawn_ok(sim, task("quick"));
  EXPECT_GT(fresh.value, next_run->value);
  EXPECT_GT(fresh.value, lost.value);
}

TEST(Simulation, AnAttemptQuotaHoldsAcrossACrashWithNoSnapshotSinceTheStarts) {
  // The durable store counts the starts recorded since the last snapshot into their quota, as
  // FileJournal's recovery does: "at most one attempt ever" stays one after a restart.
  Simulation sim(Config{}, 4);
  sim.on_kind("quick", [](const WorkRequest&) { return plan(milliseconds(1)); });
  TaskSpec once = task("quick");
  once.durable = true;
  once.quota = QuotaSpec{"alice/reindex", Duration{0}, 1, false};
  const TaskId first = spawn_ok(sim, once);
  EXPECT_TRUE(sim.run_until_idle());
  ASSERT_EQ(sim.kernel().get(first)->status, TaskStatus::Completed);
  EXPECT_FALSE(sim.persisted_snapshot().has_value()) << "no snapshot was written: the start is in a record only";
  sim.crash();
  sim.restore(sim.durable_state());
  ASSERT_EQ(sim.durable_state().quotas.size(), 1u);
  EXPECT_EQ(sim.durable_state().quotas[0].attempts, 1u);
  const auto again = sim.spawn(once);
  ASSERT_FALSE(again.has_value()) << "the attempt quota is used up";
  EXPECT_EQ(again.error().code, SpawnErrorCode::QuotaExhausted);
}

TEST(Simulation, PauseRulesAreDurableAtOnceAsARealRuntimeMakesThem) {
  // RuntimeCore writes a snapshot at each pause and resume; the simulated store keeps the rules the
  // same way, so a crash right after a pause restores them, and a resume lifts them on disk too.
  Simulation sim(Config{}, 1);
  TaskSpec spec = task("later");
  spec.durable = true;
  spec.run_after = milliseconds(50);
  const TaskId id = spawn_ok(sim, spec);
  EXPECT_EQ(sim.pause(pause_selector::Owner{spec.owner}), 1u);
  sim.crash();
  sim.restore(sim.durable_state());
  EXPECT_TRUE(sim.kernel().get(id)->paused);
  sim.advance_to(milliseconds(100));
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Pending) << "still paused after the restart";
  EXPECT_EQ(sim.durable_state().paused_owners, std::vector<std::string>{"alice"});
  EXPECT_EQ(sim.resume(pause_selector::Owner{spec.owner}), 1u);
  EXPECT_TRUE(sim.durable_state().paused_owners.empty()) << "the resume is durable at once too";
  EXPECT_TRUE(sim.run_until_idle());
  EXPECT_EQ(sim.kernel().get(id)->status, TaskStatus::Completed);
  EXPECT_EQ(replay(Config{}, sim.trace(), sim.restarts()), sim.commands());
}

}  // namespace
}  // namespace tasklane::sim
