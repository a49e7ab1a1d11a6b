// Seed 002 (pi compaction_worker.rs): background compaction with quotas. The worker's tests, ported:
// "can start" is a spawn the kernel accepts and starts; the pending compaction is a single-flight
// task; the cooldown, the per-session attempt limit and the timeout are the quota key's and the
// task's; dropping the worker is cancelling everything its owner has.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::cancels;
using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::started_ids;
using testkit::starts;
using testkit::task;

// CompactionQuota::default(): cooldown 60 s, timeout 120 s, 100 attempts per session.
struct CompactionQuota {
  Duration cooldown = seconds(60);
  Duration timeout = seconds(120);
  std::uint32_t max_attempts_per_session = 100;
};

TaskSpec compaction(const CompactionQuota& q, std::string session = "session-1") {
  TaskSpec spec = task("compaction", session);
  spec.quota = QuotaSpec{session + "/compaction", q.cooldown, q.max_attempts_per_session, true};
  spec.timeout = q.timeout;
  spec.payload = Json{{"preparation", "entries 1..40"}};
  return spec;
}

TEST(Seed002CompactionQuota, FreshWorkerCanStart) {
  Harness h;
  const TaskId id = h.spawn(compaction({}), seconds(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{id});
}

TEST(Seed002CompactionQuota, CannotStartWhilePending) {
  Harness h;
  h.spawn(compaction({}), seconds(0));
  const SpawnError e = h.refuse(compaction({}), seconds(1));
  EXPECT_EQ(e.code, SpawnErrorCode::SingleFlightBusy);
}

TEST(Seed002CompactionQuota, CannotStartDuringCooldown) {
  Harness h;
  CompactionQuota q;
  q.cooldown = seconds(3600);
  const TaskId first = h.spawn(compaction(q), seconds(0));
  h.succeed(first, 1, seconds(1));
  const TaskId second = h.spawn(compaction(q), seconds(2));
  EXPECT_EQ(starts(h.drain()).size(), 1u) << "only the first started";
  EXPECT_EQ(h.status(second), TaskStatus::Pending);
  EXPECT_EQ(h.kernel.next_deadline(), seconds(3600));
}

TEST(Seed002CompactionQuota, CanStartAfterCooldown) {
  Harness h;
  CompactionQuota q;
  q.cooldown = ms(0);
  const TaskId first = h.spawn(compaction(q), seconds(0));
  h.succeed(first, 1, seconds(1));
  h.drain();
  const TaskId second = h.spawn(compaction(q), seconds(1));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
}

TEST(Seed002CompactionQuota, MaxAttemptsBlocksStart) {
  Harness h;
  CompactionQuota q;
  q.max_attempts_per_session = 2;
  q.cooldown = ms(0);
  for (int i = 0; i < 2; ++i) {
    const TaskId id = h.spawn(compaction(q), seconds(i));
    h.succeed(id, 1, seconds(i));
  }
  const SpawnError e = h.refuse(compaction(q), seconds(3));
  EXPECT_EQ(e.code, SpawnErrorCode::QuotaExhausted);
  EXPECT_EQ(e.message, "attempt quota for 'session-1/compaction' is used up (limit 2)");
  h.spawn(compaction(q, "session-2"), seconds(3));  // the limit is per session
}

TEST(Seed002CompactionQuota, TryRecvNoneWhenNoPending) {
  Harness h;
  h.tick(seconds(500));
  EXPECT_TRUE(h.drain().empty());
  EXPECT_FALSE(h.kernel.has_running("session-1"));
}

TEST(Seed002CompactionQuota, TryRecvNoneWhenNotReady) {
  Harness h;
  const TaskId id = h.spawn(compaction({}), seconds(0));
  h.drain();
  h.tick(seconds(60));  // nothing completed yet, and the timeout is far
  EXPECT_TRUE(notifies(h.drain()).empty());
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  EXPECT_TRUE(h.kernel.has_running("session-1"));
}

TEST(Seed002CompactionQuota, DroppingWorkerAbortsPendingTask) {
  Harness h;
  const TaskId id = h.spawn(compaction({}), seconds(0));
  h.drain();
  EXPECT_EQ(h.kernel.abort(abort_selector::Owner{"session-1"}, seconds(1)), 1u);
  EXPECT_EQ(cancels(h.drain()), (std::vector<command::Cancel>{{id, 1, CancelReason::Requested}}))
      << "dropping the worker should abort the pending task";
  h.fail(id, 1, seconds(1), "Background compaction aborted");
  EXPECT_EQ(notifies(h.drain()).at(0).status, TaskStatus::Cancelled);
}

TEST(Seed002CompactionQuota, TryRecvTimeout) {
  Harness h;
  CompactionQuota q;
  q.timeout = ms(1);  // the seed uses 0; the kernel wants a positive timeout
  const TaskId id = h.spawn(compaction(q), seconds(0));
  h.drain();
  h.tick(seconds(1));
  const auto out = h.drain();
  EXPECT_EQ(cancels(out), (std::vector<command::Cancel>{{id, 1, CancelReason::TimedOut}}))
      << "timing out the worker should abort the pending task";
  ASSERT_EQ(notifies(out).size(), 1u);
  ASSERT_TRUE(notifies(out)[0].error.has_value());
  EXPECT_NE(notifies(out)[0].error->find("timed out"), std::string::npos) << *notifies(out)[0].error;
  EXPECT_FALSE(h.kernel.has_running("session-1"));
}

TEST(Seed002CompactionQuota, TryRecvSuccess) {
  Harness h;
  const TaskId id = h.spawn(compaction({}), seconds(0));
  h.drain();
  h.succeed(id, 1, ms(50), Json{{"summary", "test summary"}, {"first_kept_entry_id", "entry-1"}, {"tokens_before", 1000}});
  const auto out = notifies(h.drain());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, TaskStatus::Completed);
  EXPECT_EQ(out[0].result.at("summary"), "test summary");
  EXPECT_FALSE(h.kernel.has_running("session-1")) << "w.pending.is_none()";
}

TEST(Seed002CompactionQuota, APanicReportedAsAnErrorFailsTheTask) {
  Harness h;
  const TaskId id = h.spawn(compaction({}), seconds(0));
  h.fail(id, 1, seconds(1), "Background compaction worker panicked", /*retryable=*/false, "panic");
  EXPECT_EQ(h.status(id), TaskStatus::Failed);
  EXPECT_EQ(h.kernel.get(id)->error, "Background compaction worker panicked");
}

}  // namespace
}  // namespace tasklane
