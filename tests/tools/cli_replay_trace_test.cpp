// tasklane replay and tasklane trace on a trace recorded by a real run, on a tampered one and on
// a damaged file; the Chrome trace output checked against its documented shape.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "chrome_trace_shape.hpp"
#include "real_run.hpp"
#include "tasklane/json.hpp"

namespace tasklane::tools_test {
namespace {

class CliTrace : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("tasklane-cli-trace");
    record_real_run(dir_->path / "data", dir_->path / "run.trace");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path recorded() { return dir_->path / "run.trace"; }
  static TempDir* dir_;
};
TempDir* CliTrace::dir_ = nullptr;

TEST_F(CliTrace, ReplayOfARecordedRunMatchesAndBreaksNoInvariant) {
  const auto r = tasklane_cli({"replay", recorded().string()});
  EXPECT_EQ(r.exit_code, cli::exit_ok) << r.out << r.err;
  EXPECT_NE(r.out.find("all match"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("invariants: 0 violations"), std::string::npos) << r.out;
}

TEST_F(CliTrace, ReplayOfATamperedTraceSaysWhereItDiffersAndExits1) {
  TempDir dir("tasklane-cli-tampered");
  std::string text = read_file(recorded());
  const auto at = text.find("\"attempt\":2");  // bob's retry
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"attempt\":5");
  write_file(dir.path / "t.trace", text);
  const auto r = tasklane_cli({"replay", (dir.path / "t.trace").string()});
  EXPECT_EQ(r.exit_code, cli::exit_check_failed);
  EXPECT_NE(r.out.find("differs at entry"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"attempt\":5"), std::string::npos) << r.out;
}

TEST_F(CliTrace, ADamagedTraceFileIsRefusedWithItsLineAndExits2) {
  TempDir dir("tasklane-cli-broken");
  std::string text = read_file(recorded());
  const auto second_line = text.find('\n') + 1;
  text.insert(second_line, "{\"at_us\": 12, \"event\": {\"type\": \"nonsense\"}}\n");
  write_file(dir.path / "b.trace", text);
  for (const char* sub : {"replay", "trace"}) {
    std::vector<std::string> args{sub, (dir.path / "b.trace").string()};
    if (std::string(sub) == "trace") args.insert(args.end(), {"-o", (dir.path / "out.json").string()});
    const auto r = tasklane_cli(args);
    EXPECT_EQ(r.exit_code, cli::exit_bad_usage) << sub;
    EXPECT_NE(r.err.find("b.trace:2:"), std::string::npos) << sub << ": " << r.err;
  }
  write_file(dir.path / "empty.trace", "");
  EXPECT_EQ(tasklane_cli({"replay", (dir.path / "empty.trace").string()}).exit_code, cli::exit_bad_usage);
  EXPECT_EQ(tasklane_cli({"replay", (dir.path / "missing.trace").string()}).exit_code, cli::exit_bad_usage);
}

TEST_F(CliTrace, ChromeTraceOfARecordedRunHasTheDocumentedShape) {
  TempDir dir("tasklane-cli-chrome");
  const fs::path out = dir.path / "run.json";
  const auto r = tasklane_cli({"trace", recorded().string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.err;
  const Json chrome = Json::parse(read_file(out), nullptr, false);
  ASSERT_FALSE(chrome.is_discarded()) << "not valid JSON";
  const ShapeReport shape = check_chrome_trace_shape(chrome);
  EXPECT_TRUE(shape.problems.empty()) << shape.problems.front();
  EXPECT_EQ(shape.slices, 4u) << "two summaries, and bob's memory write twice";
  EXPECT_EQ(shape.instants.count("retry"), 1u) << "bob's second attempt";
  EXPECT_EQ(shape.thread_names.count("agent/bob/facts"), 1u) << "bob's sequence lane has a track";
  EXPECT_EQ(shape.thread_names.count("worker 1"), 1u);
  EXPECT_EQ(shape.async_spans, 1u) << "the flush";
  EXPECT_NE(r.out.find("4 attempts"), std::string::npos) << r.out;
}

TEST_F(CliTrace, ChromeTraceToStdout) {
  const auto r = tasklane_cli({"trace", recorded().string(), "-o", "-"});
  ASSERT_EQ(r.exit_code, cli::exit_ok);
  EXPECT_TRUE(check_chrome_trace_shape(Json::parse(r.out)).problems.empty());
}

TEST_F(CliTrace, TraceNeedsAnOutput) {
  const auto r = tasklane_cli({"trace", recorded().string()});
  EXPECT_EQ(r.exit_code, cli::exit_bad_usage);
  EXPECT_NE(r.err.find("needs -o"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tasklane::tools_test

namespace tasklane::tools_test {
namespace {

// The shape check itself must be able to fail, or the tests above prove nothing.
TEST(ChromeTraceShape, CatchesUnbalancedSlicesMissingFieldsAndOpenSpans) {
  auto events = [](Json list) { return Json{{"traceEvents", std::move(list)}}; };
  const Json b{{"ph", "B"}, {"ts", 1}, {"pid", 1}, {"tid", 1}, {"name", "summarize"}};
  const Json e{{"ph", "E"}, {"ts", 2}, {"pid", 1}, {"tid", 1}, {"name", "summarize"}};
  EXPECT_TRUE(check_chrome_trace_shape(events({b, e})).problems.empty());
  EXPECT_FALSE(check_chrome_trace_shape(events({b})).problems.empty()) << "never closed";
  EXPECT_FALSE(check_chrome_trace_shape(events({e})).problems.empty()) << "E without B";
  Json early = e;
  early["ts"] = 0;
  EXPECT_FALSE(check_chrome_trace_shape(events({b, early})).problems.empty()) << "E before B";
  Json nameless = b;
  nameless.erase("name");
  EXPECT_FALSE(check_chrome_trace_shape(events({nameless})).problems.empty());
  const Json open_flush{{"ph", "b"}, {"ts", 1}, {"pid", 3}, {"tid", 2}, {"name", "flush"}, {"cat", "flush"}, {"id", 1}};
  EXPECT_FALSE(check_chrome_trace_shape(events({open_flush})).problems.empty());
  EXPECT_FALSE(check_chrome_trace_shape(Json::array()).problems.empty()) << "not an object with traceEvents";
}

}  // namespace
}  // namespace tasklane::tools_test
