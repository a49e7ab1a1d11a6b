// Crash at every step of the journal's life: appends, group commits, a snapshot-and-compaction
// cycle (temp file, rename, directory sync, journal cut), and more commits. For every operation
// the file system can fail at, the machine then loses everything not durable and restarts:
// every acknowledged record must be recovered, and nothing that was never written may appear.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "drivers/fault_file_system.hpp"
#include "tasklane/drivers/file_journal.hpp"

namespace tasklane::drivers {
namespace {

using testing::FaultFileSystem;

TaskInfo version(std::uint64_t id, std::uint32_t attempt) {
  TaskInfo info;
  info.id = TaskId{id};
  info.spec.kind = "facts";
  info.spec.owner = "alice";
  info.spec.durable = true;
  info.attempt = attempt;
  return info;
}

struct Outcome {
  std::map<std::uint64_t, std::uint32_t> acknowledged;  // id -> latest acknowledged attempt
  std::map<std::uint64_t, std::set<std::uint32_t>> written;  // every version ever handed to the journal
};

// The scenario; stops at the first failure as a process would.
Outcome run_scenario(const std::shared_ptr<FaultFileSystem>& fs) {
  Outcome out;
  auto opened = FileJournal::open("/data", fs);
  if (!opened) return out;
  FileJournal& journal = *opened.value().journal;
  std::map<std::uint64_t, TaskInfo> state;
  auto batch = [&](std::initializer_list<std::pair<std::uint64_t, std::uint32_t>> records) {
    for (const auto& [id, attempt] : records) {
      journal.append(version(id, attempt));
      out.written[id].insert(attempt);
    }
    if (!journal.commit()) return false;
    for (const auto& [id, attempt] : records) {
      out.acknowledged[id] = attempt;
      state[id] = version(id, attempt);
    }
    return true;
  };
  auto snapshot = [&] {
    Snapshot s;
    for (const auto& [id, t] : state) s.tasks.push_back(t);
    return journal.write_snapshot(s).has_value();
  };
  if (!batch({{0, 0}, {1, 0}})) return out;
  if (!batch({{0, 1}, {2, 0}, {3, 0}})) return out;
  if (!snapshot()) return out;
  if (!batch({{1, 1}, {4, 0}})) return out;
  if (!batch({{4, 1}})) return out;
  if (!snapshot()) return out;
  batch({{5, 0}, {2, 1}});
  return out;
}

TEST(JournalCrash, EveryAcknowledgedRecordSurvivesACrashAtEveryOperation) {
  auto clean = std::make_shared<FaultFileSystem>();
  const Outcome full = run_scenario(clean);
  ASSERT_EQ(full.acknowledged.size(), 6u) << "the scenario without faults acknowledges everything";
  const std::size_t steps = clean->operations();
  ASSERT_GT(steps, 20u);
  int passed = 0, failed = 0;
  for (std::size_t crash_at = 1; crash_at <= steps + 1; ++crash_at) {
    auto fs = std::make_shared<FaultFileSystem>();
    fs->fail_at(crash_at);
    const Outcome outcome = run_scenario(fs);
    auto rebooted = std::make_shared<FaultFileSystem>(fs->crashed());
    auto recovered = FileJournal::open("/data", rebooted);
    bool ok = true;
    if (!recovered) {
      ADD_FAILURE() << "crash at operation " << crash_at << ": recovery failed: " << recovered.error().message;
      ++failed;
      continue;
    }
    std::map<std::uint64_t, std::uint32_t> found;
    for (const auto& t : recovered.value().recovery.snapshot.tasks) found[t.id.value] = t.attempt;
    for (const auto& [id, attempt] : outcome.acknowledged) {
      if (!found.count(id) || found[id] < attempt) {
        ADD_FAILURE() << "crash at operation " << crash_at << ": acknowledged bg_" << id << " attempt " << attempt
                      << " lost (found " << (found.count(id) ? std::to_string(found[id]) : "nothing") << ")";
        ok = false;
      }
    }
    for (const auto& [id, attempt] : found) {
      if (!outcome.written.count(id) || !outcome.written.at(id).count(attempt)) {
        ADD_FAILURE() << "crash at operation " << crash_at << ": phantom bg_" << id << " attempt " << attempt;
        ok = false;
      }
    }
    (ok ? passed : failed)++;
  }
  std::printf("journal-crash: %d passed, %d failed (%zu crash points)\n", passed, failed, steps + 1);
  EXPECT_EQ(failed, 0);
}

TEST(JournalCrash, TheFaultFileSystemForgetsWhatWasNotSynced) {
  FaultFileSystem fs;
  ASSERT_TRUE(fs.append("/d/a", "written"));
  ASSERT_TRUE(fs.sync("/d/a"));
  ASSERT_TRUE(fs.append("/d/a", " and more"));
  EXPECT_TRUE(fs.crashed().names.empty()) << "the name was never made durable by a directory sync";
  ASSERT_TRUE(fs.sync_dir("/d"));
  const auto after = fs.crashed();
  ASSERT_EQ(after.names.count("/d/a"), 1u);
  EXPECT_EQ(after.names.at("/d/a")->data, "written");
}

}  // namespace
}  // namespace tasklane::drivers
