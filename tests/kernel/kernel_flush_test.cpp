// Flushes through the kernel (seed 000): all / scope / purpose / scope+purpose, unmatched tasks
// kept, the first error, errors of tasks that failed before the flush, and empty flushes.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::flush_dones;
using testkit::Harness;
using testkit::ms;
using testkit::persists;
using testkit::task;

TaskSpec keyed(std::string scope, std::string purpose) {
  TaskSpec spec = task("maintenance");
  spec.key = testkit::key(std::move(scope), std::move(purpose));
  return spec;
}

TEST(KernelFlush, CompletesAtOnceWhenNothingIsLive) {
  Harness h;
  const FlushId id = h.kernel.flush(flush_selector::All{}, ms(0));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{id, std::nullopt}}));
}

TEST(KernelFlush, AllWaitsForEveryTaskIncludingKeylessOnes) {
  Harness h;
  const TaskId a = h.spawn(task(), ms(0));
  const TaskId b = h.spawn(keyed("actor", "facts"), ms(0));
  const FlushId id = h.kernel.flush(flush_selector::All{}, ms(1));
  h.succeed(a, 1, ms(2));
  EXPECT_TRUE(flush_dones(h.drain()).empty());
  h.succeed(b, 1, ms(3));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{id, std::nullopt}}));
}

TEST(KernelFlush, ScopePurposeAndBothSelectOnlyMatchingTasks) {
  Config config;
  config.max_running = 8;
  Harness h(config);
  const TaskId actor_facts = h.spawn(keyed("actor", "facts"), ms(0));
  const TaskId actor_rel = h.spawn(keyed("actor", "relationship"), ms(0));
  const TaskId other_facts = h.spawn(keyed("other", "facts"), ms(0));
  const TaskId keyless = h.spawn(task(), ms(0));

  const FlushId by_scope = h.kernel.flush(flush_selector::Scope{"actor"}, ms(1));
  h.succeed(actor_facts, 1, ms(2));
  h.succeed(other_facts, 1, ms(2));
  h.succeed(keyless, 1, ms(2));
  EXPECT_TRUE(flush_dones(h.drain()).empty()) << "actor/relationship is still running";
  h.succeed(actor_rel, 1, ms(3));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{by_scope, std::nullopt}}));

  const TaskId f1 = h.spawn(keyed("actor", "facts"), ms(4));
  const TaskId f2 = h.spawn(keyed("other", "facts"), ms(4));
  const TaskId r1 = h.spawn(keyed("other", "relationship"), ms(4));
  const FlushId by_purpose = h.kernel.flush(flush_selector::Purpose{"facts"}, ms(5));
  h.succeed(f1, 1, ms(6));
  h.succeed(f2, 1, ms(6));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{by_purpose, std::nullopt}}))
      << "other/relationship is not waited for";

  const FlushId by_both = h.kernel.flush(flush_selector::ScopePurpose{"other", "relationship"}, ms(7));
  EXPECT_TRUE(flush_dones(h.drain()).empty());
  h.succeed(r1, 1, ms(8));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{by_both, std::nullopt}}));
}

TEST(KernelFlush, KeylessTasksOnlyMatchAll) {
  Harness h;
  const TaskId keyless = h.spawn(task(), ms(0));
  const FlushId scope = h.kernel.flush(flush_selector::Scope{""}, ms(1));
  const FlushId purpose = h.kernel.flush(flush_selector::Purpose{""}, ms(1));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{scope, std::nullopt}, {purpose, std::nullopt}}));
  const FlushId all = h.kernel.flush(flush_selector::All{}, ms(2));
  EXPECT_TRUE(flush_dones(h.drain()).empty());
  h.succeed(keyless, 1, ms(3));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{all, std::nullopt}}));
}

TEST(KernelFlush, ReportsTheFirstSpawnedTasksErrorWhateverTheFinishOrder) {
  Harness h;
  const TaskId a = h.spawn(task(), ms(0));
  const TaskId b = h.spawn(task(), ms(0));
  const TaskId c = h.spawn(task(), ms(0));
  const FlushId id = h.kernel.flush(flush_selector::All{}, ms(1));
  h.fail(c, 1, ms(2), "third failed");
  h.fail(b, 1, ms(3), "second failed");
  h.succeed(a, 1, ms(4));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{id, std::string("second failed")}}));
}

TEST(KernelFlush, CancelledIsNotAnErrorButTimedOutIs) {
  Harness h;
  TaskSpec timed = task();
  timed.timeout = ms(10);
  const TaskId cancelled = h.spawn(task(), ms(0));
  const TaskId timed_out = h.spawn(timed, ms(0));
  const FlushId id = h.kernel.flush(flush_selector::All{}, ms(1));
  EXPECT_TRUE(h.kernel.cancel(cancelled, ms(2)));
  h.succeed(cancelled, 1, ms(3));
  h.tick(ms(10));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{id, std::string("timed out after 10 ms")}}));
  EXPECT_EQ(h.status(timed_out), TaskStatus::TimedOut);
}

TEST(KernelFlush, AnAlreadyFailedTaskSurfacesAtTheNextMatchingFlushOnce) {
  Harness h;
  const TaskId failed = h.spawn(keyed("actor", "facts"), ms(0));
  h.fail(failed, 1, ms(1), "background failed");
  const FlushId unrelated = h.kernel.flush(flush_selector::Scope{"other"}, ms(2));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{unrelated, std::nullopt}}));
  const FlushId matching = h.kernel.flush(flush_selector::Purpose{"facts"}, ms(3));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{matching, std::string("background failed")}}));
  const FlushId again = h.kernel.flush(flush_selector::All{}, ms(4));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{again, std::nullopt}}));
}

TEST(KernelFlush, AnEarlierFailureBeatsALiveTasksLaterFailure) {
  Harness h;
  const TaskId early = h.spawn(task(), ms(0));
  const TaskId late = h.spawn(task(), ms(0));
  h.fail(early, 1, ms(1), "early");
  const FlushId id = h.kernel.flush(flush_selector::All{}, ms(2));
  EXPECT_TRUE(flush_dones(h.drain()).empty());
  h.fail(late, 1, ms(3), "late");
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{id, std::string("early")}}));
}

TEST(KernelFlush, ATaskIsWaitedForByOneFlushOnly) {
  Harness h;
  const TaskId a = h.spawn(keyed("actor", "facts"), ms(0));
  const FlushId first = h.kernel.flush(flush_selector::Scope{"actor"}, ms(1));
  const FlushId second = h.kernel.flush(flush_selector::All{}, ms(1));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{second, std::nullopt}}));
  h.fail(a, 1, ms(2), "boom");
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{first, std::string("boom")}}));
}

TEST(KernelFlush, AFlushWaitsThroughRetries) {
  Harness h;
  TaskSpec spec = task();
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(5);
  const TaskId id = h.spawn(spec, ms(0));
  const FlushId flush = h.kernel.flush(flush_selector::All{}, ms(1));
  h.fail(id, 1, ms(2), "flaky");
  EXPECT_TRUE(flush_dones(h.drain()).empty()) << "a retry is still live";
  h.tick(ms(7));
  h.succeed(id, 2, ms(8));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{flush, std::nullopt}}));
}

// Seed 000: "a task that already failed still surfaces its error at the next flush", across a
// restart too: the error no flush took yet is marked in the task's durable record
// (TaskInfo::error_unflushed), and the flush that takes it clears the mark with a new record.
TEST(KernelFlush, AnErrorNoFlushTookSurfacesAtTheFirstFlushAfterARestart) {
  Harness h;
  TaskSpec spec = keyed("actor", "facts");
  spec.durable = true;
  const TaskId failed = h.spawn(spec, ms(0));
  h.fail(failed, 1, ms(1), "background failed");
  const auto records = persists(h.drain());
  ASSERT_FALSE(records.empty());
  EXPECT_TRUE(records.back().record.error_unflushed);

  Harness restarted;
  restarted.kernel.restore(h.kernel.snapshot(), ms(10));
  restarted.drain();
  const FlushId unrelated = restarted.kernel.flush(flush_selector::Scope{"other"}, ms(11));
  EXPECT_EQ(flush_dones(restarted.drain()), (std::vector<command::FlushDone>{{unrelated, std::nullopt}}));
  const FlushId matching = restarted.kernel.flush(flush_selector::Purpose{"facts"}, ms(12));
  const auto out = restarted.drain();
  EXPECT_EQ(flush_dones(out), (std::vector<command::FlushDone>{{matching, std::string("background failed")}}));
  const auto cleared = persists(out);
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].record.id, failed);
  EXPECT_FALSE(cleared[0].record.error_unflushed);

  Harness again;
  again.kernel.restore(restarted.kernel.snapshot(), ms(20));
  again.drain();
  const FlushId next = again.kernel.flush(flush_selector::All{}, ms(21));
  EXPECT_EQ(flush_dones(again.drain()), (std::vector<command::FlushDone>{{next, std::nullopt}})) << "surfaced once";
}

TEST(KernelFlush, AnErrorAFlushWaitedForIsNotMarkedForTheNextFlush) {
  Harness h;
  TaskSpec spec = task();
  spec.durable = true;
  const TaskId id = h.spawn(spec, ms(0));
  const FlushId flush = h.kernel.flush(flush_selector::All{}, ms(1));
  h.fail(id, 1, ms(2), "boom");
  const auto out = h.drain();
  EXPECT_EQ(flush_dones(out), (std::vector<command::FlushDone>{{flush, std::string("boom")}}));
  ASSERT_FALSE(persists(out).empty());
  EXPECT_FALSE(persists(out).back().record.error_unflushed);

  Harness restarted;
  restarted.kernel.restore(h.kernel.snapshot(), ms(10));
  restarted.drain();
  const FlushId next = restarted.kernel.flush(flush_selector::All{}, ms(11));
  EXPECT_EQ(flush_dones(restarted.drain()), (std::vector<command::FlushDone>{{next, std::nullopt}}));
}

// A flush of All takes the keyless tasks by id (every one below the kernel's next id at the flush):
// a live keyless task that a restore brings back later, with an older id, is still unflushed.
TEST(KernelFlush, AKeylessTaskRestoredAfterAFlushOfAllIsTakenByTheNextOne) {
  Harness h;
  TaskSpec later = task();
  later.durable = true;
  later.run_after = std::chrono::hours(1);
  const TaskId restored = h.spawn(later, ms(0));  // bg_0, waiting for its time
  h.drain();

  Config config;
  config.retained_terminal = 0;  // bg_0 and bg_1 are forgotten as they end
  Harness other(config);
  other.succeed(other.spawn(task(), ms(0)), 1, ms(1));
  other.succeed(other.spawn(task(), ms(1)), 1, ms(2));
  const FlushId before = other.kernel.flush(flush_selector::All{}, ms(3));
  EXPECT_EQ(flush_dones(other.drain()), (std::vector<command::FlushDone>{{before, std::nullopt}}));

  other.kernel.restore(h.kernel.snapshot(), ms(4));
  other.drain();
  ASSERT_TRUE(other.kernel.get(restored).has_value());
  const FlushId after = other.kernel.flush(flush_selector::All{}, ms(5));
  EXPECT_TRUE(flush_dones(other.drain()).empty()) << "waits for the restored task";
  EXPECT_TRUE(other.kernel.cancel(restored, ms(6)));
  EXPECT_EQ(flush_dones(other.drain()), (std::vector<command::FlushDone>{{after, std::nullopt}}));
}

TEST(KernelFlush, ASuccessIsNeverMarkedUnflushed) {
  Harness h;
  TaskSpec spec = task();
  spec.durable = true;
  const TaskId id = h.spawn(spec, ms(0));
  h.succeed(id, 1, ms(1));
  const auto records = persists(h.drain());
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().record.status, TaskStatus::Completed);
  EXPECT_FALSE(records.back().record.error_unflushed);
}

// A journal replays every record since its last compaction, forgotten tasks' too: a marked record
// of a task that retention forgot would bring the error back at every restart, with no record left
// for a flush to clear. So forgetting writes the record once more without the mark; the kernel
// still reports the error at its next flush.
TEST(KernelFlush, AForgottenTasksErrorStillSurfacesButItsLastRecordDropsTheMark) {
  Config config;
  config.retained_terminal = 0;
  Harness h(config);
  TaskSpec spec = task();
  spec.durable = true;
  const TaskId id = h.spawn(spec, ms(0));
  h.fail(id, 1, ms(1), "boom");
  const auto records = persists(h.drain());
  ASSERT_GE(records.size(), 2u);
  EXPECT_TRUE(records[records.size() - 2].record.error_unflushed) << "the record of its end";
  EXPECT_EQ(records.back().record.id, id);
  EXPECT_FALSE(records.back().record.error_unflushed) << "the record written as it is forgotten";
  EXPECT_FALSE(h.kernel.get(id).has_value());
  const FlushId flush = h.kernel.flush(flush_selector::All{}, ms(2));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{flush, std::string("boom")}}));
}

TEST(KernelFlush, AMarkOnARecordThatIsNotAFailureIsDroppedAtRestore) {
  TaskInfo record;
  record.id = TaskId{4};
  record.spec = task();
  record.spec.durable = true;
  record.status = TaskStatus::Cancelled;
  record.finished_at = ms(1);
  record.error = "dependency bg_3 was cancelled";
  record.error_unflushed = true;  // only a Failed or TimedOut record can carry it
  Snapshot snapshot;
  snapshot.next_id = 5;
  snapshot.tasks = {record};
  Harness h;
  h.kernel.restore(snapshot, ms(10));
  h.drain();
  const std::optional<TaskInfo> restored = h.kernel.get(TaskId{4});
  ASSERT_TRUE(restored.has_value());
  EXPECT_FALSE(restored->error_unflushed);
  const FlushId flush = h.kernel.flush(flush_selector::All{}, ms(11));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{flush, std::nullopt}}));
}

}  // namespace
}  // namespace tasklane
