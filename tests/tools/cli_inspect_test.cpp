// tasklane inspect on a journal from a real run: the table, the filters, --json, and damage.
#include <gtest/gtest.h>

#include "real_run.hpp"
#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/json.hpp"

namespace tasklane::tools_test {
namespace {

class CliInspect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("tasklane-cli-inspect");
    record_real_run(dir_->path / "data", dir_->path / "run.trace");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path data() { return dir_->path / "data"; }
  static TempDir* dir_;
};
TempDir* CliInspect::dir_ = nullptr;

TEST_F(CliInspect, PrintsEveryTaskOfARealRunAsATable) {
  const auto r = tasklane_cli({"inspect", data().string()});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.err;
  EXPECT_NE(r.out.find("ID"), std::string::npos);
  EXPECT_NE(r.out.find("LAST ERROR"), std::string::npos);
  EXPECT_NE(r.out.find("turn-0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory_write"), std::string::npos);
  EXPECT_NE(r.out.find("export"), std::string::npos);
  EXPECT_NE(r.out.find("4 of 4 tasks"), std::string::npos) << r.out;
}

TEST_F(CliInspect, FiltersByOwnerStatusAndKind) {
  auto r = tasklane_cli({"inspect", data().string(), "--owner", "alice"});
  ASSERT_EQ(r.exit_code, cli::exit_ok);
  EXPECT_NE(r.out.find("2 of 4 tasks"), std::string::npos) << r.out;
  r = tasklane_cli({"inspect", data().string(), "--status", "pending"});
  EXPECT_NE(r.out.find("1 of 4 tasks"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("carol"), std::string::npos);
  r = tasklane_cli({"inspect", data().string(), "--kind=memory_write", "--status", "completed"});
  EXPECT_NE(r.out.find("1 of 4 tasks"), std::string::npos) << r.out;
}

TEST_F(CliInspect, JsonHasEveryRecordWithItsAttemptAndError) {
  const auto r = tasklane_cli({"inspect", data().string(), "--json", "--owner", "bob"});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.err;
  const Json j = Json::parse(r.out);
  ASSERT_EQ(j.at("tasks").size(), 1u);
  const Json& task = j.at("tasks")[0];
  EXPECT_EQ(task.value("status", ""), "completed");
  EXPECT_EQ(task.value("attempt", 0), 2) << "the first attempt failed and was retried";
  EXPECT_GT(j.value("records_replayed", 0), 0);
  EXPECT_TRUE(j.at("torn_tail_at").is_null());
}

TEST_F(CliInspect, ATornTailIsShownAndIsNotAnError) {
  TempDir copy("tasklane-cli-torn");
  fs::copy(data(), copy.path / "data");
  const fs::path journal = copy.path / "data" / "journal.log";
  const auto size = fs::file_size(journal);
  ASSERT_GT(size, 0u);
  std::ofstream(journal, std::ios::binary | std::ios::app) << std::string("\x40\x00\x00\x00garbage", 11);
  const auto r = tasklane_cli({"inspect", (copy.path / "data").string()});
  EXPECT_EQ(r.exit_code, cli::exit_ok) << r.err;
  EXPECT_NE(r.out.find("torn tail at offset " + std::to_string(size)), std::string::npos) << r.out;
}

TEST_F(CliInspect, ADamagedJournalNamesTheFileAndOffsetAndExits1) {
  TempDir copy("tasklane-cli-damaged");
  fs::copy(data(), copy.path / "data");
  const fs::path journal = copy.path / "data" / "journal.log";
  std::string bytes = read_file(journal);
  ASSERT_GT(bytes.size(), 40u);
  bytes[17] = static_cast<char>(bytes[17] ^ 0x5a);  // the first record's payload (after its 16-byte header): its CRC no longer matches
  write_file(journal, bytes);
  const auto r = tasklane_cli({"inspect", (copy.path / "data").string()});
  EXPECT_EQ(r.exit_code, cli::exit_check_failed) << r.out << r.err;
  EXPECT_NE(r.err.find("journal.log"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("offset 0"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(journal), bytes) << "inspect changes nothing";
}

TEST_F(CliInspect, APausedTaskAndOneWaitingForDependenciesSaySo) {
  TempDir dir("tasklane-cli-waiting");
  {
    auto opened = drivers::FileJournal::open(dir.path / "data");
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    TaskInfo paused;
    paused.id = TaskId{0};
    paused.spec.kind = "compact";
    paused.spec.durable = true;
    paused.paused = true;
    TaskInfo waiter;
    waiter.id = TaskId{1};
    waiter.spec.kind = "index";
    waiter.spec.durable = true;
    waiter.spec.after = {TaskId{0}};
    waiter.waiting_for = {TaskId{0}};
    opened.value().journal->append(paused);
    opened.value().journal->append(waiter);
    ASSERT_TRUE(opened.value().journal->commit());
  }
  const auto r = tasklane_cli({"inspect", (dir.path / "data").string()});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.err;
  EXPECT_NE(r.out.find("pending, paused"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pending, after bg_0"), std::string::npos) << r.out;
}

TEST_F(CliInspect, ARunOfARepeatingTaskNamesItsSeriesAndWhyTheSeriesEnded) {
  TempDir dir("tasklane-cli-series");
  {
    auto opened = drivers::FileJournal::open(dir.path / "data");
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    TaskInfo last;  // run 2 of series bg_0, the last one: the next run's spawn was refused
    last.id = TaskId{4};
    last.spec.kind = "reindex";
    last.spec.durable = true;
    last.spec.repeat = Repeat{seconds(60), RepeatMode::FixedRate, std::nullopt};
    last.status = TaskStatus::Completed;
    last.series = TaskId{0};
    last.run = 2;
    last.series_end = "next run refused: queue full";
    TaskInfo next;  // run 3 of series bg_9, pending
    next.id = TaskId{12};
    next.spec.kind = "heartbeat_check";
    next.spec.durable = true;
    next.spec.repeat = Repeat{seconds(5), RepeatMode::FixedDelay, std::nullopt};
    next.series = TaskId{9};
    next.run = 3;
    opened.value().journal->append(last);
    opened.value().journal->append(next);
    ASSERT_TRUE(opened.value().journal->commit());
  }
  const auto r = tasklane_cli({"inspect", (dir.path / "data").string()});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.err;
  EXPECT_NE(r.out.find("completed, run 2 of bg_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("series ended: next run refused: queue full"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pending, run 3 of bg_9"), std::string::npos) << r.out;
}

TEST_F(CliInspect, BadUsageExits2AndSaysWhy) {
  auto r = tasklane_cli({"inspect"});
  EXPECT_EQ(r.exit_code, cli::exit_bad_usage);
  EXPECT_NE(r.err.find("needs exactly one data directory"), std::string::npos) << r.err;
  r = tasklane_cli({"inspect", data().string(), "--status", "sleeping"});
  EXPECT_EQ(r.exit_code, cli::exit_bad_usage);
  EXPECT_NE(r.err.find("no status 'sleeping'"), std::string::npos) << r.err;
  r = tasklane_cli({"inspect", data().string(), "--colour"});
  EXPECT_EQ(r.exit_code, cli::exit_bad_usage);
  EXPECT_NE(r.err.find("unknown option --colour"), std::string::npos) << r.err;
  r = tasklane_cli({"inspect", (dir_->path / "nowhere").string()});
  EXPECT_EQ(r.exit_code, cli::exit_bad_usage);
  EXPECT_NE(r.err.find("no data directory"), std::string::npos) << r.err;
}

TEST(CliInspectRows, ALongErrorIsShownWholeOnOneLine) {
  TempDir dir("tasklane-cli-long-row");
  TaskInfo record;
  record.id = TaskId{7};
  record.spec.kind = "summarize";
  record.spec.owner = "alice";
  record.status = TaskStatus::Failed;
  record.attempt = 1;
  const std::string reason(3000, 'e');
  record.error = "model said:\n" + reason + "\nend";
  {
    auto opened = drivers::FileJournal::open(dir.path);
    ASSERT_TRUE(opened) << opened.error().message;
    opened.value().journal->append(record);
    ASSERT_TRUE(opened.value().journal->commit());
  }
  const auto r = tasklane_cli({"inspect", dir.path.string()});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.err;
  const auto at = r.out.find("model said: " + reason + " end\n");
  ASSERT_NE(at, std::string::npos) << "the whole error, its line breaks as spaces";
  const auto line_start = r.out.rfind('\n', at) + 1;
  EXPECT_EQ(r.out.compare(line_start, 4, "bg_7"), 0) << "on the task's own row";
}

TEST(CliInspectRecords, JsonOutputSurvivesBytesThatAreNotUtf8) {
  // Binary records keep a string's bytes as given (JSON records replaced bad UTF-8 when written).
  TempDir dir("tasklane-cli-inspect-bytes");
  TaskInfo record;
  record.id = TaskId{3};
  record.spec.kind = "bad\xff-kind";
  record.spec.owner = "alice";
  record.spec.durable = true;
  {
    auto opened = drivers::FileJournal::open(dir.path);
    ASSERT_TRUE(opened) << opened.error().message;
    opened.value().journal->append(record);
    ASSERT_TRUE(opened.value().journal->commit());
  }
  const auto r = tasklane_cli({"inspect", dir.path.string(), "--json"});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.err;
  const Json j = Json::parse(r.out);
  ASSERT_EQ(j.at("tasks").size(), 1u);
  EXPECT_EQ(j.at("tasks")[0].at("spec").value("kind", ""), "bad\ufffd-kind");
}

}  // namespace
}  // namespace tasklane::tools_test
