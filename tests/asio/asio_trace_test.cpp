// Record and replay with the real Asio driver: a run with RuntimeOptions::trace_file replays
// exactly in a fresh kernel (real threads, real timers, real completions), a tampered trace is
// caught at the first differing command, and the tasklane tool reports both.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "asio/asio_harness.hpp"
#include "tasklane/drivers/trace.hpp"

namespace tasklane {
namespace {

namespace fs = std::filesystem;
using conformance::AsioHarness;

fs::path temp_file(const std::string& name) { return fs::temp_directory_path() / (name + "-" + std::to_string(getpid())); }

void record_a_run(const fs::path& trace) {
  drivers::HandlerRegistry handlers;
  handlers.add("ok", [](drivers::WorkContext&) { return Outcome::success({{"done", true}}); });
  handlers.add("flaky", [](drivers::WorkContext& ctx) {
    return ctx.attempt < 2 ? Outcome::failure("first try fails") : Outcome::success();
  });
  drivers::RuntimeOptions options;
  options.config.max_running = 2;
  options.trace_file = trace;
  AsioHarness h(std::move(handlers), options);
  ASSERT_FALSE(h.start());
  TaskSpec ok;
  ok.kind = "ok";
  ok.owner = "alice";
  TaskSpec flaky = ok;
  flaky.kind = "flaky";
  flaky.retry.max_attempts = 2;
  flaky.retry.initial_backoff = milliseconds(5);
  const auto a = h.spawn(ok);
  const auto b = h.spawn(flaky);
  const auto c = h.spawn(ok);
  for (const auto& [ec, id] : {a, b, c}) {
    ASSERT_FALSE(ec);
    EXPECT_EQ(h.wait(id).second.status, TaskStatus::Completed);
  }
  EXPECT_EQ(h.flush(flush_selector::All{}).first, std::error_code{});
  EXPECT_FALSE(h.shutdown(ShutdownMode::Drain));
}

TEST(AsioTrace, ARecordedRunReplaysExactly) {
  const fs::path trace = temp_file("tasklane-trace");
  record_a_run(trace);
  const auto read = drivers::read_trace(trace);
  ASSERT_TRUE(read) << read.error();
  const auto report = drivers::replay_trace(read.value());
  EXPECT_TRUE(report.ok()) << "differs at " << report.mismatch_at.value_or(0) << ": recorded " << report.recorded
                           << " replayed " << report.replayed;
  EXPECT_GE(report.events, 8u);
  EXPECT_GE(report.commands, 10u);
  EXPECT_EQ(std::system((std::string(TASKLANE_CLI) + " replay " + trace.string() + " >/dev/null").c_str()), 0);
  fs::remove(trace);
}

TEST(AsioTrace, ATamperedTraceIsCaughtWhereItFirstDiffers) {
  const fs::path trace = temp_file("tasklane-trace-tampered");
  record_a_run(trace);
  std::ifstream in(trace);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto at = text.find("\"attempt\":2");  // the flaky task's second start
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"attempt\":3");
  std::ofstream(trace, std::ios::trunc) << text;
  const auto read = drivers::read_trace(trace);
  ASSERT_TRUE(read) << read.error();
  const auto report = drivers::replay_trace(read.value());
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.recorded.find("\"attempt\":3"), std::string::npos) << report.recorded;
  EXPECT_NE(report.replayed.find("\"attempt\":2"), std::string::npos) << report.replayed;
  EXPECT_EQ(WEXITSTATUS(std::system((std::string(TASKLANE_CLI) + " replay " + trace.string() + " >/dev/null").c_str())), 1);
  fs::remove(trace);
}

TEST(TasklaneTool, InspectReadsADataDirectoryAndReportsDamage) {
  const fs::path dir = temp_file("tasklane-inspect");
  fs::remove_all(dir);
  {
    drivers::RuntimeOptions options;
    options.data_dir = dir;
    AsioHarness h(drivers::HandlerRegistry{}, options);
    ASSERT_FALSE(h.start());
    TaskSpec later;
    later.kind = "export";
    later.owner = "bob";
    later.durable = true;
    later.run_after = seconds(3600);
    ASSERT_FALSE(h.spawn(later).first);
  }
  const std::string tool = std::string(TASKLANE_CLI) + " inspect " + dir.string();
  EXPECT_EQ(std::system((tool + " --owner bob >/dev/null").c_str()), 0);
  EXPECT_EQ(std::system((tool + " --json | grep -q '\"export\"'").c_str()), 0);
  // Damage in the middle: flip a byte of the first record's payload, then add an intact record after it.
  const fs::path journal = dir / "journal.log";
  std::string bytes;
  {
    std::ifstream in(journal, std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(in)), {});
  }
  ASSERT_GT(bytes.size(), 40u);
  const std::string copy = bytes;
  bytes[30] = static_cast<char>(bytes[30] ^ 0x40);
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << bytes << copy;
  EXPECT_EQ(WEXITSTATUS(std::system((tool + " 2>/dev/null").c_str())), 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tasklane
