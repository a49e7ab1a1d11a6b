// Seed 004 (behest BackgroundJobPool): a priority job pool. Its three tests, ported: priority
// ordering, schedule-and-execution with a completion broadcast, and persistence of pending jobs
// across a graceful shutdown and a new start. Plus its delay and retry behaviour.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::persisted_snapshots;
using testkit::started_ids;
using testkit::starts;
using testkit::stops;
using testkit::task;

TaskSpec job(Priority priority, std::string message) {
  TaskSpec spec = task("test_job", "pool");
  spec.priority = priority;
  spec.payload = Json{{"type", "TestJob"}, {"payload", {{"message", std::move(message)}}}};
  spec.retry.max_attempts = 4;  // max_retries 3
  spec.durable = true;
  return spec;
}

TEST(Seed004JobPool, JobPriorityOrdering) {
  Config config;
  config.max_running = 1;
  Harness h(config);
  TaskSpec gate = task("gate", "pool");
  const TaskId blocker = h.spawn(gate, seconds(0));
  // Created one second apart, in the seed's order.
  h.spawn(job(Priority::Low, "low"), seconds(0));
  h.spawn(job(Priority::Normal, "normal"), seconds(1));
  h.spawn(job(Priority::Critical, "critical"), seconds(2));
  h.spawn(job(Priority::High, "high"), seconds(3));
  h.drain();

  std::vector<std::string> order;
  TaskId running = blocker;
  for (int i = 0; i < 4; ++i) {
    h.succeed(running, 1, seconds(10 + i));
    const auto started = starts(h.drain());
    ASSERT_EQ(started.size(), 1u);
    running = started[0].id;
    order.push_back(started[0].payload.at("payload").at("message").get<std::string>());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"critical", "high", "normal", "low"}));
}

TEST(Seed004JobPool, EqualPrioritiesRunEarlierCreatedFirst) {
  Config config;
  config.max_running = 1;
  Harness h(config);
  const TaskId blocker = h.spawn(task("gate", "pool"), seconds(0));
  const TaskId first = h.spawn(job(Priority::Normal, "first"), seconds(1));
  const TaskId second = h.spawn(job(Priority::Normal, "second"), seconds(2));
  h.drain();
  h.succeed(blocker, 1, seconds(3));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.succeed(first, 1, seconds(4));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
}

TEST(Seed004JobPool, JobPoolScheduleAndExecution) {
  Harness h;
  const TaskId id = h.spawn(job(Priority::Normal, "hello"), seconds(0));
  const auto started = starts(h.drain());
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].kind, "test_job");
  // The handler answers with the job type, as execute_job does for TestJob.
  h.succeed(id, started[0].attempt, ms(5), started[0].payload);
  const auto done = notifies(h.drain());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, TaskStatus::Completed);
  EXPECT_EQ(done[0].result.at("payload").at("message"), "hello");  // got_hello

  h.kernel.shutdown(ShutdownMode::Drain, ms(6));  // shutdown cleanly
  EXPECT_EQ(stops(h.drain()), 1u);
}

TEST(Seed004JobPool, JobPoolPersistenceAndRecovery) {
  // A job that will not run yet: the seed never starts the worker; here its time has not come.
  Harness pool;
  TaskSpec pending = job(Priority::High, "persist_me");
  pending.run_after = seconds(3600);
  const TaskId id = pool.spawn(pending, seconds(0));
  EXPECT_EQ(pool.kernel.unfinished(), 1u);  // pool.len() == 1
  EXPECT_TRUE(starts(pool.drain()).empty());

  pool.kernel.shutdown(ShutdownMode::Drain, seconds(1));
  const auto out = pool.drain();
  ASSERT_EQ(persisted_snapshots(out).size(), 1u);  // the file exists and is populated
  const Snapshot saved = persisted_snapshots(out)[0].snapshot;
  ASSERT_EQ(saved.tasks.size(), 1u);

  Harness new_pool;
  new_pool.kernel.restore(saved, seconds(2));  // load_persisted_jobs
  EXPECT_EQ(new_pool.kernel.unfinished(), 1u);
  const std::optional<TaskInfo> recovered = new_pool.kernel.get(id);
  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ(recovered->status, TaskStatus::Pending);
  EXPECT_EQ(recovered->spec.priority, Priority::High);
  EXPECT_EQ(recovered->spec.payload.at("payload").at("message"), "persist_me");
  EXPECT_EQ(recovered->due, seconds(3600)) << "the job keeps its run_after";

  new_pool.tick(seconds(3600));
  const auto started = starts(new_pool.drain());
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].payload.at("payload").at("message"), "persist_me");
}

TEST(Seed004JobPool, RecoveredJobsRunByPriorityOnceDue) {
  Harness pool;
  TaskSpec low = job(Priority::Low, "low");
  low.run_after = seconds(10);
  TaskSpec critical = job(Priority::Critical, "critical");
  critical.run_after = seconds(10);
  pool.spawn(low, seconds(0));
  pool.spawn(critical, seconds(0));
  pool.kernel.shutdown(ShutdownMode::Drain, seconds(1));
  const Snapshot saved = persisted_snapshots(pool.drain()).at(0).snapshot;

  Config one;
  one.max_running = 1;
  Harness new_pool(one);
  new_pool.kernel.restore(saved, seconds(20));  // both overdue at the new start
  const auto started = starts(new_pool.drain());
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].payload.at("payload").at("message"), "critical");
}

TEST(Seed004JobPool, RunAfterDelaysAJob) {
  Harness h;
  TaskSpec later = job(Priority::Critical, "later");
  later.run_after = seconds(30);
  const TaskId delayed = h.spawn(later, seconds(0));
  const TaskId now = h.spawn(job(Priority::Low, "now"), seconds(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{now}) << "a delayed job does not block a ready one";
  h.tick(seconds(29));
  EXPECT_TRUE(starts(h.drain()).empty());
  h.tick(seconds(30));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{delayed});
}

TEST(Seed004JobPool, FailedJobsAreRetriedWithBackoffThenDiscarded) {
  Harness h;
  TaskSpec spec = job(Priority::Normal, "fails");
  spec.retry.initial_backoff = seconds(2);
  spec.retry.multiplier = 2.0;
  const TaskId id = h.spawn(spec, seconds(0));
  Time now = seconds(0);
  for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
    h.fail(id, attempt, now, "job execution failed: boom " + std::to_string(attempt));
    EXPECT_EQ(h.status(id), TaskStatus::Pending);
    now = h.kernel.next_deadline().value();
    h.tick(now);
  }
  h.fail(id, 4, now, "job execution failed: boom 4");
  h.drain();
  EXPECT_EQ(h.status(id), TaskStatus::Failed);
  EXPECT_EQ(starts(h.log).size(), 4u) << "one run and three retries";
  EXPECT_EQ(notifies(h.log).size(), 1u);
  EXPECT_EQ(notifies(h.log)[0].error, "job execution failed: boom 4");
  EXPECT_EQ(now, seconds(2 + 4 + 8));
}

}  // namespace
}  // namespace tasklane
