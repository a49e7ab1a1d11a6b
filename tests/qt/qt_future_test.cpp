// TaskRuntime::spawnWithFuture: the QFuture of a task follows its progress, holds its result,
// throws TaskError for a failure or a refusal, and cancelling it cancels the task (and back).
// The runtime runs in the harness's thread; the test thread is the future's consumer.
#include <gtest/gtest.h>

#include <QFuture>
#include <atomic>
#include <memory>

#include "qt/qt_harness.hpp"
#include "conformance/work_support.hpp"

namespace tasklane::qt_test {
namespace {

using namespace conformance;  // Signal, hold, eventually, task

using conformance::QtHarness;
using drivers::errc;
using drivers::HandlerRegistry;
using drivers::WorkContext;

// `record_events`: see QtHarness. Without it no signal is connected, and only the futures follow
// the tasks' progress.
std::unique_ptr<QtHarness> open(HandlerRegistry handlers, drivers::RuntimeOptions options = {},
                                bool record_events = true) {
  auto h = std::make_unique<QtHarness>(std::move(handlers), std::move(options), nullptr, record_events);
  EXPECT_FALSE(h->start());
  return h;
}

QFuture<TaskInfo> spawn_future(QtHarness& h, const TaskSpec& spec) {
  return h.on_owner([spec](qt::TaskRuntime& rt) { return rt.spawnWithFuture(spec); });
}

// Waits until the future is finished, then makes one round trip to the runtime's thread: the
// future's own synchronisation is inside libQt6Core, which ThreadSanitizer cannot see, so without
// it a TSan build would report reading the result as a race.
bool finishes(QtHarness& h, const QFuture<TaskInfo>& f) {
  if (!eventually([&] { return f.isFinished(); })) return false;
  (void)h.read([](const Kernel&) { return 0; });
  return true;
}

// The id the runtime gave the first task of `kind`, from its Spawned event.
std::optional<TaskId> spawned_id(QtHarness& h, const std::string& kind) {
  std::optional<TaskId> id;
  (void)eventually([&] {
    for (const auto& e : h.events()) {
      if (e.kind == drivers::TaskEventKind::Spawned && e.task_kind == kind) id = e.id;
    }
    return id.has_value();
  });
  return id;
}

// What result() throws, or nullopt when it does not throw a TaskError.
std::optional<qt::TaskError> error_of(const QFuture<TaskInfo>& f) {
  try {
    (void)f.result();
  } catch (const qt::TaskError& e) {
    return e;
  }
  return std::nullopt;
}

TEST(QtFuture, ReportsProgressWhileRunningThenTheResult) {
  auto release = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("summarize", [release](WorkContext& ctx) {
    ctx.progress(0.25, "reading");
    ctx.progress(0.5, "writing");
    if (hold(ctx, *release)) return Outcome::failure("cancelled");
    return Outcome::success({{"summary", "three facts"}});
  });
  auto h = open(std::move(handlers), {}, false);  // no signal connected: the future alone wants the progress
  const QFuture<TaskInfo> future = spawn_future(*h, task("summarize"));
  EXPECT_EQ(future.progressMinimum(), 0);
  EXPECT_EQ(future.progressMaximum(), 1000);
  ASSERT_TRUE(eventually([&] { return future.progressValue() == 500; })) << future.progressValue();
  (void)h->read([](const Kernel&) { return 0; });  // see finishes(): a hand-off TSan can see
  EXPECT_EQ(future.progressText(), "writing");
  EXPECT_FALSE(future.isFinished()) << "the work is still held";

  release->set();
  ASSERT_TRUE(finishes(*h, future));
  EXPECT_FALSE(future.isCanceled());
  ASSERT_EQ(future.resultCount(), 1);
  const TaskInfo info = future.result();
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.result, Json({{"summary", "three facts"}}));
  EXPECT_EQ(info.spec.kind, "summarize");
  EXPECT_EQ(future.progressValue(), 1000);
}

TEST(QtFuture, CancellingTheFutureCancelsTheRunningTask) {
  auto started = std::make_shared<Signal>();
  auto saw_cancel = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("agent", [=](WorkContext& ctx) {
    started->set();
    if (hold(ctx, Signal{})) saw_cancel->set();
    return Outcome::success("finished anyway");
  });
  auto h = open(std::move(handlers));
  QFuture<TaskInfo> future = spawn_future(*h, task("agent"));
  ASSERT_TRUE(started->wait());
  future.cancel();  // from this thread, not the runtime's
  EXPECT_TRUE(saw_cancel->wait()) << "the work's cancellation token never fired";
  const auto id = spawned_id(*h, "agent");
  ASSERT_TRUE(id.has_value());
  const auto [ec, info] = h->wait(*id);
  EXPECT_FALSE(ec);
  EXPECT_EQ(info.status, TaskStatus::Cancelled);
  ASSERT_TRUE(finishes(*h, future));
  EXPECT_TRUE(future.isCanceled());
  EXPECT_EQ(future.resultCount(), 0) << "a cancelled task has no result";
}

TEST(QtFuture, CancelledBeforeTheSpawnIsAnsweredTheTaskNeverRuns) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  HandlerRegistry handlers;
  handlers.add("later", [calls](WorkContext&) {
    ++*calls;
    return Outcome::success();
  });
  auto h = open(std::move(handlers));
  TaskSpec spec = task("later");
  spec.run_after = milliseconds(200);
  // Cancelled on the owner thread before the spawn's answer (which always comes later) arrives.
  const QFuture<TaskInfo> future = h->on_owner([spec](qt::TaskRuntime& rt) {
    QFuture<TaskInfo> f = rt.spawnWithFuture(spec);
    f.cancel();
    return f;
  });
  const auto id = spawned_id(*h, "later");
  ASSERT_TRUE(id.has_value());
  const auto [ec, info] = h->wait(*id);
  EXPECT_FALSE(ec);
  EXPECT_EQ(info.status, TaskStatus::Cancelled);
  EXPECT_EQ(info.attempt, 0u);
  ASSERT_TRUE(finishes(*h, future));
  EXPECT_TRUE(future.isCanceled());
  std::this_thread::sleep_for(250ms);  // past the run_after: nothing may start it now
  EXPECT_EQ(calls->load(), 0);
}

TEST(QtFuture, TaskCancelledByTheRuntimeCancelsItsFuture) {
  HandlerRegistry handlers;
  auto h = open(std::move(handlers));
  TaskSpec spec = task("someday");
  spec.run_after = std::chrono::hours(1);
  const QFuture<TaskInfo> future = spawn_future(*h, spec);
  const auto id = spawned_id(*h, "someday");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(h->abort(abort_selector::Owner{"alice"}), 1u);
  ASSERT_TRUE(finishes(*h, future));
  EXPECT_TRUE(future.isCanceled());
  EXPECT_EQ(future.resultCount(), 0);
}

TEST(QtFuture, FailedTaskThrowsTaskErrorWithTheFinishedTask) {
  HandlerRegistry handlers;
  handlers.add("refuses", [](WorkContext&) { return Outcome::failure("the model refused"); });
  auto h = open(std::move(handlers));
  const QFuture<TaskInfo> future = spawn_future(*h, task("refuses"));
  ASSERT_TRUE(finishes(*h, future));
  const auto error = error_of(future);
  ASSERT_TRUE(error.has_value()) << "result() did not throw a TaskError";
  EXPECT_EQ(error->code(), make_error_code(errc::task_failed));
  EXPECT_STREQ(error->what(), "the model refused");
  ASSERT_TRUE(error->info().has_value());
  EXPECT_EQ(error->info()->status, TaskStatus::Failed);
  EXPECT_EQ(error->info()->spec.kind, "refuses");
}

TEST(QtFuture, TimedOutTaskThrowsTaskError) {
  HandlerRegistry handlers;
  handlers.add("stuck", [](WorkContext& ctx) {
    (void)hold(ctx, Signal{});
    return Outcome::success();
  });
  auto h = open(std::move(handlers));
  TaskSpec spec = task("stuck");
  spec.timeout = milliseconds(50);
  const QFuture<TaskInfo> future = spawn_future(*h, spec);
  ASSERT_TRUE(finishes(*h, future));
  const auto error = error_of(future);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), make_error_code(errc::task_failed));
  EXPECT_STREQ(error->what(), "timed out after 50 ms");
  ASSERT_TRUE(error->info().has_value());
  EXPECT_EQ(error->info()->status, TaskStatus::TimedOut);
}

TEST(QtFuture, RefusedSpawnThrowsTheRefusalsCode) {
  HandlerRegistry handlers;
  auto h = open(std::move(handlers));
  EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  const QFuture<TaskInfo> future = spawn_future(*h, task("anything"));
  ASSERT_TRUE(finishes(*h, future));
  const auto error = error_of(future);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), make_error_code(errc::shutting_down));
  EXPECT_FALSE(error->info().has_value());
}

TEST(QtFuture, TaskLeftPendingByAShutdownThrowsStopped) {
  HandlerRegistry handlers;
  auto h = open(std::move(handlers));
  TaskSpec spec = task("someday");
  spec.run_after = std::chrono::hours(1);
  const QFuture<TaskInfo> future = spawn_future(*h, spec);
  ASSERT_TRUE(spawned_id(*h, "someday").has_value());
  EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  ASSERT_TRUE(finishes(*h, future));
  const auto error = error_of(future);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), make_error_code(errc::stopped));
  ASSERT_TRUE(error->info().has_value());
  EXPECT_EQ(error->info()->status, TaskStatus::Pending);
  // Qt reports a future holding an exception as canceled; that must not cancel the task, which
  // stays pending (and, when durable, comes back at the next start).
  const TaskId id = error->info()->id;
  const auto status = h->read([id](const Kernel& k) { return k.get(id) ? k.get(id)->status : TaskStatus::Failed; });
  EXPECT_EQ(status, TaskStatus::Pending);
}

TEST(QtFuture, DestroyingTheRuntimeCancelsWhatIsStillPending) {
  HandlerRegistry handlers;
  auto h = open(std::move(handlers));
  TaskSpec spec = task("someday");
  spec.run_after = std::chrono::hours(1);
  const QFuture<TaskInfo> future = spawn_future(*h, spec);
  ASSERT_TRUE(spawned_id(*h, "someday").has_value());
  EXPECT_FALSE(future.isFinished());
  h.reset();
  ASSERT_TRUE(eventually([&] { return future.isFinished(); })) << "a future outlived its runtime unfinished";
  EXPECT_TRUE(future.isCanceled());
}

}  // namespace
}  // namespace tasklane::qt_test
