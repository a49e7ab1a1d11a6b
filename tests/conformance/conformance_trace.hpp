// Record and replay through every driver: a run with RuntimeOptions::trace_file replays exactly in
// a fresh kernel (what the driver fed the kernel: its clock, its timers, completions from real
// threads), and a tampered trace is caught at the first command that differs. The CLI's replay and
// inspect are tested on such traces in tests/tools.
//
//   #include "conformance/conformance_trace.hpp"
//   INSTANTIATE_TYPED_TEST_SUITE_P(asio, DriverTrace, ::testing::Types<AsioHarness>, HarnessName);
#pragma once

#include <fstream>
#include <iterator>

#include "conformance/conformance_suite.hpp"
#include "tasklane/drivers/trace.hpp"

namespace tasklane::conformance {

template <class H>
class DriverTrace : public DriverConformance<H> {
 protected:
  // ok, a task whose first attempt fails (a backoff: the driver's timer tick is in the trace) and a
  // delayed one, each waited for; then a flush and a draining shutdown.
  void record_a_run() {
    HandlerRegistry handlers;
    handlers.add("ok", [](WorkContext& ctx) {
      ctx.progress(0.5, "half");
      return Outcome::success({{"done", true}});
    });
    handlers.add("flaky", [](WorkContext& ctx) {
      return ctx.attempt < 2 ? Outcome::failure("first try fails") : Outcome::success();
    });
    RuntimeOptions options;
    options.config.max_running = 2;
    options.trace_file = trace_file();
    auto h = this->open(std::move(handlers), std::move(options));
    TaskSpec flaky = task("flaky");
    flaky.retry.max_attempts = 2;
    flaky.retry.initial_backoff = milliseconds(5);
    TaskSpec delayed = task("ok");
    delayed.run_after = milliseconds(20);
    for (const TaskSpec& spec : {task("ok"), flaky, delayed}) {
      const TaskId id = this->spawn_ok(*h, spec);
      EXPECT_EQ(this->wait_ok(*h, id).status, TaskStatus::Completed);
    }
    EXPECT_EQ(h->flush(flush_selector::All{}).first, std::error_code{});
    EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  }

  std::filesystem::path trace_file() { return this->data_dir() / "run.trace"; }
};

TYPED_TEST_SUITE_P(DriverTrace);

TYPED_TEST_P(DriverTrace, ARecordedRunReplaysExactly) {
  this->record_a_run();
  const auto read = drivers::read_trace(this->trace_file());
  ASSERT_TRUE(read) << read.error();
  const auto report = drivers::replay_trace(read.value());
  EXPECT_TRUE(report.ok()) << "differs at " << report.mismatch_at.value_or(0) << ": recorded " << report.recorded
                           << " replayed " << report.replayed;
  EXPECT_GE(report.events, 8u);
  EXPECT_GE(report.commands, 10u);
}

TYPED_TEST_P(DriverTrace, ATamperedTraceIsCaughtWhereItFirstDiffers) {
  this->record_a_run();
  std::string text;
  {
    std::ifstream in(this->trace_file());
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = text.find("\"attempt\":2");  // the flaky task's second start
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"attempt\":3");
  std::ofstream(this->trace_file(), std::ios::trunc) << text;
  const auto read = drivers::read_trace(this->trace_file());
  ASSERT_TRUE(read) << read.error();
  const auto report = drivers::replay_trace(read.value());
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.recorded.find("\"attempt\":3"), std::string::npos) << report.recorded;
  EXPECT_NE(report.replayed.find("\"attempt\":2"), std::string::npos) << report.replayed;
}

// A spawn is recorded before the kernel checks it: one the kernel refuses must still be written,
// answered with its code, and replay to the same refusal.
TYPED_TEST_P(DriverTrace, ASpawnWithAPriorityOrModeOutsideItsEnumIsRefusedRecordedAndReplayed) {
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  RuntimeOptions options;
  options.trace_file = this->trace_file();
  auto h = this->open(std::move(handlers), std::move(options));
  TaskSpec bad = task("ok");
  bad.priority = static_cast<Priority>(7);
  EXPECT_EQ(h->spawn(bad).first, make_error_code(errc::invalid_priority));
  bad = task("ok");
  bad.after_mode = static_cast<DependencyMode>(9);  // without `after`: the trace must keep it all the same
  EXPECT_EQ(h->spawn(bad).first, make_error_code(errc::invalid_dependency_mode));
  bad = task("ok");
  bad.repeat = Repeat{std::chrono::milliseconds(5), static_cast<RepeatMode>(9), std::nullopt};
  EXPECT_EQ(h->spawn(bad).first, make_error_code(errc::invalid_repeat));
  const TaskId id = this->spawn_ok(*h, task("ok"));
  EXPECT_EQ(this->wait_ok(*h, id).status, TaskStatus::Completed);
  EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  const auto read = drivers::read_trace(this->trace_file());
  ASSERT_TRUE(read) << read.error();
  const auto report = drivers::replay_trace(read.value());
  EXPECT_TRUE(report.ok()) << "differs at " << report.mismatch_at.value_or(0) << ": recorded " << report.recorded
                           << " replayed " << report.replayed;
}

REGISTER_TYPED_TEST_SUITE_P(DriverTrace, ARecordedRunReplaysExactly, ATamperedTraceIsCaughtWhereItFirstDiffers,
                            ASpawnWithAPriorityOrModeOutsideItsEnumIsRefusedRecordedAndReplayed);

}  // namespace tasklane::conformance
