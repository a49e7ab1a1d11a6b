// AttemptJob: a started attempt run on a worker. Its outcome goes back to the owner with the
// attempt's context, so that the shared state the owner handed out (the cancellation state, the
// reports) is released by the owner, not by the worker: a reference count written by both threads
// for every task bounces its cache line between them.
#include "../../drivers/src/attempt_job.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <utility>

namespace tasklane::drivers {
namespace {

TEST(AttemptJob, TheContextComesBackWithTheOutcomeSoTheOwnerReleasesItsSharedState) {
  auto reports = std::make_shared<WorkReports>([] {});
  std::thread::id released_on;
  {
    // Held only by a cancel callback, which lives as long as the attempt's cancellation state.
    std::shared_ptr<int> sentinel(new int(0), [&released_on](int* p) {
      released_on = std::this_thread::get_id();
      delete p;
    });
    const WorkFunction work = [sentinel](WorkContext& ctx) {
      ctx.cancel.on_cancel([sentinel] {});
      EXPECT_EQ(ctx.payload, Json({{"turn", 3}}));
      return Outcome::success(Json{{"ok", true}});
    };
    AttemptJob job{&work, nullptr,
                   WorkContext{TaskId{7}, 2, Json{{"turn", 3}}, CancellationToken(),
                               WorkProgress(reports, TaskId{7}, 2), nullptr, WorkHeartbeat()}};
    sentinel.reset();
    std::thread worker([job = std::move(job), reports]() mutable { job(reports); });  // the job dies there
    worker.join();
  }
  EXPECT_EQ(released_on, std::thread::id()) << "the worker released the attempt's cancellation state";

  auto batch = reports->take();
  ASSERT_EQ(batch.size(), 1u);
  WorkReport& report = batch.front();
  EXPECT_EQ(report.id, TaskId{7});
  EXPECT_EQ(report.attempt, 2u);
  ASSERT_TRUE(report.outcome.has_value());
  EXPECT_EQ(report.outcome->result, Json({{"ok", true}}));
  ASSERT_TRUE(report.context.has_value()) << "the outcome came back without the attempt's context";
  EXPECT_TRUE(report.context->payload.is_null()) << "the payload is the worker's to free";
  EXPECT_FALSE(report.context->cancel.cancelled());
  batch.clear();  // the owner is done with the report
  EXPECT_EQ(released_on, std::this_thread::get_id());
}

TEST(AttemptJob, ProgressReportsCarryNoContext) {
  auto reports = std::make_shared<WorkReports>([] {});
  WorkProgress(reports, TaskId{1}, 1)(0.5, "half");
  auto batch = reports->take();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_FALSE(batch.front().outcome.has_value());
  EXPECT_FALSE(batch.front().context.has_value());
  EXPECT_EQ(batch.front().message, "half");
}

}  // namespace
}  // namespace tasklane::drivers
