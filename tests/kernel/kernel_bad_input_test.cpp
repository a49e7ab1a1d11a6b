// Bad input the kernel must survive: time that goes backwards, completions for unknown or stale
// attempts, answers for requests nobody asked. None throws; each is clamped or ignored and counted.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::started_ids;
using testkit::starts;
using testkit::task;

TEST(KernelBadInput, TimeGoingBackwardsIsTakenAsTheLastTimeSeen) {
  Harness h;
  TaskSpec spec = task();
  spec.run_after = ms(50);
  const TaskId delayed = h.spawn(spec, ms(100));
  EXPECT_EQ(h.kernel.last_time(), ms(100));

  const TaskId late = h.spawn(task(), ms(40));  // earlier than the last input
  EXPECT_EQ(h.kernel.get(late)->created_at, ms(100));
  EXPECT_EQ(h.kernel.last_time(), ms(100));

  h.tick(ms(10));
  EXPECT_EQ(h.kernel.last_time(), ms(100));
  EXPECT_EQ(h.status(delayed), TaskStatus::Pending) << "a tick in the past fires nothing new";

  h.succeed(late, 1, ms(0));
  EXPECT_EQ(h.kernel.get(late)->finished_at, ms(100));

  h.tick(ms(150));
  EXPECT_EQ(h.status(delayed), TaskStatus::Running);
  EXPECT_EQ(h.kernel.last_time(), ms(150));
}

TEST(KernelBadInput, TheFirstInputSetsTheClockWhateverItsValue) {
  Harness h;
  const TaskId id = h.spawn(task(), ms(-5));
  EXPECT_EQ(h.kernel.get(id)->created_at, ms(-5));
  EXPECT_EQ(h.kernel.last_time(), ms(-5));
}

TEST(KernelBadInput, BackwardsTimeCannotStretchATimeout) {
  Harness h;
  TaskSpec spec = task();
  spec.timeout = ms(10);
  const TaskId id = h.spawn(spec, ms(100));
  h.tick(ms(110));
  EXPECT_EQ(h.status(id), TaskStatus::TimedOut);
  h.succeed(id, 1, ms(105));  // stamped before the deadline, but it arrives after it
  EXPECT_EQ(h.status(id), TaskStatus::TimedOut);
  EXPECT_EQ(h.kernel.stats().ignored_completions, 1u);
}

TEST(KernelBadInput, CompletionsForUnknownStaleOrNotRunningAttemptsAreCounted) {
  Harness h;
  TaskSpec delayed = task();
  delayed.run_after = seconds(1);
  TaskSpec retried = task();
  retried.retry.max_attempts = 2;
  retried.retry.initial_backoff = Duration{0};
  const TaskId pending = h.spawn(delayed, ms(0));
  const TaskId running = h.spawn(retried, ms(0));
  const TaskId done = h.spawn(task(), ms(0));
  h.succeed(done, 1, ms(1));
  h.fail(running, 1, ms(1), "first");  // attempt 2 is running now
  h.drain();
  const KernelStats before = h.kernel.stats();

  h.succeed(TaskId{999}, 1, ms(2));  // unknown task
  h.succeed(pending, 1, ms(2));      // not running
  h.succeed(done, 1, ms(2));         // already terminal
  h.succeed(running, 1, ms(2));      // stale attempt
  h.succeed(running, 3, ms(2));      // an attempt from the future
  h.succeed(running, 0, ms(2));      // attempt numbers start at 1
  EXPECT_TRUE(h.drain().empty());
  KernelStats expected = before;
  expected.ignored_completions += 6;
  EXPECT_EQ(h.kernel.stats(), expected);
  EXPECT_EQ(h.status(pending), TaskStatus::Pending);
  EXPECT_EQ(h.status(running), TaskStatus::Running);
  EXPECT_EQ(h.kernel.get(running)->attempt, 2u);
}

TEST(KernelBadInput, AnAnswerForAnUnknownQueuedWorkRequestIsCounted) {
  Config config;
  config.queued_work_runner = true;
  Harness h(config);
  h.kernel.answer_queued_work(42, std::string("s"), ms(0));
  EXPECT_EQ(h.kernel.stats().ignored_completions, 1u);
  const auto out = testkit::queued_work(h.drain());
  ASSERT_EQ(out.size(), 1u) << "only the startup drive";
  EXPECT_EQ(out[0].reason, "startup");
}

TEST(KernelBadInput, RefusedSpawnsChangeNothingButTheRefusalCount) {
  Harness h;
  const TaskId id = h.spawn(task(), ms(0));
  h.drain();
  const Snapshot before = h.kernel.snapshot();
  TaskSpec bad = task();
  bad.kind.clear();
  h.refuse(bad, ms(1));
  bad = task();
  bad.parent.task = TaskId{5};
  h.refuse(bad, ms(1));
  EXPECT_EQ(h.kernel.snapshot(), before);
  EXPECT_EQ(h.kernel.unfinished(), 1u);
  EXPECT_EQ(h.kernel.stats().refused, 2u);
  EXPECT_EQ(h.kernel.stats().spawned, 1u);
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  EXPECT_EQ(h.spawn(task(), ms(2)), TaskId{1});
}

// A Priority is an enum a caller can cast any byte into; the kernel indexes its ready queues and
// load counters by it, so one outside low..critical is refused, not stored.
TEST(KernelBadInput, APriorityOutsideLowToCriticalIsRefusedWithWhatToFix) {
  Harness h;
  TaskSpec spec = task();
  spec.priority = static_cast<Priority>(priority_count);
  const SpawnError e = h.refuse(spec, ms(0));
  EXPECT_EQ(e.code, SpawnErrorCode::InvalidPriority);
  EXPECT_EQ(e.message, "priority must be low, normal, high or critical (got 4)");
  spec.priority = static_cast<Priority>(255);
  EXPECT_EQ(h.refuse(spec, ms(0)).message, "priority must be low, normal, high or critical (got 255)");
  EXPECT_EQ(std::string(to_string(SpawnErrorCode::InvalidPriority)), "invalid_priority");
  EXPECT_EQ(h.kernel.unfinished(), 0u);
  EXPECT_EQ(h.kernel.stats().refused, 2u);
  spec.priority = Priority::Critical;
  EXPECT_EQ(h.spawn(spec, ms(1)), TaskId{0}) << "the highest priority is still taken";
}

// The modes are enums a caller can cast any byte into as well. The kernel does not index by them,
// but a mode it does not know would quietly act as another one (dedup as replace_pending, repeat as
// fixed_rate, after_mode as all_succeeded): each is refused with what to fix instead.
TEST(KernelBadInput, AModeOutsideItsEnumIsRefusedWithWhatToFix) {
  Harness h;
  TaskSpec spec = task();
  spec.dedup = DedupSpec{"d", static_cast<DedupMode>(dedup_mode_count)};
  SpawnError e = h.refuse(spec, ms(0));
  EXPECT_EQ(e.code, SpawnErrorCode::InvalidDedup);
  EXPECT_EQ(e.message, "dedup.mode must be keep_existing or replace_pending (got 2)");

  spec = task();
  spec.repeat = Repeat{ms(5), static_cast<RepeatMode>(9), std::nullopt};
  e = h.refuse(spec, ms(0));
  EXPECT_EQ(e.code, SpawnErrorCode::InvalidRepeat);
  EXPECT_EQ(e.message, "repeat.mode must be fixed_rate or fixed_delay (got 9)");

  spec = task();
  spec.after_mode = static_cast<DependencyMode>(255);  // refused with no `after` as well: it is still wrong
  e = h.refuse(spec, ms(0));
  EXPECT_EQ(e.code, SpawnErrorCode::InvalidDependencyMode);
  EXPECT_EQ(e.message, "after_mode must be all_succeeded or all_finished (got 255)");
  EXPECT_EQ(std::string(to_string(SpawnErrorCode::InvalidDependencyMode)), "invalid_dependency_mode");

  EXPECT_EQ(h.kernel.unfinished(), 0u);
  EXPECT_EQ(h.kernel.stats().refused, 3u);
  spec = task();
  spec.dedup = DedupSpec{"d", DedupMode::ReplacePending};
  spec.after_mode = DependencyMode::AllFinished;
  EXPECT_EQ(h.spawn(spec, ms(1)), TaskId{0}) << "the last value of each enum is still taken";
}

// A dedup key held by a live task does not hide a bad mode: the spec's own faults come first.
TEST(KernelBadInput, ABadDedupModeIsRefusedEvenWhenItsKeyIsHeld) {
  Harness h;
  TaskSpec spec = task();
  spec.dedup = DedupSpec{"d", DedupMode::KeepExisting};
  const TaskId holder = h.spawn(spec, ms(0));
  spec.dedup->mode = static_cast<DedupMode>(2);
  EXPECT_EQ(h.refuse(spec, ms(1)).code, SpawnErrorCode::InvalidDedup);
  EXPECT_EQ(h.status(holder), TaskStatus::Running) << "the holder was neither replaced nor touched";
}

// A snapshot is decoded by the drivers, which check priorities, but a caller may build one by hand:
// a record with a priority or mode outside its enum comes back with the default, as other damaged
// fields do.
TEST(KernelBadInput, ARestoredRecordWithAPriorityOrModeOutsideItsEnumComesBackWithTheDefault) {
  Harness h;
  TaskInfo info;
  info.id = TaskId{0};
  info.spec = task();
  info.spec.priority = static_cast<Priority>(7);
  info.spec.after_mode = static_cast<DependencyMode>(5);
  info.spec.dedup = DedupSpec{"d", static_cast<DedupMode>(6)};
  info.spec.repeat = Repeat{ms(5), static_cast<RepeatMode>(8), 1u};
  info.status = TaskStatus::Pending;
  Snapshot snapshot;
  snapshot.next_id = 1;
  snapshot.tasks.push_back(info);
  h.kernel.restore(snapshot, ms(0));
  ASSERT_TRUE(h.kernel.get(TaskId{0}).has_value());
  const TaskSpec restored = h.kernel.get(TaskId{0})->spec;
  EXPECT_EQ(restored.priority, Priority::Normal);
  EXPECT_EQ(restored.after_mode, DependencyMode::AllSucceeded);
  EXPECT_EQ(restored.dedup->mode, DedupMode::KeepExisting);
  EXPECT_EQ(restored.repeat->mode, RepeatMode::FixedRate);
  EXPECT_EQ(h.kernel.load().unfinished[static_cast<std::size_t>(Priority::Normal)], 1u);
  h.drain();
  EXPECT_EQ(h.status(TaskId{0}), TaskStatus::Running);
}

TEST(KernelBadInput, AbortOfAnUnknownTaskAndFlushOfNothingAreHarmless) {
  Harness h;
  EXPECT_EQ(h.kernel.abort(abort_selector::Task{TaskId{3}}, ms(0)), 0u);
  EXPECT_EQ(h.kernel.abort(abort_selector::Run{"nope"}, ms(0)), 0u);
  EXPECT_EQ(h.kernel.abort(abort_selector::All{}, ms(0)), 0u);
  EXPECT_EQ(testkit::flush_dones(h.drain()).size(), 0u);
  EXPECT_EQ(h.spawn(task(), ms(1)), TaskId{0});
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{TaskId{0}});
  EXPECT_TRUE(starts(h.drain()).empty());
}

}  // namespace
}  // namespace tasklane
