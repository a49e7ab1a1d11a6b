// Record and replay with the Qt driver: RuntimeOptions::trace_file works through TaskRuntime as it
// does through every driver, and what the Qt shell fed the kernel (its clock, its timer, completions
// coming back from the pool) replays exactly in a fresh kernel.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "qt/qt_harness.hpp"
#include "conformance/work_support.hpp"
#include "tasklane/drivers/trace.hpp"

namespace tasklane::qt_test {
namespace {

using namespace conformance;  // Signal, hold, eventually, task

namespace fs = std::filesystem;
using conformance::QtHarness;

TEST(QtTrace, ARecordedRunReplaysExactly) {
  const fs::path trace = fs::temp_directory_path() / ("tasklane-qt-trace-" + std::to_string(getpid()));
  {
    drivers::HandlerRegistry handlers;
    handlers.add("ok", [](drivers::WorkContext& ctx) {
      ctx.progress(0.5, "half");
      return Outcome::success({{"done", true}});
    });
    handlers.add("flaky", [](drivers::WorkContext& ctx) {
      return ctx.attempt < 2 ? Outcome::failure("first try fails") : Outcome::success();
    });
    drivers::RuntimeOptions options;
    options.config.max_running = 2;
    options.trace_file = trace;
    QtHarness h(std::move(handlers), options);
    ASSERT_FALSE(h.start());
    TaskSpec flaky = task("flaky");
    flaky.retry.max_attempts = 2;
    flaky.retry.initial_backoff = milliseconds(5);  // a backoff: the QTimer's tick is in the trace too
    TaskSpec delayed = task("ok");
    delayed.run_after = milliseconds(20);
    for (const TaskSpec& spec : {task("ok"), flaky, delayed}) {
      const auto [ec, id] = h.spawn(spec);
      ASSERT_FALSE(ec);
      EXPECT_EQ(h.wait(id).second.status, TaskStatus::Completed);
    }
    EXPECT_EQ(h.flush(flush_selector::All{}).first, std::error_code{});
    EXPECT_FALSE(h.shutdown(ShutdownMode::Drain));
  }
  const auto read = drivers::read_trace(trace);
  ASSERT_TRUE(read) << read.error();
  const auto report = drivers::replay_trace(read.value());
  EXPECT_TRUE(report.ok()) << "differs at " << report.mismatch_at.value_or(0) << ": recorded " << report.recorded
                           << " replayed " << report.replayed;
  EXPECT_GE(report.events, 8u);
  std::error_code ignored;
  fs::remove(trace, ignored);
}

}  // namespace
}  // namespace tasklane::qt_test
