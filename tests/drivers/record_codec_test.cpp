// The journal's record bodies and the snapshot body: binary v1 round trips every field, JSON bodies
// from older journals still decode, and damaged binary bodies are refused with a message and a
// position, never a crash. The file-level tests open old JSON journals and snapshots.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "kernel/full_records.hpp"
#include "tasklane/drivers/crc32c.hpp"
#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/drivers/journal_format.hpp"
#include "tasklane/drivers/record_codec.hpp"
#include "tasklane/json.hpp"
#include "drivers/temp_files.hpp"

namespace tasklane::drivers {
namespace {

namespace fs = std::filesystem;
using testfiles::read_bytes;
using testfiles::TempDir;
using testfiles::write_bytes;
using testkit::full_info;

Snapshot full_snapshot() {
  TaskInfo second = full_info();
  second.id = TaskId{43};
  second.spec = TaskSpec{};
  second.spec.kind = "sleep";
  return Snapshot{44, 0xdeadbeefcafef00dULL, {full_info(), second},
                  {QuotaUsage{"session-7/compaction", 2, Time{1'700'000'000'000'000}}, QuotaUsage{"other", 1, {}}},
                  {RateLimitUsage{"openai", 3, Time{-5}}},
                  {"alice"},
                  {"compaction"}};
}

std::string task_body(const TaskInfo& info) {
  std::string body;
  append_task_body(body, info);
  return body;
}

TaskInfo decoded_task(std::string_view body) {
  auto decoded = decode_record_body(body);
  if (!decoded) {
    ADD_FAILURE() << decoded.error().message;
    return {};
  }
  if (!std::holds_alternative<TaskInfo>(decoded.value())) {
    ADD_FAILURE() << "not a task record";
    return {};
  }
  return std::get<TaskInfo>(decoded.value());
}

// The error of a body that must be refused.
BodyError refused(std::string_view body) {
  auto decoded = decode_record_body(body);
  if (decoded) {
    ADD_FAILURE() << "a damaged body was accepted";
    return {};
  }
  return decoded.error();
}

#define EXPECT_MENTIONS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(BinaryRecord, EveryFieldRoundTrips) {
  const TaskInfo info = full_info();
  const std::string body = task_body(info);
  EXPECT_EQ(static_cast<std::uint8_t>(body[0]), body_tag_task_v1);
  EXPECT_EQ(decoded_task(body), info);
}

TEST(BinaryRecord, EachFieldAloneRoundTrips) {
  // One field away from its default at a time: a presence bit that is set or read wrong shows here.
  const TaskInfo full = full_info();
  std::vector<std::function<void(TaskInfo&)>> setters = {
      [&](TaskInfo& t) { t.spec.durable = true; },
      [&](TaskInfo& t) { t.spec.owner = full.spec.owner; },
      [&](TaskInfo& t) { t.spec.payload = full.spec.payload; },
      [&](TaskInfo& t) { t.spec.run_after = Duration{-3}; },
      [&](TaskInfo& t) { t.finished_at = Time{0}; },
      [&](TaskInfo& t) { t.error = ""; },
      [&](TaskInfo& t) { t.result = Json::array(); },
      [&](TaskInfo& t) { t.cancel_requested = true; },
      [&](TaskInfo& t) { t.spec.description = "d"; },
      [&](TaskInfo& t) { t.spec.name = ""; },
      [&](TaskInfo& t) { t.spec.priority = Priority::Critical; },
      [&](TaskInfo& t) { t.spec.key = SequenceKey{}; },
      [&](TaskInfo& t) { t.spec.timeout = Duration{std::numeric_limits<std::int64_t>::max()}; },
      [&](TaskInfo& t) { t.spec.heartbeat = Duration{std::numeric_limits<std::int64_t>::min()}; },
      [&](TaskInfo& t) { t.spec.retry.jitter = 1.0; },
      [&](TaskInfo& t) { t.spec.retry.non_retryable_errors = {""}; },
      [&](TaskInfo& t) { t.spec.quota = QuotaSpec{}; },
      [&](TaskInfo& t) { t.spec.dedup = DedupSpec{"k", DedupMode::KeepExisting}; },
      [&](TaskInfo& t) { t.spec.rate_limit = RateLimit{"k", std::numeric_limits<std::uint32_t>::max(), Duration{1}}; },
      [&](TaskInfo& t) { t.spec.after = {TaskId{std::numeric_limits<std::uint64_t>::max()}}; },
      [&](TaskInfo& t) { t.spec.after_mode = DependencyMode::AllFinished; },  // also without `after`
      [&](TaskInfo& t) { t.spec.repeat = Repeat{Duration{1}, RepeatMode::FixedRate, std::nullopt}; },
      [&](TaskInfo& t) { t.spec.parent.call = "c"; },
      [&](TaskInfo& t) { t.spec.parent.task = TaskId{0}; },
      [&](TaskInfo& t) { t.spec.inbox = true; },
      [&](TaskInfo& t) { t.waiting_for = {TaskId{1}, TaskId{2}}; },
      [&](TaskInfo& t) { t.paused = true; },
      [&](TaskInfo& t) { t.series = TaskId{0}; },
      [&](TaskInfo& t) { t.run = 1; },
      [&](TaskInfo& t) { t.series_end = "why"; },
      [&](TaskInfo& t) { t.status = TaskStatus::Cancelled; },
      [&](TaskInfo& t) { t.attempt = std::numeric_limits<std::uint32_t>::max(); },
      [&](TaskInfo& t) { t.created_at = Time{-1'700'000'000'000'000}; },
  };
  for (std::size_t i = 0; i < setters.size(); ++i) {
    TaskInfo info;
    info.id = TaskId{i};
    info.spec.kind = "k";
    setters[i](info);
    EXPECT_EQ(decoded_task(task_body(info)), info) << "setter " << i;
  }
}

TEST(BinaryRecord, JsonValuesOfEveryTypeRoundTrip) {
  const std::vector<Json> values = {
      nullptr, true, false, 0, -1, std::numeric_limits<std::int64_t>::min(),
      std::numeric_limits<std::uint64_t>::max(), 0.1, -0.0, 1e300, 5e-324, 1.5f, "", "\u00e9\u2713\U0001F600",
      std::string("nul\0inside", 10), Json::array(), Json::object(), Json{{"a", {{"b", {1, "two", 3.5, nullptr}}}}},
      Json::binary({1, 2, 3}, 7)};
  for (const Json& v : values) {
    TaskInfo info;
    info.spec.kind = "k";
    info.spec.payload = v;
    info.result = v;
    const TaskInfo back = decoded_task(task_body(info));
    EXPECT_EQ(back, info) << v.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (v.is_number_float()) {
      EXPECT_EQ(std::signbit(back.spec.payload.get<double>()), std::signbit(v.get<double>()));
    }
  }
}

TEST(BinaryRecord, NonFiniteNumbersInJsonValuesReadAsNullAsThroughJsonText) {
  TaskInfo info;
  info.spec.kind = "k";
  info.spec.payload = Json{{"nan", std::nan("")}, {"inf", HUGE_VAL}, {"x", 1.5}};
  const TaskInfo back = decoded_task(task_body(info));
  EXPECT_EQ(back.spec.payload, (Json{{"nan", nullptr}, {"inf", nullptr}, {"x", 1.5}}));
}

TEST(BinaryRecord, ADefaultRecordIsSmall) {
  TaskInfo info;
  info.id = TaskId{123456};
  info.spec.kind = "noop";
  info.spec.owner = "bench";
  info.spec.durable = true;
  info.spec.run_after = seconds(3600);
  const std::string body = task_body(info);
  EXPECT_LT(body.size(), 32u) << "defaults must cost nothing";
  EXPECT_LT(body.size() * 10, to_json(info).dump().size());
}

TEST(BinaryRecord, IdReservationsRoundTrip) {
  for (const std::uint64_t below : {std::uint64_t{0}, std::uint64_t{1024}, std::numeric_limits<std::uint64_t>::max()}) {
    std::string body;
    append_ids_reserved_body(body, below);
    auto decoded = decode_record_body(body);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(std::get<IdsReserved>(decoded.value()).below, below);
  }
}

TEST(JsonRecord, OldJsonBodiesStillDecode) {
  const TaskInfo info = full_info();
  EXPECT_EQ(decoded_task(to_json(info).dump()), info);
  auto reserved = decode_record_body(R"({"ids_reserved_below": 2048})");
  ASSERT_TRUE(reserved) << reserved.error().message;
  EXPECT_EQ(std::get<IdsReserved>(reserved.value()).below, 2048u);
  EXPECT_MENTIONS(refused(R"({"ids_reserved_below": -1})").message, "ids_reserved_below");
  EXPECT_MENTIONS(refused(R"({"id": "bg_1"})").message, "task.spec");
  EXPECT_MENTIONS(refused("{not json").message, "JSON");
}

TEST(BinaryRecord, EveryTruncationIsRefused) {
  const std::string body = task_body(full_info());
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    const BodyError e = refused(std::string_view(body).substr(0, cut));
    EXPECT_FALSE(e.message.empty()) << "cut at " << cut;
    EXPECT_LE(e.at, cut);
  }
}

TEST(BinaryRecord, DamageIsRefusedWithWhatAndWhere) {
  TaskInfo info;
  info.spec.kind = "noop";
  const std::string body = task_body(info);
  // tag, fields, id, status, attempt, created, due, kind length, "noop"
  ASSERT_EQ(body.size(), 12u);

  std::string bad_status = body;
  bad_status[3] = 9;
  const BodyError status = refused(bad_status);
  EXPECT_MENTIONS(status.message, "status: 9 is no known value");
  EXPECT_EQ(status.at, 4u) << "just after the status byte";

  std::string long_kind = body;
  long_kind[7] = 100;
  EXPECT_MENTIONS(refused(long_kind).message, "spec.kind: length 100 runs past the end (4 bytes left)");

  std::string huge_kind = body.substr(0, 7) + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
  EXPECT_MENTIONS(refused(huge_kind).message, "spec.kind: length");

  EXPECT_MENTIONS(refused(body + "xyz").message, "3 trailing bytes");

  std::string unknown_bit = body;
  unknown_bit.replace(1, 1, "\x80\x80\x80\x80\x02");  // fields = 1 << 29
  EXPECT_MENTIONS(refused(unknown_bit).message, "unknown field bits 0x20000000");

  std::string overlong = body.substr(0, 2) + std::string(10, '\xff') + body.substr(3);
  EXPECT_MENTIONS(refused(overlong).message, "id: varint");

  EXPECT_MENTIONS(refused("\x07xyz").message, "unknown record tag 0x07");
  EXPECT_MENTIONS(refused(std::string("\x02\x05\x00", 3)).message, "1 trailing bytes");
  EXPECT_MENTIONS(refused("").message, "empty record");
}

TEST(BinaryRecord, BadValuesInsideFieldsAreRefused) {
  TaskInfo info;
  info.spec.kind = "k";
  info.spec.repeat = Repeat{seconds(1), RepeatMode::FixedRate, std::nullopt};
  std::string body = task_body(info);
  // The body ends with every (zigzag 1'000'000: 3 bytes), mode, times: make every zero.
  const std::size_t every = body.size() - 5;
  body.replace(every, 3, std::string(1, '\0'));
  EXPECT_MENTIONS(refused(body).message, "spec.repeat.every: must be positive");

  TaskInfo retry;
  retry.spec.kind = "k";
  retry.spec.retry.multiplier = 3.0;
  std::string nan_body = task_body(retry);
  const std::size_t multiplier = nan_body.find(std::string("\x00\x00\x00\x00\x00\x00\x08\x40", 8));
  ASSERT_NE(multiplier, std::string::npos);
  nan_body.replace(multiplier, 8, std::string("\x00\x00\x00\x00\x00\x00\xf8\x7f", 8));
  EXPECT_MENTIONS(refused(nan_body).message, "spec.retry.multiplier: not a finite number");

  TaskInfo payload;
  payload.spec.kind = "k";
  payload.spec.payload = 1;
  std::string deep = task_body(payload);
  // Replace the one-byte MessagePack value with 600 nested one-element arrays around a null.
  deep.resize(deep.size() - 2);
  std::string packed(600, '\x91');
  packed += '\xc0';
  deep += "\xd9\x04";  // varint 601 = 0xd9 0x04
  deep += packed;
  EXPECT_MENTIONS(refused(deep).message, "nested more than 512 levels deep");

  std::string junk = task_body(payload);
  junk[junk.size() - 1] = '\xc1';  // never used in MessagePack
  EXPECT_MENTIONS(refused(junk).message, "spec.payload: not a valid MessagePack value");
}

TEST(BinarySnapshot, RoundTripsAndOldJsonStillDecodes) {
  const Snapshot snapshot = full_snapshot();
  const std::string body = encode_snapshot_body(snapshot);
  auto back = decode_snapshot_body(body);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back.value(), snapshot);
  auto empty = decode_snapshot_body(encode_snapshot_body(Snapshot{}));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty.value(), Snapshot{});
  auto old = decode_snapshot_body(to_json(snapshot).dump());
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old.value(), snapshot);
}

TEST(BinarySnapshot, DamageNamesTheTaskAndTheByte) {
  Snapshot snapshot = full_snapshot();
  snapshot.tasks[1] = TaskInfo{};
  snapshot.tasks[1].id = TaskId{43};
  snapshot.tasks[1].spec.kind = "unique-kind";
  // The second task's fields (0) and id (43) take a byte each; its status is the third byte.
  const std::string second = [&] {
    std::string b;
    append_task_body(b, snapshot.tasks[1]);
    return b.substr(1);
  }();
  std::string body = encode_snapshot_body(snapshot);
  const std::size_t start = body.find(second);
  ASSERT_NE(start, std::string::npos);
  body[start + 2] = 17;
  auto refused_snapshot = decode_snapshot_body(body);
  ASSERT_FALSE(refused_snapshot);
  EXPECT_MENTIONS(refused_snapshot.error().message, "tasks[1]: status: 17 is no known value");
  EXPECT_EQ(refused_snapshot.error().at, start + 3);

  EXPECT_MENTIONS(decode_snapshot_body(encode_snapshot_body(snapshot) + "x").error().message, "1 trailing bytes");
  EXPECT_MENTIONS(decode_snapshot_body("\x05").error().message, "unknown snapshot tag 0x05");
  const std::string many_tasks("\x01\x00\x00\xff\xff\x03", 6);
  EXPECT_MENTIONS(decode_snapshot_body(many_tasks).error().message, "tasks: length");
  const std::string full = encode_snapshot_body(snapshot);
  for (std::size_t cut = 0; cut < full.size(); ++cut) EXPECT_FALSE(decode_snapshot_body(full.substr(0, cut))) << cut;
}

// ---- files ----------------------------------------------------------------------------------------



TEST(FileJournalFormats, AnOldJsonJournalOpensAndNewRecordsFollowItInBinary) {
  TempDir dir;
  TaskInfo first = full_info();
  first.id = TaskId{1};
  TaskInfo second = full_info();
  second.id = TaskId{2};
  std::string old_journal = encode_journal_record(0, to_json(first).dump());
  old_journal += encode_journal_record(1, R"({"ids_reserved_below":1024})");
  old_journal += encode_journal_record(2, to_json(second).dump());
  write_bytes(dir.path() / "journal.log", old_journal);
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened.value().recovery.snapshot.tasks, (std::vector<TaskInfo>{first, second}));
    EXPECT_EQ(opened.value().recovery.snapshot.next_id, 1024u);
    TaskInfo done = first;
    done.status = TaskStatus::Completed;
    opened.value().journal->append(done);
    ASSERT_TRUE(opened.value().journal->commit());
    first = done;
  }
  const std::string bytes = read_bytes(dir.path() / "journal.log");
  ASSERT_GT(bytes.size(), old_journal.size());
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[old_journal.size() + journal_header_size]), body_tag_task_v1);
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened.value().recovery.snapshot.tasks, (std::vector<TaskInfo>{first, second}));
}

TEST(FileJournalFormats, AnOldJsonSnapshotOpensAndTheNextSnapshotIsBinary) {
  TempDir dir;
  Snapshot snapshot = full_snapshot();
  const std::string body = to_json(snapshot).dump();
  write_bytes(dir.path() / "snapshot", "tasklane-snapshot v1 0 " + std::to_string(body.size()) + " " +
                                           std::to_string(crc32c(body)) + "\n" + body);
  {
    auto opened = FileJournal::open(dir.path());
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened.value().recovery.snapshot, snapshot);
    ASSERT_TRUE(opened.value().journal->write_snapshot(snapshot));
  }
  const std::string bytes = read_bytes(dir.path() / "snapshot");
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[bytes.find('\n') + 1]), body_tag_snapshot_v1);
  auto reopened = FileJournal::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened.value().recovery.snapshot, snapshot);
}

TEST(FileJournalFormats, ADamagedBinaryBodyRefusesToOpenNamingFileAndOffsets) {
  TempDir dir;
  TaskInfo info;
  info.spec.kind = "noop";
  std::string body;
  append_task_body(body, info);
  body[3] = 9;  // status
  const std::string good = [] {
    std::string b;
    TaskInfo t;
    t.spec.kind = "ok";
    append_task_body(b, t);
    return encode_journal_record(0, b);
  }();
  write_bytes(dir.path() / "journal.log", good + encode_journal_record(1, body));  // the checksum is right
  auto opened = FileJournal::open(dir.path());
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().kind, JournalError::Kind::Corrupt);
  ASSERT_TRUE(opened.error().offset);
  EXPECT_EQ(*opened.error().offset, good.size());
  EXPECT_MENTIONS(opened.error().message, "journal.log is damaged at offset " + std::to_string(good.size()));
  EXPECT_MENTIONS(opened.error().message, "record 1: binary task record: status: 9 is no known value (0..5) (at byte 4)");
  EXPECT_MENTIONS(opened.error().message, "is at offset " + std::to_string(good.size() + journal_header_size + 4) + " of the file");
}

TEST(FileJournalFormats, ADamagedBinarySnapshotNamesItsOffset) {
  TempDir dir;
  std::string body = encode_snapshot_body(full_snapshot());
  body += "!";
  const std::string header = "tasklane-snapshot v1 0 " + std::to_string(body.size()) + " " + std::to_string(crc32c(body)) + "\n";
  write_bytes(dir.path() / "snapshot", header + body);
  auto opened = FileJournal::open(dir.path());
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().kind, JournalError::Kind::Corrupt);
  ASSERT_TRUE(opened.error().offset);
  EXPECT_EQ(*opened.error().offset, header.size() + body.size() - 1);
  EXPECT_MENTIONS(opened.error().message, "1 trailing bytes");
}

TEST(FileJournalFormats, JournalRecordsReplaceSnapshotTasksInOrderOrNot) {
  for (const bool sorted : {true, false}) {
    TempDir dir;
    const auto task = [](std::uint64_t id, TaskStatus status) {
      TaskInfo t;
      t.id = TaskId{id};
      t.spec.kind = "k";
      t.status = status;
      return t;
    };
    Snapshot snapshot;
    snapshot.tasks = sorted ? std::vector<TaskInfo>{task(2, TaskStatus::Pending), task(5, TaskStatus::Pending), task(9, TaskStatus::Pending)}
                            : std::vector<TaskInfo>{task(5, TaskStatus::Pending), task(2, TaskStatus::Pending), task(9, TaskStatus::Pending)};
    {
      auto opened = FileJournal::open(dir.path());
      ASSERT_TRUE(opened) << opened.error().message;
      auto& journal = *opened.value().journal;
      ASSERT_TRUE(journal.write_snapshot(snapshot));
      journal.append(task(5, TaskStatus::Running));
      journal.append(task(1, TaskStatus::Pending));
      journal.append(task(7, TaskStatus::Pending));
      journal.append(task(5, TaskStatus::Completed));
      journal.append(task(9, TaskStatus::Failed));
      ASSERT_TRUE(journal.commit());
    }
    auto reopened = FileJournal::open(dir.path());
    ASSERT_TRUE(reopened) << reopened.error().message;
    EXPECT_EQ(reopened.value().recovery.snapshot.tasks,
              (std::vector<TaskInfo>{task(1, TaskStatus::Pending), task(2, TaskStatus::Pending), task(5, TaskStatus::Completed),
                                     task(7, TaskStatus::Pending), task(9, TaskStatus::Failed)}))
        << (sorted ? "sorted" : "unsorted") << " snapshot";
    EXPECT_EQ(reopened.value().recovery.snapshot.next_id, 10u);
  }
}

}  // namespace
}  // namespace tasklane::drivers
