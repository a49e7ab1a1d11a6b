// Repeating tasks (TaskSpec::repeat, BullMQ repeatables, Temporal schedules): each run is a task with
// its own id; when a run ends (not cancelled), the kernel spawns the next one in the same input.
#include <gtest/gtest.h>

#include <algorithm>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::persists;
using testkit::started_ids;
using testkit::starts;
using testkit::task;

TaskSpec repeating(Duration every, RepeatMode mode = RepeatMode::FixedRate, std::optional<std::uint32_t> times = {}) {
  TaskSpec spec = task("tick");
  spec.repeat = Repeat{every, mode, times};
  return spec;
}

// The run of `series` that is live now (pending or running), from the owner's list.
std::optional<TaskInfo> live_run(const Harness& h, TaskId series, const std::string& owner = "alice") {
  for (const auto& info : h.kernel.list(owner)) {
    if (info.series == series && !is_terminal(info.status)) return info;
  }
  return std::nullopt;
}

TEST(KernelRepeat, EachRunIsATaskWithItsOwnIdNumberedInItsSeries) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  const std::optional<TaskInfo> info = h.kernel.get(first);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->series, first) << "the first run names the series";
  EXPECT_EQ(info->run, 1u);

  h.succeed(first, 1, ms(30), 7);
  const auto out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u) << "the run's own Notify";
  EXPECT_EQ(notifies(out)[0].id, first);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Completed);
  const auto second = live_run(h, first);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->id, first);
  EXPECT_EQ(second->series, first);
  EXPECT_EQ(second->run, 2u);
  EXPECT_EQ(second->due, ms(100)) << "fixed rate: the next slot";
  EXPECT_EQ(second->spec.run_after, ms(70));
  EXPECT_EQ(second->spec.kind, "tick");
  EXPECT_EQ(h.kernel.stats().repeated, 1u);
  EXPECT_EQ(h.kernel.stats().spawned, 2u);

  h.tick(ms(100));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second->id});
  const std::optional<TaskInfo> plain = h.kernel.get(h.spawn(task(), ms(100)));
  EXPECT_EQ(plain->series, std::nullopt);
  EXPECT_EQ(plain->run, 0u);
}

TEST(KernelRepeat, FixedRateSkipsTheSlotsMissedWhileARunWasGoing) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.run_after = ms(50);  // slots at 50, 150, 250, 350, ...
  const TaskId first = h.spawn(spec, ms(0));
  h.tick(ms(50));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.succeed(first, 1, ms(320));  // 150 and 250 passed meanwhile
  const auto second = live_run(h, first);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->due, ms(350));
  EXPECT_EQ(h.kernel.stats().repeat_slots_skipped, 2u);

  h.tick(ms(350));
  h.drain();
  h.succeed(second->id, 1, ms(350));  // ends on its slot: the next is the one after, not itself
  const auto third = live_run(h, first);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->due, ms(450));
  EXPECT_EQ(third->run, 3u);
  EXPECT_EQ(h.kernel.stats().repeat_slots_skipped, 2u);
}

TEST(KernelRepeat, FixedDelayCountsFromTheEndOfTheRun) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100), RepeatMode::FixedDelay), ms(0));
  h.drain();
  h.succeed(first, 1, ms(270));
  const auto second = live_run(h, first);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->due, ms(370));
  h.tick(ms(369));
  EXPECT_TRUE(starts(h.drain()).empty());
  h.tick(ms(370));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second->id});
  EXPECT_EQ(h.kernel.stats().repeat_slots_skipped, 0u);
}

TEST(KernelRepeat, TimesLimitsTheRunsInAll) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(10), RepeatMode::FixedRate, 3u), ms(0));
  std::vector<TaskId> runs{first};
  for (int i = 0; i < 3; ++i) {
    h.tick(ms(10 * i));
    h.drain();
    h.succeed(runs.back(), 1, ms(10 * i + 1));
    if (const auto next = live_run(h, first)) runs.push_back(next->id);
  }
  EXPECT_EQ(runs.size(), 3u);
  EXPECT_FALSE(live_run(h, first).has_value()) << "three runs, then the series is over";
  EXPECT_EQ(h.kernel.get(runs.back())->series_end, std::nullopt) << "reaching `times` is no early end";
  EXPECT_EQ(h.kernel.stats().series_cut, 0u);
  EXPECT_EQ(h.kernel.unfinished(), 0u);
}

TEST(KernelRepeat, AFailedRunDoesNotEndTheSeriesAfterItsRetries) {
  Harness h;
  TaskSpec spec = repeating(ms(1000));
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(10);
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.fail(first, 1, ms(5), "boom");
  EXPECT_EQ(live_run(h, first)->id, first) << "a retry is the same run";
  h.tick(ms(15));
  h.drain();
  h.fail(first, 2, ms(20), "boom again");
  EXPECT_EQ(h.status(first), TaskStatus::Failed);
  const auto second = live_run(h, first);
  ASSERT_TRUE(second.has_value()) << "a failed run does not end the series";
  EXPECT_EQ(second->due, ms(1000));
  EXPECT_EQ(second->spec.retry, spec.retry);
  EXPECT_EQ(second->attempt, 0u) << "each run has its own attempts";
}

TEST(KernelRepeat, ATimedOutRunIsFollowedToo) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.timeout = ms(30);
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.tick(ms(30));
  EXPECT_EQ(h.status(first), TaskStatus::TimedOut);
  ASSERT_TRUE(live_run(h, first).has_value());
}

TEST(KernelRepeat, CancellingARunStopsTheSeries) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  const TaskId second = live_run(h, first)->id;
  EXPECT_TRUE(h.kernel.cancel(second, ms(20)));
  EXPECT_EQ(h.status(second), TaskStatus::Cancelled);
  EXPECT_FALSE(live_run(h, first).has_value());
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt) << "nothing left to wake for";
  EXPECT_EQ(h.kernel.stats().series_cut, 0u) << "a cancel is the user's own end, not a cut";
}

TEST(KernelRepeat, CancellingARunningRunStopsTheSeriesWhenItsWorkReturns) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  h.drain();
  EXPECT_TRUE(h.kernel.cancel(first, ms(5)));
  h.succeed(first, 1, ms(10));  // the work returned anyway: still cancelled
  EXPECT_EQ(h.status(first), TaskStatus::Cancelled);
  EXPECT_FALSE(live_run(h, first).has_value());
}

TEST(KernelRepeat, CancelBySeriesIdReachesTheCurrentRun) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  h.tick(ms(100));
  h.drain();
  const TaskId second = live_run(h, first)->id;
  EXPECT_EQ(h.status(second), TaskStatus::Running);
  EXPECT_EQ(h.kernel.current_run(first), second);
  EXPECT_EQ(h.kernel.current_run(second), std::nullopt) << "only the first run's id names the series";
  EXPECT_TRUE(h.kernel.cancel(first, ms(110))) << "the series id names the run that is live now";
  const auto out = h.drain();
  EXPECT_EQ(testkit::cancels(out), (std::vector<command::Cancel>{{second, 1, CancelReason::Requested}}));
  h.succeed(second, 1, ms(120));
  EXPECT_EQ(h.status(second), TaskStatus::Cancelled);
  EXPECT_FALSE(live_run(h, first).has_value());
  EXPECT_EQ(h.kernel.current_run(first), std::nullopt);
  EXPECT_FALSE(h.kernel.cancel(first, ms(130))) << "the series is over";
}

TEST(KernelRepeat, CancelByOwnerAndByTreeStopTheSeries) {
  Harness h;
  const TaskId parent = h.spawn(task("parent"), ms(0));
  TaskSpec child = repeating(ms(50));
  child.parent.task = parent;
  const TaskId first = h.spawn(child, ms(0));
  h.drain();
  h.succeed(first, 1, ms(1));
  ASSERT_TRUE(live_run(h, first).has_value());
  EXPECT_EQ(h.kernel.abort(abort_selector::Tree{parent}, ms(2)), 2u) << "the parent and the series' current run";
  EXPECT_FALSE(live_run(h, first).has_value());

  const TaskId other = h.spawn(repeating(ms(50)), ms(3));
  h.drain();
  h.succeed(other, 1, ms(4));
  EXPECT_EQ(h.kernel.abort(abort_selector::Owner{"alice"}, ms(5)), 1u);
  EXPECT_FALSE(live_run(h, other).has_value());
}

TEST(KernelRepeat, ATreeRootedAtTheSeriesIdReachesTheCurrentRunAndItsDescendants) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  h.drain();
  TaskSpec child = task("child");
  child.parent.task = first;
  child.run_after = ms(1000);
  const TaskId first_child = h.spawn(child, ms(1));
  h.succeed(first, 1, ms(10));
  h.tick(ms(100));
  h.drain();
  const TaskId second = live_run(h, first)->id;
  child.parent.task = second;
  const TaskId second_child = h.spawn(child, ms(101));
  EXPECT_EQ(h.kernel.abort(abort_selector::Tree{first}, ms(102)), 3u)
      << "the first run's child, the current run and the current run's child";
  h.succeed(second, 1, ms(103));
  for (const TaskId id : {first_child, second, second_child}) EXPECT_EQ(h.status(id), TaskStatus::Cancelled) << to_string(id);
  EXPECT_FALSE(live_run(h, first).has_value()) << "the series is over";
}

TEST(KernelRepeat, TheNextRunKeepsPriorityKeyQuotaOwnerAndPayload) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.priority = Priority::High;
  spec.key = testkit::key("s", "p");
  spec.quota = QuotaSpec{"q", ms(0), 0, false};
  spec.payload = {{"n", 1}};
  spec.name = "ticker";
  spec.durable = true;
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  const auto out = h.drain();
  const auto second = live_run(h, first);
  ASSERT_TRUE(second.has_value());
  TaskSpec expected = spec;
  expected.run_after = ms(90);
  EXPECT_EQ(second->spec, expected);
  // Both records leave in the one batch of the completion: the successor's first, then the run's end.
  const auto records = persists(out);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record.id, second->id);
  EXPECT_EQ(records[1].record.id, first);
  EXPECT_EQ(records[1].record.status, TaskStatus::Completed);
}

TEST(KernelRepeat, DependenciesGateTheFirstRunOnly) {
  Harness h;
  const TaskId dep = h.spawn(task("fetch"), ms(0));
  TaskSpec spec = repeating(ms(100));
  spec.after = {dep};
  const TaskId first = h.spawn(spec, ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{dep});
  h.succeed(dep, 1, ms(10));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.succeed(first, 1, ms(20));
  const auto second = live_run(h, first);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->spec.after.empty());
  EXPECT_TRUE(second->waiting_for.empty());
}

TEST(KernelRepeat, ARunThatNeverStartedEndsTheSeriesAndSaysWhy) {
  Harness h;
  const TaskId dep = h.spawn(task("fetch"), ms(0));
  TaskSpec spec = repeating(ms(100));
  spec.after = {dep};
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.fail(dep, 1, ms(10), "network", false);
  EXPECT_EQ(h.status(first), TaskStatus::Failed);
  EXPECT_FALSE(live_run(h, first).has_value()) << "no endless chain of runs failing at once";
  EXPECT_EQ(h.kernel.get(first)->series_end, "series ended: run 1 never started");
  EXPECT_EQ(h.kernel.stats().series_cut, 1u);
}

TEST(KernelRepeat, ARefusedNextRunEndsTheSeriesVisibly) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.quota = QuotaSpec{"compaction", ms(0), 2, false};  // two attempts ever under this key
  spec.durable = true;
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  const TaskId second = live_run(h, first)->id;
  h.tick(ms(100));
  h.drain();
  h.succeed(second, 1, ms(110));
  const auto out = h.drain();
  EXPECT_FALSE(live_run(h, first).has_value());
  const std::string why = "series ended: run 3 refused: attempt quota for 'compaction' is used up (limit 2)";
  EXPECT_EQ(h.kernel.get(second)->series_end, why);
  const auto records = persists(out);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record.series_end, why) << "the durable record says it too";
  EXPECT_EQ(h.kernel.stats().series_cut, 1u);
  EXPECT_EQ(h.kernel.stats().refused, 0u) << "the user's spawns were all accepted";
}

TEST(KernelRepeat, CooldownDelaysEachRunAndFixedRateSkipsTheSlotsItCovers) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.quota = QuotaSpec{"session-7/compaction", ms(250), 0, false};
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  const TaskId second = live_run(h, first)->id;
  h.tick(ms(100));
  EXPECT_TRUE(starts(h.drain()).empty()) << "due at 100, but the cooldown holds it to 250";
  h.tick(ms(250));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
  h.succeed(second, 1, ms(260));
  const auto third = live_run(h, first);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->due, ms(300));
  EXPECT_EQ(h.kernel.stats().repeat_slots_skipped, 1u) << "the slot at 200 passed while the run waited";
}

TEST(KernelRepeat, ShutdownSpawnsNoNextRun) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  h.drain();
  h.kernel.shutdown(ShutdownMode::Drain, ms(5));
  h.succeed(first, 1, ms(10));
  const auto out = h.drain();
  EXPECT_EQ(testkit::stops(out), 1u);
  EXPECT_EQ(h.status(first), TaskStatus::Completed);
  EXPECT_FALSE(live_run(h, first).has_value());
  EXPECT_EQ(h.kernel.get(first)->series_end, "series ended: runtime is shutting down");
}

TEST(KernelRepeat, APendingRunStaysPendingThroughAShutdownAndGoesOnAfterRestore) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.durable = true;
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  const TaskId second = live_run(h, first)->id;
  h.kernel.shutdown(ShutdownMode::Cancel, ms(20));
  const auto snapshots = testkit::persisted_snapshots(h.drain());
  ASSERT_EQ(snapshots.size(), 1u);

  Harness after;
  after.kernel.restore(snapshots[0].snapshot, ms(50));
  after.drain();
  after.tick(ms(100));
  EXPECT_EQ(started_ids(after.drain()), std::vector<TaskId>{second});
  after.succeed(second, 1, ms(120));
  const auto third = live_run(after, first);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->run, 3u);
  EXPECT_EQ(third->due, ms(200));
  EXPECT_GT(third->id.value, second.value);
  EXPECT_TRUE(after.kernel.cancel(first, ms(130))) << "the series index is rebuilt at restore";
  EXPECT_EQ(after.status(third->id), TaskStatus::Cancelled);
}

TEST(KernelRepeat, ARunOrphanedByACrashIsFollowedAtRestore) {
  Harness h;
  TaskSpec spec = repeating(ms(100), RepeatMode::FixedDelay);
  spec.durable = true;
  const TaskId first = h.spawn(spec, ms(0));
  const auto records = persists(h.drain());
  ASSERT_FALSE(records.empty());
  Snapshot crashed;  // the journal as it stood: the run was running
  crashed.next_id = first.value + 1;
  crashed.tasks = {records.back().record};
  ASSERT_EQ(crashed.tasks[0].status, TaskStatus::Running);

  Harness after;
  after.kernel.restore(crashed, ms(500));
  EXPECT_EQ(after.status(first), TaskStatus::Failed);
  const auto next = live_run(after, first);
  ASSERT_TRUE(next.has_value()) << "an orphaned run is a failed run: the series goes on";
  EXPECT_EQ(next->due, ms(600));
  EXPECT_EQ(next->run, 2u);
}

TEST(KernelRepeat, ACrashAfterTheSuccessorWasPersistedMakesNoSecondSuccessor) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.durable = true;
  const TaskId first = h.spawn(spec, ms(0));
  const TaskInfo running = persists(h.drain()).back().record;
  h.succeed(first, 1, ms(10));
  const auto records = persists(h.drain());
  ASSERT_EQ(records.size(), 2u);
  Snapshot torn;  // the successor's record reached the disk, the run's end did not
  torn.next_id = records[0].record.id.value + 1;
  torn.tasks = {running, records[0].record};

  Harness after;
  after.kernel.restore(torn, ms(50));
  EXPECT_EQ(after.status(first), TaskStatus::Failed) << "orphaned";
  std::size_t live = 0;
  for (const auto& info : after.kernel.list("alice")) live += info.series == first && !is_terminal(info.status);
  EXPECT_EQ(live, 1u);
  EXPECT_EQ(live_run(after, first)->id, records[0].record.id);
}

TEST(KernelRepeat, ARunSupersededByItsPersistedSuccessorIsNotRequeuedAtRestore) {
  // The same torn write, with a retry policy that re-queues running work after a restart: the old
  // run must not come back beside its successor (two live runs of one series).
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.durable = true;
  spec.retry.max_attempts = 3;
  spec.retry.requeue_on_restart = true;
  const TaskId first = h.spawn(spec, ms(0));
  const TaskInfo running = persists(h.drain()).back().record;
  h.succeed(first, 1, ms(10));
  const auto records = persists(h.drain());
  ASSERT_EQ(records.size(), 2u);
  Snapshot torn;
  torn.next_id = records[0].record.id.value + 1;
  torn.tasks = {running, records[0].record};

  Harness after;
  after.kernel.restore(torn, ms(50));
  EXPECT_TRUE(is_terminal(after.status(first))) << "superseded, not re-queued";
  std::size_t live = 0;
  for (const auto& info : after.kernel.list("alice")) live += info.series == first && !is_terminal(info.status);
  EXPECT_EQ(live, 1u);
  EXPECT_TRUE(after.kernel.cancel(first, ms(60))) << "cancel(series id) reaches the one live run";
}

TEST(KernelRepeat, TheEndedRunsNotifyNamesTheNextRunEvenWhenTheRunIsForgotten) {
  // Drivers announce the next run from the Notify: with nothing retained, the ended run is gone
  // from the kernel by the time its Notify is read.
  Config config;
  config.retained_terminal = 0;
  Harness h(config);
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  const auto n = notifies(h.drain());
  ASSERT_EQ(n.size(), 1u);
  EXPECT_FALSE(h.kernel.get(first).has_value()) << "forgotten at once";
  ASSERT_TRUE(n[0].next_run.has_value());
  EXPECT_EQ(n[0].next_run, h.kernel.current_run(first));
}

TEST(KernelRepeat, AFlushWaitsForTheRunsThatExistWhenItStarts) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  h.drain();
  const FlushId flush = h.kernel.flush(flush_selector::All{}, ms(1));
  EXPECT_TRUE(testkit::flush_dones(h.drain()).empty());
  h.succeed(first, 1, ms(10));
  const auto dones = testkit::flush_dones(h.drain());
  ASSERT_EQ(dones.size(), 1u) << "the next run is not waited for";
  EXPECT_EQ(dones[0].flush, flush);
  EXPECT_TRUE(live_run(h, first).has_value());
}

TEST(KernelRepeat, ADependencyOnARunWaitsForThatRunOnly) {
  Harness h;
  const TaskId first = h.spawn(repeating(ms(100)), ms(0));
  TaskSpec waiter = task("report");
  waiter.after = {first};
  const TaskId report = h.spawn(waiter, ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{report});
}

TEST(KernelRepeat, KeepExistingDedupFoldsASpawnIntoTheSeriesCurrentRun) {
  Harness h;
  TaskSpec spec = repeating(ms(100));
  spec.dedup = DedupSpec{"hourly-digest"};
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  h.succeed(first, 1, ms(10));
  const TaskId second = live_run(h, first)->id;
  const auto again = h.kernel.admit(spec, ms(20));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again.value().deduplicated);
  EXPECT_EQ(again.value().id, second) << "\"ensure the schedule exists\" is idempotent";
}

TEST(KernelRepeat, BadRepeatIsRefusedWithWhatToFix) {
  Harness h;
  const auto refused = [&](TaskSpec spec) { return h.refuse(std::move(spec), ms(0)); };
  EXPECT_EQ(refused(repeating(Duration{0})).code, SpawnErrorCode::InvalidRepeat);
  EXPECT_EQ(refused(repeating(ms(-5))).message, "repeat.every must be positive (got -5000 us)");
  EXPECT_EQ(refused(repeating(std::chrono::hours(24 * 365 * 11))).message, "repeat.every must be at most ten years");
  EXPECT_EQ(refused(repeating(ms(10), RepeatMode::FixedRate, 0u)).message,
            "repeat.times must be at least 1 (leave it out to repeat until cancelled)");
  TaskSpec debounced = repeating(ms(10));
  debounced.dedup = DedupSpec{"k", DedupMode::ReplacePending};
  const SpawnError e = refused(debounced);
  EXPECT_EQ(e.code, SpawnErrorCode::InvalidRepeat);
  EXPECT_NE(e.message.find("replace_pending"), std::string::npos);
  EXPECT_EQ(std::string(to_string(SpawnErrorCode::InvalidRepeat)), "invalid_repeat");
}

TEST(KernelRepeat, ARunInASequenceLaneQueuesBehindWorkSpawnedBeforeIt) {
  Harness h;
  TaskSpec spec = repeating(ms(1));
  spec.key = testkit::key("s", "p");
  const TaskId first = h.spawn(spec, ms(0));
  TaskSpec other = task("other");
  other.key = spec.key;
  const TaskId queued = h.spawn(other, ms(0));
  h.drain();
  h.succeed(first, 1, ms(1));
  const TaskId second = live_run(h, first)->id;
  EXPECT_GT(second.value, queued.value);
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{queued}) << "the lane keeps spawn (id) order";
  h.succeed(queued, 1, ms(2));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
}

}  // namespace
}  // namespace tasklane
