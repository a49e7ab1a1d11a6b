// The journal's format and the file journal on real files: group commit, snapshot, recovery,
// torn tails, damage in the middle, the directory lock.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/drivers/journal_format.hpp"
#include "drivers/temp_files.hpp"

namespace tasklane::drivers {
namespace {

namespace fs = std::filesystem;
using testfiles::read_bytes;
using testfiles::TempDir;
using testfiles::write_bytes;


TaskInfo record(std::uint64_t id, TaskStatus status = TaskStatus::Pending) {
  TaskInfo info;
  info.id = TaskId{id};
  info.spec.kind = "extract_facts";
  info.spec.owner = "alice";
  info.spec.durable = true;
  info.spec.payload = {{"turn", id}};
  info.status = status;
  info.due = Time{static_cast<std::int64_t>(id) * 1000};
  return info;
}


TEST(JournalFormat, EveryTruncationRestoresTheLongestCompletePrefix) {
  std::string bytes;
  std::vector<std::size_t> ends;
  for (std::uint64_t seq = 0; seq < 50; ++seq) {
    bytes += encode_journal_record(seq, "payload-" + std::string(seq % 7, 'x') + std::to_string(seq));
    ends.push_back(bytes.size());
  }
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    const JournalScan scan = scan_journal(std::string_view(bytes).substr(0, cut), 0);
    const auto complete = static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
    ASSERT_EQ(scan.frames.size(), complete) << "cut at " << cut;
    ASSERT_EQ(scan.valid_bytes, complete == 0 ? 0 : ends[complete - 1]);
    ASSERT_EQ(scan.damage_at.has_value(), cut != scan.valid_bytes);
    if (scan.damage_at) {
      ASSERT_TRUE(scan.torn) << "cut at " << cut << " taken for damage in the middle";
    }
    for (std::size_t i = 0; i < scan.frames.size(); ++i) ASSERT_EQ(scan.frames[i].seq, i);
  }
}

TEST(JournalFormat, EveryBitFlipIsDetectedAndDamageInTheMiddleIsNotTakenForATornTail) {
  std::string bytes;
  std::vector<std::size_t> starts;
  for (std::uint64_t seq = 0; bytes.size() < 4096; ++seq) {
    starts.push_back(bytes.size());
    bytes += encode_journal_record(seq, "record " + std::to_string(seq));
  }
  const std::size_t last_start = starts.back();
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string damaged = bytes;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    const JournalScan scan = scan_journal(damaged, 0);
    ASSERT_TRUE(scan.damage_at.has_value()) << "flip of bit " << bit << " went unnoticed";
    const auto damaged_record = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), bit / 8) - starts.begin()) - 1;
    ASSERT_EQ(scan.frames.size(), damaged_record) << "bit " << bit;
    if (bit / 8 < last_start) {
      ASSERT_FALSE(scan.torn) << "damage in record " << damaged_record << " taken for a torn tail";
    }
  }
}

TEST(JournalFormat, RandomGarbageSpansAreNeverAccepted) {
  std::string bytes;
  for (std::uint64_t seq = 0; seq < 40; ++seq) bytes += encode_journal_record(seq, "r" + std::to_string(seq));
  std::mt19937_64 gen(7);
  for (int round = 0; round < 1000; ++round) {
    std::string damaged = bytes;
    const std::size_t at = gen() % damaged.size();
    const std::size_t len = 1 + gen() % 32;
    bool changed = false;
    for (std::size_t i = at; i < std::min(damaged.size(), at + len); ++i) {
      const char c = static_cast<char>(gen());
      changed |= c != damaged[i];
      damaged[i] = c;
    }
    if (!changed) continue;
    const JournalScan scan = scan_journal(damaged, 0);
    ASSERT_TRUE(scan.damage_at.has_value()) << "round " << round;
    ASSERT_LE(scan.valid_bytes, at) << "a damaged record was accepted in round " << round;
  }
}

TEST(FileJournal, GroupCommitThenReopenRestoresEveryRecord) {
  TempDir dir;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened) << opened.error().message;
    auto& journal = *opened.value().journal;
    for (std::uint64_t id = 0; id < 5; ++id) journal.append(record(id));
    EXPECT_EQ(journal.buffered(), 5u);
    ASSERT_TRUE(journal.commit());
    EXPECT_EQ(journal.buffered(), 0u);
    journal.append(record(2, TaskStatus::Completed));
    ASSERT_TRUE(journal.commit());
  }
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  const auto& snap = reopened.value().recovery.snapshot;
  ASSERT_EQ(snap.tasks.size(), 5u);
  EXPECT_EQ(snap.tasks[2].status, TaskStatus::Completed);
  EXPECT_EQ(snap.tasks[4], record(4));
  EXPECT_EQ(snap.next_id, 5u);
  EXPECT_EQ(reopened.value().recovery.records_replayed, 6u);
  EXPECT_FALSE(reopened.value().recovery.torn_tail_at);
}

TEST(FileJournal, ReservedIdsRaiseTheRecoveredNextIdWithoutBecomingTasks) {
  TempDir dir;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened) << opened.error().message;
    auto& journal = *opened.value().journal;
    journal.append(record(3));
    journal.reserve_ids(1024);
    journal.reserve_ids(600);  // an older, smaller reservation never lowers the mark
    ASSERT_TRUE(journal.commit());
  }
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  const auto& snap = reopened.value().recovery.snapshot;
  ASSERT_EQ(snap.tasks.size(), 1u);
  EXPECT_EQ(snap.tasks[0], record(3));
  EXPECT_EQ(snap.next_id, 1024u);
  EXPECT_EQ(reopened.value().recovery.records_replayed, 1u) << "a reservation is not a task record";
}

TEST(FileJournal, AReservationWithABadValueIsDamage) {
  TempDir dir;
  fs::create_directories(dir.path());
  write_bytes(dir.path() / "journal.log",
              encode_journal_record(0, R"({"ids_reserved_below":"lots"})"));
  auto refused = FileJournal::open(dir.path());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, JournalError::Kind::Corrupt);
  EXPECT_NE(refused.error().message.find("ids_reserved_below"), std::string::npos) << refused.error().message;
}

TEST(FileJournal, SnapshotRestartsTheJournalAndLaterRecordsFollowIt) {
  TempDir dir;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened);
    auto& journal = *opened.value().journal;
    journal.append(record(0));
    journal.append(record(1));
    ASSERT_TRUE(journal.commit());
    Snapshot snapshot;
    snapshot.next_id = 2;
    snapshot.rng_state = 99;
    snapshot.tasks = {record(0), record(1)};
    ASSERT_TRUE(journal.write_snapshot(snapshot));
    EXPECT_EQ(journal.journal_bytes(), 0u);
    EXPECT_EQ(fs::file_size(journal.journal_path()), 0u);
    journal.append(record(1, TaskStatus::Failed));
    journal.append(record(2));
    ASSERT_TRUE(journal.commit());
  }
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  const auto& snap = reopened.value().recovery.snapshot;
  ASSERT_EQ(snap.tasks.size(), 3u);
  EXPECT_EQ(snap.tasks[1].status, TaskStatus::Failed);
  EXPECT_EQ(snap.rng_state, 99u);
  EXPECT_EQ(snap.next_id, 3u);
  EXPECT_EQ(reopened.value().journal->next_seq(), 4u);
}

// Quota usage lives in snapshots; attempts started after the last one are in the records only. A
// restart must count them, or an attempt quota ("at most N attempts ever") could be exceeded.
TEST(FileJournal, AttemptsStartedAfterTheSnapshotCountIntoTheirQuotaAtRecovery) {
  TempDir dir;
  const auto with_quota = [](std::uint64_t id, std::uint32_t attempt, TaskStatus status, std::string key) {
    TaskInfo r = record(id, status);
    r.spec.quota = QuotaSpec{std::move(key), milliseconds(10), 5, false};
    r.attempt = attempt;
    return r;
  };
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened);
    auto& journal = *opened.value().journal;
    Snapshot snapshot;
    snapshot.next_id = 2;
    snapshot.tasks = {with_quota(0, 1, TaskStatus::Completed, "compaction"), with_quota(1, 1, TaskStatus::Pending, "compaction")};
    snapshot.tasks[1].attempt = 1;  // failed once, waiting for its retry
    snapshot.quotas = {QuotaUsage{"compaction", 2, Time{1000}}};
    ASSERT_TRUE(journal.write_snapshot(snapshot));
    journal.append(with_quota(1, 2, TaskStatus::Running, "compaction"));    // attempt 2 started: +1
    journal.append(with_quota(1, 2, TaskStatus::Completed, "compaction"));  // the same attempt ends: +0
    TaskInfo fresh = with_quota(2, 1, TaskStatus::Running, "embedding");    // a new task, a new key: +1
    fresh.due = Time{9000};
    journal.append(fresh);
    journal.append(record(3));  // no quota
    ASSERT_TRUE(journal.commit());
  }
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  const auto& quotas = reopened.value().recovery.snapshot.quotas;
  ASSERT_EQ(quotas.size(), 2u);
  EXPECT_EQ(quotas[0].key, "compaction");
  EXPECT_EQ(quotas[0].attempts, 3u);
  EXPECT_EQ(quotas[1].key, "embedding") << "kept in key order";
  EXPECT_EQ(quotas[1].attempts, 1u);
  EXPECT_EQ(quotas[1].last_start, std::optional<Time>(Time{9000})) << "a running record's due time: its start or before";
  ASSERT_TRUE(quotas[0].last_start.has_value());
  EXPECT_GE(*quotas[0].last_start, Time{1000});
}

TEST(FileJournal, RecordsLeftFromBeforeASnapshotAreSkippedNotReplayedTwice) {
  TempDir dir;
  std::string old_journal;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened);
    auto& journal = *opened.value().journal;
    journal.append(record(0));
    journal.append(record(0, TaskStatus::Running));
    ASSERT_TRUE(journal.commit());
    old_journal = read_bytes(journal.journal_path());
    Snapshot snapshot;
    snapshot.tasks = {record(0, TaskStatus::Completed)};
    ASSERT_TRUE(journal.write_snapshot(snapshot));
  }
  write_bytes(dir.path() / "journal.log", old_journal);  // a crash lost the journal's truncation
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  ASSERT_EQ(reopened.value().recovery.snapshot.tasks.size(), 1u);
  EXPECT_EQ(reopened.value().recovery.snapshot.tasks[0].status, TaskStatus::Completed);
  EXPECT_EQ(reopened.value().recovery.records_replayed, 0u);
  EXPECT_EQ(fs::file_size(dir.path() / "journal.log"), 0u);
}

TEST(FileJournal, ATornTailIsCutOffAndReported) {
  TempDir dir;
  std::uint64_t full = 0;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened);
    auto& journal = *opened.value().journal;
    journal.append(record(0));
    journal.append(record(1));
    ASSERT_TRUE(journal.commit());
    full = journal.journal_bytes();
  }
  const auto path = dir.path() / "journal.log";
  fs::resize_file(path, full - 5);
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  const auto& recovery = reopened.value().recovery;
  ASSERT_EQ(recovery.snapshot.tasks.size(), 1u);
  ASSERT_TRUE(recovery.torn_tail_at);
  EXPECT_GT(recovery.torn_bytes, 0u);
  EXPECT_EQ(fs::file_size(path), *recovery.torn_tail_at);
}

TEST(FileJournal, DamageInTheMiddleRefusesToOpenNamesTheOffsetAndKeepsTheFileAside) {
  TempDir dir;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened);
    auto& journal = *opened.value().journal;
    for (std::uint64_t id = 0; id < 4; ++id) journal.append(record(id));
    ASSERT_TRUE(journal.commit());
  }
  const auto path = dir.path() / "journal.log";
  std::string bytes = read_bytes(path);
  const std::size_t second = journal_header_size + encode_journal_record(0, "x").size();  // inside record 1
  bytes[second] = static_cast<char>(bytes[second] ^ 0x10);
  write_bytes(path, bytes);

  auto refused = FileJournal::open(dir.path());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, JournalError::Kind::Corrupt);
  ASSERT_TRUE(refused.error().offset);
  EXPECT_NE(refused.error().message.find("journal.log"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("offset " + std::to_string(*refused.error().offset)), std::string::npos);
  ASSERT_TRUE(refused.error().moved_to);
  EXPECT_TRUE(fs::exists(*refused.error().moved_to));
  EXPECT_EQ(read_bytes(*refused.error().moved_to), bytes);
  EXPECT_FALSE(fs::exists(path));
}

TEST(FileJournal, TheDataDirectoryIsLockedAgainstASecondOwner) {
  TempDir dir;
  auto first = FileJournal::open(dir.path());
  ASSERT_TRUE(first);
  auto second = FileJournal::open(dir.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, JournalError::Kind::Locked);
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
}

TEST(FileJournal, ReadDataDirChangesNothing) {
  TempDir dir;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened);
    opened.value().journal->append(record(0));
    ASSERT_TRUE(opened.value().journal->commit());
  }
  const auto path = dir.path() / "journal.log";
  fs::resize_file(path, fs::file_size(path) - 1);
  const auto before = read_bytes(path);
  PosixFileSystem posix;
  auto recovery = read_data_dir(dir.path(), posix);
  ASSERT_TRUE(recovery);
  EXPECT_TRUE(recovery.value().torn_tail_at);
  EXPECT_EQ(read_bytes(path), before);
}

}  // namespace
}  // namespace tasklane::drivers

namespace tasklane::drivers {
namespace {

TEST(FileJournal, ASnapshotBeforeAnyRecordWorks) {
  TempDir dir;
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened);
    Snapshot snapshot;
    snapshot.next_id = 7;
    const auto written = opened.value().journal->write_snapshot(snapshot);
    ASSERT_TRUE(written) << written.error().message;
  }
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened.value().recovery.snapshot.next_id, 7u);
}

}  // namespace
}  // namespace tasklane::drivers
