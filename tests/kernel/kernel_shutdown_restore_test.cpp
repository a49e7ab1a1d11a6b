// Shutdown (drain, cancel) and snapshot/restore: what survives a restart and what a restart does
// to work that was running.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::cancels;
using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::persisted_snapshots;
using testkit::persists;
using testkit::started_ids;
using testkit::starts;
using testkit::stops;
using testkit::task;

TaskSpec durable(std::string kind = "work") {
  TaskSpec spec = task(std::move(kind));
  spec.durable = true;
  return spec;
}

// ---- shutdown ---------------------------------------------------------------------------------

TEST(KernelShutdown, WithNothingRunningItStopsAtOnceSnapshotThenStopped) {
  Harness h;
  h.kernel.shutdown(ShutdownMode::Drain, ms(0));
  const auto out = h.drain();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<command::PersistSnapshot>(out[0]));
  EXPECT_TRUE(std::holds_alternative<command::Stopped>(out[1]));
  EXPECT_TRUE(h.kernel.stopping());
  EXPECT_TRUE(h.kernel.stopped());
}

TEST(KernelShutdown, DrainWaitsForRunningWorkAndStartsNothingNew) {
  Config config;
  config.max_running = 1;
  Harness h(config);
  const TaskId running = h.spawn(durable(), ms(0));
  const TaskId pending = h.spawn(durable(), ms(0));
  h.drain();
  h.kernel.shutdown(ShutdownMode::Drain, ms(1));
  auto out = h.drain();
  EXPECT_TRUE(out.empty()) << "nothing is cancelled and nothing stops yet";
  EXPECT_FALSE(h.kernel.stopped());

  EXPECT_EQ(h.refuse(task(), ms(2)).code, SpawnErrorCode::ShuttingDown);
  h.succeed(running, 1, ms(3));
  out = h.drain();
  EXPECT_TRUE(starts(out).empty()) << "the pending task stays pending";
  ASSERT_GE(out.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<command::PersistSnapshot>(out[out.size() - 2]));
  EXPECT_TRUE(std::holds_alternative<command::Stopped>(out.back()));
  const Snapshot snap = persisted_snapshots(out).at(0).snapshot;
  ASSERT_EQ(snap.tasks.size(), 2u);
  EXPECT_EQ(snap.tasks[0].status, TaskStatus::Completed);
  EXPECT_EQ(snap.tasks[1].id, pending);
  EXPECT_EQ(snap.tasks[1].status, TaskStatus::Pending);
  EXPECT_EQ(snap, h.kernel.snapshot());
  EXPECT_EQ(h.status(pending), TaskStatus::Pending);
}

TEST(KernelShutdown, CancelStopsRunningWorkThenStops) {
  Harness h;
  const TaskId a = h.spawn(task(), ms(0));
  const TaskId b = h.spawn(task(), ms(0));
  h.drain();
  h.kernel.shutdown(ShutdownMode::Cancel, ms(1));
  auto out = h.drain();
  EXPECT_EQ(cancels(out), (std::vector<command::Cancel>{{a, 1, CancelReason::Shutdown}, {b, 1, CancelReason::Shutdown}}));
  EXPECT_EQ(stops(out), 0u);
  h.succeed(a, 1, ms(2));
  EXPECT_EQ(stops(h.drain()), 0u);
  h.fail(b, 1, ms(3), "interrupted");
  out = h.drain();
  EXPECT_EQ(notifies(out), (std::vector<command::Notify>{{"alice", b, TaskStatus::Cancelled, nullptr, std::nullopt, std::nullopt}}));
  EXPECT_TRUE(std::holds_alternative<command::PersistSnapshot>(out[out.size() - 2]));
  EXPECT_TRUE(std::holds_alternative<command::Stopped>(out.back()));
  EXPECT_EQ(h.status(a), TaskStatus::Cancelled);
}

TEST(KernelShutdown, StopsExactlyOnceAndIgnoresLaterTimers) {
  Harness h;
  TaskSpec delayed = durable();
  delayed.run_after = ms(50);
  const TaskId id = h.spawn(delayed, ms(0));
  h.kernel.shutdown(ShutdownMode::Drain, ms(1));
  h.kernel.shutdown(ShutdownMode::Cancel, ms(2));
  h.tick(ms(100));
  h.drain();
  EXPECT_EQ(stops(h.log), 1u);
  EXPECT_EQ(persisted_snapshots(h.log).size(), 1u);
  EXPECT_TRUE(starts(h.log).empty());
  EXPECT_EQ(h.status(id), TaskStatus::Pending);
}

TEST(KernelShutdown, ARetryDuringDrainStaysPendingAndPersisted) {
  Harness h;
  TaskSpec spec = durable();
  spec.retry.max_attempts = 3;
  spec.retry.initial_backoff = Duration{0};
  const TaskId id = h.spawn(spec, ms(0));
  h.kernel.shutdown(ShutdownMode::Drain, ms(1));
  h.fail(id, 1, ms(2), "flaky");
  h.drain();
  EXPECT_EQ(starts(h.log).size(), 1u);
  EXPECT_EQ(stops(h.log), 1u);
  const Snapshot snap = persisted_snapshots(h.log).at(0).snapshot;
  ASSERT_EQ(snap.tasks.size(), 1u);
  EXPECT_EQ(snap.tasks[0].status, TaskStatus::Pending);
  EXPECT_EQ(snap.tasks[0].attempt, 1u);
  EXPECT_EQ(snap.tasks[0].error, "flaky");
}

// ---- snapshot and restore ---------------------------------------------------------------------

Snapshot one_record(TaskInfo record, std::uint64_t next_id = 0) {
  Snapshot s;
  s.next_id = next_id;
  s.tasks.push_back(std::move(record));
  return s;
}

TaskInfo record(std::uint64_t id, TaskStatus status, std::uint32_t attempt) {
  TaskInfo r;
  r.id = TaskId{id};
  r.spec = durable();
  r.status = status;
  r.attempt = attempt;
  return r;
}

TEST(KernelRestore, ARunningTaskComesBackOrphaned) {
  Harness h;
  h.kernel.restore(one_record(record(3, TaskStatus::Running, 1), 4), ms(100));
  const auto out = h.drain();
  EXPECT_TRUE(starts(out).empty());
  const std::optional<TaskInfo> info = h.kernel.get(TaskId{3});
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, TaskStatus::Failed);
  EXPECT_EQ(info->error, "task orphaned: runtime restarted while running");
  EXPECT_EQ(info->finished_at, ms(100));
  EXPECT_EQ(notifies(out), (std::vector<command::Notify>{{"alice", TaskId{3}, TaskStatus::Failed, nullptr,
                                                          std::string("task orphaned: runtime restarted while running"),
                                                          std::nullopt}}));
  ASSERT_EQ(persists(out).size(), 1u);
  EXPECT_EQ(persists(out)[0].record, *info);
  EXPECT_EQ(h.kernel.stats().orphaned, 1u);
  EXPECT_EQ(h.kernel.unfinished(), 0u);
}

TEST(KernelRestore, RequeueOnRestartRunsItAgainWhileAttemptsRemain) {
  Harness h;
  TaskInfo again = record(0, TaskStatus::Running, 1);
  again.spec.retry.requeue_on_restart = true;
  again.spec.retry.max_attempts = 2;
  TaskInfo used_up = record(1, TaskStatus::Running, 2);
  used_up.spec.retry.requeue_on_restart = true;
  used_up.spec.retry.max_attempts = 2;
  Snapshot s;
  s.next_id = 2;
  s.tasks = {again, used_up};
  h.kernel.restore(s, ms(10));
  const auto out = h.drain();
  ASSERT_EQ(starts(out).size(), 1u);
  EXPECT_EQ(starts(out)[0].id, TaskId{0});
  EXPECT_EQ(starts(out)[0].attempt, 2u);
  EXPECT_EQ(h.status(TaskId{1}), TaskStatus::Failed);
  EXPECT_EQ(h.kernel.get(TaskId{1})->error, "task orphaned: runtime restarted while running");
}

// Restore may bring back more finished tasks than Config::retained_terminal keeps. Orphaning a
// running one then forgets older restored tasks while restore still walks them; no input throws.
TEST(KernelRestore, MoreFinishedTasksThanRetainedDoNotBreakRestore) {
  Config config;
  config.retained_terminal = 1;
  Harness h(config);
  Snapshot s;
  s.next_id = 3;
  s.tasks = {record(0, TaskStatus::Running, 1), record(1, TaskStatus::Completed, 1),
             record(2, TaskStatus::Completed, 1)};
  EXPECT_NO_THROW(h.kernel.restore(s, ms(5)));
  const auto out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].id, TaskId{0});
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Failed);
  EXPECT_EQ(h.spawn(task(), ms(6)), TaskId{3});
}

TEST(KernelRestore, ARunningTaskThatWasBeingCancelledComesBackCancelled) {
  Harness h;
  TaskInfo r = record(0, TaskStatus::Running, 1);
  r.cancel_requested = true;
  h.kernel.restore(one_record(r, 1), ms(0));
  EXPECT_EQ(h.status(TaskId{0}), TaskStatus::Cancelled);
  EXPECT_EQ(notifies(h.drain()).size(), 1u);
}

TEST(KernelRestore, PendingTasksKeepTheirDueTimeAndPriority) {
  Config config;
  config.max_running = 1;
  Harness h(config);
  TaskInfo low = record(0, TaskStatus::Pending, 0);
  low.spec.priority = Priority::Low;
  low.due = ms(500);
  TaskInfo high = record(1, TaskStatus::Pending, 0);
  high.spec.priority = Priority::High;
  high.due = ms(500);
  Snapshot s;
  s.next_id = 2;
  s.tasks = {low, high};
  h.kernel.restore(s, ms(100));
  EXPECT_TRUE(starts(h.drain()).empty());
  EXPECT_EQ(h.kernel.next_deadline(), ms(500));
  h.tick(ms(500));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{TaskId{1}});
  h.succeed(TaskId{1}, 1, ms(501));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{TaskId{0}});
}

TEST(KernelRestore, TheIdCounterMovesPastEveryRestoredId) {
  Harness h;
  h.kernel.restore(one_record(record(7, TaskStatus::Completed, 1), 0), ms(0));
  EXPECT_EQ(h.spawn(task(), ms(1)), TaskId{8});

  Harness h2;
  h2.kernel.restore(one_record(record(2, TaskStatus::Completed, 1), 12), ms(0));
  EXPECT_EQ(h2.spawn(task(), ms(1)), TaskId{12}) << "the snapshot's own counter counts too";
}

TEST(KernelRestore, IdsTheKernelAlreadyHasAreSkipped) {
  Harness h;
  const TaskId live = h.spawn(durable("mine"), ms(0));
  TaskInfo clash = record(live.value, TaskStatus::Running, 1);
  clash.spec.kind = "theirs";
  h.kernel.restore(one_record(clash, 1), ms(1));
  EXPECT_EQ(h.kernel.get(live)->spec.kind, "mine");
  EXPECT_EQ(h.status(live), TaskStatus::Running);
  EXPECT_EQ(h.kernel.stats().orphaned, 0u);
}

TEST(KernelRestore, RestoredLiveNamesAndQuotasStillCount) {
  Harness h;
  TaskInfo named = record(0, TaskStatus::Pending, 0);
  named.spec.name = "researcher";
  named.due = seconds(60);
  Snapshot s = one_record(named, 1);
  s.quotas.push_back(QuotaUsage{"k", 2, ms(0)});
  h.kernel.restore(s, ms(1));
  TaskSpec same = task();
  same.name = "researcher";
  EXPECT_EQ(h.refuse(same, ms(2)).code, SpawnErrorCode::DuplicateName);
  TaskSpec quota = task();
  quota.quota = QuotaSpec{"k", Duration{0}, 2, false};
  EXPECT_EQ(h.refuse(quota, ms(2)).code, SpawnErrorCode::QuotaExhausted);
}

TEST(KernelRestore, SnapshotRestoreSnapshotIsTheIdentityWithoutRunningTasks) {
  Config config;
  config.seed = 99;
  Harness a(config);
  TaskSpec delayed = durable();
  delayed.run_after = seconds(30);
  delayed.priority = Priority::High;
  delayed.key = testkit::key("actor", "facts");
  delayed.payload = Json{{"turn", 3}};
  TaskSpec retried = durable();
  retried.retry.max_attempts = 3;
  retried.retry.jitter = 0.5;
  retried.quota = QuotaSpec{"s/compaction", seconds(10), 5, false};
  TaskSpec named = durable("sub_agent");
  named.name = "helper";
  named.inbox = true;
  named.parent = ParentContext{TaskId{0}, std::string("run-1"), std::string("call-1"), std::string("planner")};

  a.spawn(delayed, ms(0));
  const TaskId r = a.spawn(retried, ms(0));
  const TaskId n = a.spawn(named, ms(0));
  a.spawn(task("not-durable"), ms(0));
  a.fail(r, 1, ms(5), "flaky");  // pending again, behind a jittered backoff and a cooldown
  a.succeed(n, 1, ms(6), Json{{"answer", 42}});
  a.drain();
  ASSERT_EQ(a.kernel.running(), 1u) << "only the non-durable task runs";

  const Snapshot first = a.kernel.snapshot();
  ASSERT_EQ(first.tasks.size(), 3u);
  EXPECT_EQ(first.next_id, 4u);

  Harness b(Config{});
  b.kernel.restore(first, ms(6));
  EXPECT_TRUE(starts(b.drain()).empty());
  EXPECT_EQ(b.kernel.snapshot(), first);
}

TEST(KernelRestore, RestoredJitterContinuesTheSnapshotsGenerator) {
  Config config;
  config.seed = 5;
  TaskSpec spec = durable();
  spec.retry.max_attempts = 3;
  spec.retry.initial_backoff = seconds(1);
  spec.retry.jitter = 1.0;

  Harness original(config);
  const TaskId id = original.spawn(spec, ms(0));
  original.fail(id, 1, ms(1), "x");  // one draw
  const Snapshot s = original.kernel.snapshot();
  original.tick(original.kernel.get(id)->due);
  original.fail(id, 2, ms(5000), "y");  // the second draw
  const Time due_original = original.kernel.get(id)->due;

  Harness restored(Config{});  // another seed: the snapshot's generator state must win
  restored.kernel.restore(s, ms(1));
  restored.tick(s.tasks[0].due);
  restored.fail(id, 2, ms(5000), "y");
  EXPECT_EQ(restored.kernel.get(id)->due, due_original);
}

}  // namespace
}  // namespace tasklane
