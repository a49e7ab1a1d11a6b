// The trace a failing property case leaves behind replays exactly (tasklane replay's check).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "failure_trace.hpp"
#include "tasklane/drivers/trace.hpp"

namespace tasklane::property {
namespace {

TEST(FailureTrace, AFailingLifetimeIsWrittenAsATraceThatReplays) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tasklane-failure-trace-test";
  std::filesystem::create_directories(dir);
  ASSERT_EQ(setenv("TASKLANE_FAILURE_TRACE_DIR", dir.c_str(), 1), 0);

  Config config;
  config.max_running = 1;
  TaskSpec spec;
  spec.kind = "work";
  spec.owner = "alice";
  spec.timeout = milliseconds(5);
  spec.retry.max_attempts = 2;
  const std::vector<TimedEvent> events{
      {Time{0}, event::Spawn{spec}},
      {Time{0}, event::Spawn{spec}},
      {milliseconds(5), event::Tick{}},                                              // attempt 1 times out
      {milliseconds(6), event::Complete{TaskId{0}, 1, Outcome::success()}},         // stale
      {milliseconds(9), event::Abort{abort_selector::All{}}},
  };
  const std::filesystem::path file = write_failure_trace(config, events);
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(file.parent_path(), dir);

  const auto trace = drivers::read_trace(file);
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(trace.value().config.max_running, 1u);
  const auto report = drivers::replay_trace(trace.value());
  EXPECT_TRUE(report.ok()) << "differs at " << *report.mismatch_at << ": " << report.recorded << " vs " << report.replayed;
  EXPECT_EQ(report.events, events.size());
  EXPECT_GT(report.commands, 4u) << "starts, a cancel, notifies";
  unsetenv("TASKLANE_FAILURE_TRACE_DIR");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tasklane::property
