// Driver conformance for the features beyond the seeds (issue 8): each runs against the Asio and
// the Qt driver alike, through the same harness contract (driver_harness.hpp).
//
//   #include "conformance/conformance_features.hpp"
//   INSTANTIATE_TYPED_TEST_SUITE_P(asio, DriverFeatures, ::testing::Types<AsioHarness>, HarnessName);
#pragma once

#include "conformance/conformance_suite.hpp"

namespace tasklane::conformance {

template <class H>
class DriverFeatures : public DriverConformance<H> {};

TYPED_TEST_SUITE_P(DriverFeatures);

// ---- deduplication ----------------------------------------------------------------------------

TYPED_TEST_P(DriverFeatures, ADedupKeyHeldByARunningTaskAnswersThatTask) {
  Signal release;
  HandlerRegistry handlers;
  handlers.add("index", [&](WorkContext& ctx) {
    hold(ctx, release);
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("index");
  spec.dedup = DedupSpec{"reindex", DedupMode::KeepExisting};
  const TaskId first = this->spawn_ok(*h, spec);
  ASSERT_TRUE(eventually([&] {
    const auto info = info_of(*h, first);
    return info && info->status == TaskStatus::Running;
  }));
  EXPECT_EQ(this->spawn_ok(*h, spec), first) << "the live task's id, not a second task";
  EXPECT_EQ(h->read([](const Kernel& k) { return k.stats().deduplicated; }), 1u);
  release.set();
  EXPECT_EQ(this->wait_ok(*h, first).status, TaskStatus::Completed);
  EXPECT_EQ(ids_of(h->events(), TaskEventKind::Spawned), std::vector<TaskId>{first}) << "one Spawned event";
  EXPECT_NE(this->spawn_ok(*h, spec), first) << "a finished task holds no key";
}

TYPED_TEST_P(DriverFeatures, ReplacePendingCancelsTheWaitingTaskWithAReason) {
  HandlerRegistry handlers;
  handlers.add("summary", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("summary");
  spec.dedup = DedupSpec{"summary", DedupMode::ReplacePending};
  spec.run_after = seconds(60);
  const TaskId first = this->spawn_ok(*h, spec);
  spec.run_after = Duration{0};
  const TaskId second = this->spawn_ok(*h, spec);
  ASSERT_NE(first, second);
  const TaskInfo replaced = this->wait_ok(*h, first);
  EXPECT_EQ(replaced.status, TaskStatus::Cancelled);
  EXPECT_EQ(replaced.error, "replaced by " + to_string(second) + " (dedup key 'summary')");
  EXPECT_EQ(this->wait_ok(*h, second).status, TaskStatus::Completed);
}

TYPED_TEST_P(DriverFeatures, AnEmptyDedupKeyIsRefusedWithItsCode) {
  auto h = this->open(HandlerRegistry{});
  TaskSpec spec = task("any");
  spec.dedup = DedupSpec{"", DedupMode::KeepExisting};
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_dedup));
}

TYPED_TEST_P(DriverFeatures, APriorityOutsideTheEnumIsRefusedWithItsCode) {
  auto h = this->open(HandlerRegistry{});
  TaskSpec spec = task("any");
  spec.priority = static_cast<Priority>(priority_count);
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_priority));
  EXPECT_EQ(make_error_code(errc::invalid_priority).message(), "priority must be low, normal, high or critical");
}

TYPED_TEST_P(DriverFeatures, AModeOutsideItsEnumIsRefusedWithItsCode) {
  auto h = this->open(HandlerRegistry{});
  TaskSpec spec = task("any");
  spec.after_mode = static_cast<DependencyMode>(dependency_mode_count);
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_dependency_mode));
  EXPECT_EQ(make_error_code(errc::invalid_dependency_mode).message(), "after_mode must be all_succeeded or all_finished");
  spec = task("any");
  spec.dedup = DedupSpec{"d", static_cast<DedupMode>(dedup_mode_count)};
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_dedup));
  spec = task("any");
  spec.repeat = Repeat{std::chrono::milliseconds(5), static_cast<RepeatMode>(repeat_mode_count), std::nullopt};
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_repeat));
}

// ---- rate limits ------------------------------------------------------------------------------

// Without the limit all three would start at once, in spawn order; with it the two that wait for a
// token start one token apart, the high-priority one first. (Order only: a virtual-time driver
// moves its clock at will, so wall-clock gaps are no measure here; the kernel tests time them.)
TYPED_TEST_P(DriverFeatures, ARateLimitHoldsStartsAndWaitersTakeTokensInPriorityOrder) {
  HandlerRegistry handlers;
  handlers.add("call", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers), TestFixture::max_running(4));
  TaskSpec spec = task("call");
  spec.rate_limit = RateLimit{"provider", 1, milliseconds(200)};
  const TaskId first = this->spawn_ok(*h, spec);
  spec.priority = Priority::Low;
  const TaskId low = this->spawn_ok(*h, spec);
  spec.priority = Priority::High;
  const TaskId high = this->spawn_ok(*h, spec);
  for (const TaskId id : {first, low, high}) EXPECT_EQ(this->wait_ok(*h, id).status, TaskStatus::Completed);
  EXPECT_EQ(ids_of(h->events(), TaskEventKind::Started), (std::vector<TaskId>{first, high, low}))
      << "the waiting high-priority task takes the next token first";
  const auto buckets = h->read([](const Kernel& k) { return k.snapshot().rate_limits; });
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].key, "provider");
}

TYPED_TEST_P(DriverFeatures, ABadRateLimitIsRefusedWithItsCode) {
  auto h = this->open(HandlerRegistry{});
  TaskSpec spec = task("any");
  spec.rate_limit = RateLimit{"provider", 0, milliseconds(100)};
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_rate_limit));
}

// ---- heartbeats --------------------------------------------------------------------------------

// The first attempt hangs without a heartbeat: it is cancelled as timed out (by the heartbeat, with
// no per-attempt timeout at all) and the retry, which returns at once, completes the task.
TYPED_TEST_P(DriverFeatures, WorkThatStopsBeatingTimesOutAndIsRetried) {
  Signal never;
  HandlerRegistry handlers;
  handlers.add("stuck_call", [&](WorkContext& ctx) {
    if (ctx.attempt == 1) {
      ctx.heartbeat();  // alive once, then stuck
      const bool cancelled = hold(ctx, never);
      return cancelled ? Outcome::failure("cancelled") : Outcome::failure("never cancelled");
    }
    return Outcome::success(Json{{"attempt", ctx.attempt}});
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("stuck_call");
  spec.heartbeat = milliseconds(150);
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = milliseconds(1);
  const TaskId id = this->spawn_ok(*h, spec);
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.attempt, 2u);
  EXPECT_EQ(info.result, (Json{{"attempt", 2}}));
  EXPECT_EQ(h->read([](const Kernel& k) { return k.stats().heartbeat_timeouts; }), 1u);
}

// Work that beats, from a hot loop, keeps its attempt alive past the interval; the beats of the
// loop fold together on their way to the owner, and none of them is stale.
TYPED_TEST_P(DriverFeatures, WorkThatBeatsOutlivesItsHeartbeatInterval) {
  HandlerRegistry handlers;
  handlers.add("long_call", [](WorkContext& ctx) {
    for (int slice = 0; slice < 20; ++slice) {
      for (int beat = 0; beat < 1000; ++beat) ctx.heartbeat();
      std::this_thread::sleep_for(25ms);
    }
    ctx.heartbeat();
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("long_call");
  spec.heartbeat = milliseconds(300);  // the work takes 500 ms on a real clock
  const auto began = std::chrono::steady_clock::now();
  const TaskId id = this->spawn_ok(*h, spec);
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Completed) << info.error.value_or("");
  EXPECT_EQ(info.attempt, 1u);
  if constexpr (TypeParam::real_clock) {
    EXPECT_GE(std::chrono::steady_clock::now() - began, 500ms);
  }
  const auto stats = h->read([](const Kernel& k) { return k.stats(); });
  EXPECT_EQ(stats.heartbeat_timeouts, 0u);
  EXPECT_EQ(stats.ignored_heartbeats, 0u) << "the last beat reaches the owner before the work's outcome";
}

TYPED_TEST_P(DriverFeatures, ABadHeartbeatIsRefusedWithItsCode) {
  auto h = this->open(HandlerRegistry{});
  TaskSpec spec = task("any");
  spec.heartbeat = Duration{0};
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_heartbeat));
}

// ---- dependencies -----------------------------------------------------------------------------

// The waiter starts only after its dependency ended, though a slot was free all along; a failed
// dependency fails its AllSucceeded waiter with a reason naming it, and the driver's code map is
// right for each new refusal.
TYPED_TEST_P(DriverFeatures, AWaiterStartsAfterItsDependencyAndAFailedOneFailsItWithTheReason) {
  Signal release;
  HandlerRegistry handlers;
  handlers.add("fetch", [&](WorkContext& ctx) {
    hold(ctx, release);
    return Outcome::success();
  });
  handlers.add("broken", [](WorkContext&) { return Outcome::failure("HTTP 500", false); });
  handlers.add("index", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers), TestFixture::max_running(4));
  const TaskId fetch = this->spawn_ok(*h, task("fetch"));
  TaskSpec index = task("index");
  index.after = {fetch};
  const TaskId waiter = this->spawn_ok(*h, index);
  ASSERT_TRUE(eventually([&] {
    const auto info = info_of(*h, fetch);
    return info && info->status == TaskStatus::Running;
  }));
  const auto waiting = info_of(*h, waiter);
  ASSERT_TRUE(waiting.has_value());
  EXPECT_EQ(waiting->status, TaskStatus::Pending);
  EXPECT_EQ(waiting->waiting_for, std::vector<TaskId>{fetch});
  release.set();
  EXPECT_EQ(this->wait_ok(*h, waiter).status, TaskStatus::Completed);
  EXPECT_EQ(ids_of(h->events(), TaskEventKind::Started), (std::vector<TaskId>{fetch, waiter}));

  const TaskId broken = this->spawn_ok(*h, task("broken"));
  index.after = {broken};
  const TaskInfo failed = this->wait_ok(*h, this->spawn_ok(*h, index));
  EXPECT_EQ(failed.status, TaskStatus::Failed);
  EXPECT_EQ(failed.error, "dependency " + to_string(broken) + " failed: HTTP 500");

  TaskSpec cycle = task("index");
  cycle.after = {TaskId{1000}};
  EXPECT_EQ(h->spawn(cycle).first, make_error_code(errc::dependency_cycle));
}

// ---- pause and resume -------------------------------------------------------------------------

// What a pause or resume that went well answers: no error, and how many tasks it changed.
inline std::pair<std::error_code, std::size_t> answered(std::size_t tasks) { return {std::error_code{}, tasks}; }

// alice's work waits, paused, while bob's runs; spawned later under the rule it is paused too; a
// resume runs alice's tasks in their spawn order.
TYPED_TEST_P(DriverFeatures, PausedWorkWaitsInPlaceAndResumesInOrder) {
  HandlerRegistry handlers;
  handlers.add("step", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers), TestFixture::max_running(1));
  EXPECT_EQ(h->pause(pause_selector::Owner{"alice"}), answered(0)) << "nothing queued yet: a rule all the same";
  TaskSpec mine = task("step");
  mine.owner = "alice";
  const TaskId a1 = this->spawn_ok(*h, mine);
  const TaskId a2 = this->spawn_ok(*h, mine);
  TaskSpec theirs = task("step");
  theirs.owner = "bob";
  const TaskId b1 = this->spawn_ok(*h, theirs);
  EXPECT_EQ(this->wait_ok(*h, b1).status, TaskStatus::Completed);
  const auto held = info_of(*h, a1);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->status, TaskStatus::Pending);
  EXPECT_TRUE(held->paused);
  EXPECT_EQ(h->pause(pause_selector::Owner{"alice"}, true), answered(2));
  EXPECT_EQ(this->wait_ok(*h, a2).status, TaskStatus::Completed);
  EXPECT_EQ(ids_of(h->events(), TaskEventKind::Started), (std::vector<TaskId>{b1, a1, a2}));
  EXPECT_EQ(h->pause(pause_selector::Owner{"alice"}, true), answered(0)) << "no rule left to lift";
}

// The rule is on disk once pause answers (a crash keeps it), and a restart keeps the work paused.
TYPED_TEST_P(DriverFeatures, APauseIsOnDiskAtOnceAndARestartKeepsTheWorkPaused) {
  TaskSpec spec = task("compact");
  spec.durable = true;
  spec.key = SequenceKey{"agent", "s1", "compaction"};
  TaskId id;
  {
    auto h = this->open(HandlerRegistry{}, this->durable_options());
    EXPECT_EQ(h->pause(pause_selector::Purpose{"compaction"}), answered(0));
    id = this->spawn_ok(*h, spec);
    drivers::PosixFileSystem fs;
    auto on_disk = drivers::read_data_dir(this->data_dir(), fs);
    ASSERT_TRUE(on_disk.has_value()) << on_disk.error().message;
    EXPECT_EQ(on_disk.value().snapshot.paused_purposes, std::vector<std::string>{"compaction"});
  }
  HandlerRegistry handlers;
  handlers.add("compact", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers), this->durable_options());
  const auto restored = info_of(*h, id);
  ASSERT_TRUE(restored.has_value());
  EXPECT_TRUE(restored->paused);
  EXPECT_EQ(restored->status, TaskStatus::Pending);
  EXPECT_EQ(h->pause(pause_selector::Purpose{"compaction"}, true), answered(1));
  EXPECT_EQ(this->wait_ok(*h, id).status, TaskStatus::Completed);
}

// A rule that cannot be made durable still holds, and the answer says it is not on disk. (A
// directory where the snapshot's temporary file goes makes the write fail, even for root.)
TYPED_TEST_P(DriverFeatures, APauseThatCannotBeMadeDurableSaysSoAndStillHolds) {
  TaskSpec spec = task("compact");
  spec.owner = "alice";
  spec.run_after = std::chrono::hours(1);  // pending while the test looks
  auto h = this->open(HandlerRegistry{}, this->durable_options());
  std::filesystem::create_directories(this->data_dir() / "snapshot.tmp" / "blocker");
  const TaskId id = this->spawn_ok(*h, spec);
  const auto [error, tasks] = h->pause(pause_selector::Owner{"alice"});
  EXPECT_EQ(error, make_error_code(errc::not_persisted));
  EXPECT_EQ(tasks, 1u) << "the rule holds in memory all the same";
  const auto info = info_of(*h, id);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->paused);
}

// ---- repeating tasks ---------------------------------------------------------------------------

// The runs of `series` the kernel has, by id.
template <class H>
std::vector<TaskInfo> runs_of(H& h, TaskId series, const std::string& owner = "alice") {
  return h.read([series, owner](const Kernel& k) {
    std::vector<TaskInfo> runs;
    for (auto& info : k.list(owner)) {
      if (info.series == series) runs.push_back(std::move(info));
    }
    return runs;
  });
}

// Each run is a task of its own (id, Notify, attempts); the first fails and the series goes on;
// after `times` runs it is over.
TYPED_TEST_P(DriverFeatures, ARepeatingTaskRunsItsTimesEachRunATaskAndAFailedRunDoesNotEndIt) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  HandlerRegistry handlers;
  handlers.add("digest", [calls](WorkContext&) {
    const int call = ++*calls;
    return call == 1 ? Outcome::failure("feed down", false) : Outcome::success(Json{{"call", call}});
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("digest");
  spec.repeat = Repeat{milliseconds(30), RepeatMode::FixedDelay, 3u};
  const TaskId first = this->spawn_ok(*h, spec);
  EXPECT_EQ(this->wait_ok(*h, first).status, TaskStatus::Failed);
  std::vector<TaskInfo> runs = runs_of(*h, first);
  ASSERT_EQ(runs.size(), 2u) << "the next run is spawned as the first ends";
  EXPECT_EQ(this->wait_ok(*h, runs[1].id).status, TaskStatus::Completed);
  runs = runs_of(*h, first);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(this->wait_ok(*h, runs[2].id).status, TaskStatus::Completed);
  runs = runs_of(*h, first);
  ASSERT_EQ(runs.size(), 3u) << "three runs in all";
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(runs[i].run, i + 1);
    EXPECT_TRUE(is_terminal(runs[i].status));
  }
  EXPECT_GE(runs[2].created_at, *runs[1].finished_at);
  EXPECT_GE(*runs[2].finished_at - *runs[1].finished_at, milliseconds(30)) << "fixed delay: 30 ms after the end";
  EXPECT_EQ(ids_of(h->events(), TaskEventKind::Started), (std::vector<TaskId>{first, runs[1].id, runs[2].id}));
  EXPECT_EQ(ids_of(h->events(), TaskEventKind::Spawned), (std::vector<TaskId>{first, runs[1].id, runs[2].id}))
      << "a next run is announced like a spawn";
  EXPECT_EQ(calls->load(), 3);
  EXPECT_EQ(h->read([](const Kernel& k) { return k.stats().repeated; }), 2u);
}

// cancel(series id) reaches the run that is live now; a bad repeat is refused with its code.
TYPED_TEST_P(DriverFeatures, CancellingTheSeriesIdStopsTheSeries) {
  HandlerRegistry handlers;
  handlers.add("tick", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("tick");
  spec.repeat = Repeat{seconds(3600), RepeatMode::FixedRate, std::nullopt};  // the second run waits an hour
  const TaskId first = this->spawn_ok(*h, spec);
  EXPECT_EQ(this->wait_ok(*h, first).status, TaskStatus::Completed);
  const std::vector<TaskInfo> runs = runs_of(*h, first);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].status, TaskStatus::Pending);
  EXPECT_EQ(h->abort(abort_selector::Task{first}), 1u);
  EXPECT_EQ(this->wait_ok(*h, runs[1].id).status, TaskStatus::Cancelled);
  EXPECT_EQ(runs_of(*h, first).size(), 2u) << "no run after a cancelled one";

  spec.repeat->every = Duration{0};
  EXPECT_EQ(h->spawn(spec).first, make_error_code(errc::invalid_repeat));
}

// Seed 000 across a restart on the same files: the error of a durable task that no flush took
// yet is in its record, so the first flush after the restart reports it, and only that flush.
TYPED_TEST_P(DriverFeatures, AnErrorNoFlushTookIsReportedByTheFirstFlushAfterARestart) {
  TaskSpec failing = task("extract");
  failing.durable = true;
  failing.key = SequenceKey{"agent", "s1", "facts"};
  // A durable spawn answered after the failure proves the failure's record is on disk. The marker
  // never runs (a restart would find it running and orphan it: an error of its own), and it has no
  // key, so the scope flushes below do not select it.
  TaskSpec marker = task("mark");
  marker.durable = true;
  marker.run_after = std::chrono::hours(1);
  {
    HandlerRegistry handlers;
    handlers.add("extract", [](WorkContext&) { return Outcome::failure("extraction failed", false); });
    auto h = this->open(std::move(handlers), this->durable_options());
    const TaskId id = this->spawn_ok(*h, failing);
    EXPECT_EQ(this->wait_ok(*h, id).status, TaskStatus::Failed);
    this->spawn_ok(*h, marker);  // answered once its record is synced, and with it every record before
  }
  auto h = this->open(HandlerRegistry{}, this->durable_options());
  EXPECT_EQ(h->flush(flush_selector::Scope{"other"}), std::pair(std::error_code{}, std::string()));
  EXPECT_EQ(h->flush(flush_selector::Scope{"s1"}),
            std::pair(make_error_code(errc::task_failed), std::string("extraction failed")));
  EXPECT_EQ(h->flush(flush_selector::Scope{"s1"}), std::pair(std::error_code{}, std::string())) << "reported once";
}

// Seed 003's sub-agents, durable: a message sent while the sub-agent waits for its start is in its
// record, so after a restart on the same files the first attempt finds it in its inbox. (The work
// waits under a pause rule, durable too, so that it cannot start before the restart.)
TYPED_TEST_P(DriverFeatures, AMessageWaitingForADurableSubAgentsStartSurvivesARestart) {
  TaskSpec agent = task("sub-agent");
  agent.owner = "alice";
  agent.inbox = true;
  agent.durable = true;
  TaskSpec marker = task("mark");  // never runs: see AnErrorNoFlushTookIsReportedByTheFirstFlushAfterARestart
  marker.owner = "bob";
  marker.durable = true;
  marker.run_after = std::chrono::hours(1);
  TaskId id;
  {
    auto h = this->open(HandlerRegistry{}, this->durable_options());
    EXPECT_EQ(h->pause(pause_selector::Owner{"alice"}), answered(0));
    id = this->spawn_ok(*h, agent);
    EXPECT_FALSE(h->send(id, "alice", {{"text", "read this after the restart"}}));
    this->spawn_ok(*h, marker);  // answered once its record is synced, and with it every record before
  }
  HandlerRegistry handlers;
  handlers.add("sub-agent", answer_first_message);
  auto h = this->open(std::move(handlers), this->durable_options());
  EXPECT_EQ(h->pause(pause_selector::Owner{"alice"}, true), answered(1));
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Completed) << info.error.value_or("");
  EXPECT_EQ(info.result, Json({{"from", "alice"}, {"message", {{"text", "read this after the restart"}}}}));
}

REGISTER_TYPED_TEST_SUITE_P(DriverFeatures, ADedupKeyHeldByARunningTaskAnswersThatTask,
                            ReplacePendingCancelsTheWaitingTaskWithAReason, AnEmptyDedupKeyIsRefusedWithItsCode,
                            APriorityOutsideTheEnumIsRefusedWithItsCode, AModeOutsideItsEnumIsRefusedWithItsCode,
                            ARateLimitHoldsStartsAndWaitersTakeTokensInPriorityOrder,
                            ABadRateLimitIsRefusedWithItsCode, WorkThatStopsBeatingTimesOutAndIsRetried,
                            WorkThatBeatsOutlivesItsHeartbeatInterval, ABadHeartbeatIsRefusedWithItsCode,
                            AWaiterStartsAfterItsDependencyAndAFailedOneFailsItWithTheReason,
                            PausedWorkWaitsInPlaceAndResumesInOrder,
                            APauseIsOnDiskAtOnceAndARestartKeepsTheWorkPaused,
                            APauseThatCannotBeMadeDurableSaysSoAndStillHolds,
                            ARepeatingTaskRunsItsTimesEachRunATaskAndAFailedRunDoesNotEndIt,
                            CancellingTheSeriesIdStopsTheSeries,
                            AnErrorNoFlushTookIsReportedByTheFirstFlushAfterARestart,
                            AMessageWaitingForADurableSubAgentsStartSurvivesARestart);

}  // namespace tasklane::conformance
