// IdTable (the kernel's task table) against std::map: lookups, inserts, erases and id-order walks.
#include "../../core/src/id_table.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace tasklane {
namespace {

std::vector<std::pair<std::uint64_t, std::string>> walk(const detail::IdTable<std::string>& t) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const auto& [id, v] : t) out.emplace_back(id.value, v);
  return out;
}

std::vector<std::pair<std::uint64_t, std::string>> walk(const std::map<std::uint64_t, std::string>& m) {
  return {m.begin(), m.end()};
}

TEST(IdTable, AgreesWithStdMapOverRandomInsertsAndErases) {
  std::mt19937_64 rng(7);
  detail::IdTable<std::string> table;
  std::map<std::uint64_t, std::string> reference;
  std::uint64_t next = 0;
  for (int step = 0; step < 60000; ++step) {
    const auto r = rng() % 10;
    if (r < 5) {  // a new id, as spawn hands them out
      table[TaskId{next}] = std::to_string(step);
      reference[next] = std::to_string(step);
      ++next;
    } else if (r < 8 && next > 0) {  // erase a random id (present or not)
      const std::uint64_t id = rng() % next;
      const auto it = table.find(TaskId{id});
      ASSERT_EQ(it != table.end(), reference.count(id) == 1) << "id " << id;
      if (it != table.end()) {
        EXPECT_EQ(it->first.value, id);
        table.erase(it);
        reference.erase(id);
      }
    } else if (next > 0) {  // overwrite through operator[] (restore of an old id)
      const std::uint64_t id = rng() % next;
      table[TaskId{id}] = "again" + std::to_string(step);
      reference[id] = "again" + std::to_string(step);
    }
    ASSERT_EQ(table.size(), reference.size());
    if (step % 4999 == 0) {
      ASSERT_EQ(walk(table), walk(reference)) << "step " << step;
    }
  }
  EXPECT_EQ(walk(table), walk(reference));
  for (const auto& [id, v] : reference) {
    EXPECT_EQ(table.count(TaskId{id}), 1u);
    EXPECT_EQ(table.at(TaskId{id}), v);
  }
}

TEST(IdTable, EmptyPagesAreFreedAndWalksSkipGaps) {
  detail::IdTable<std::string> table;
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.begin(), table.end());
  table[TaskId{3}] = "a";
  table[TaskId{100000}] = "b";  // a page far away
  table[TaskId{5}] = "c";
  EXPECT_EQ(walk(table), (std::vector<std::pair<std::uint64_t, std::string>>{{3, "a"}, {5, "c"}, {100000, "b"}}));
  table.erase(table.find(TaskId{3}));
  table.erase(table.find(TaskId{5}));  // the first page is empty now
  EXPECT_EQ(walk(table), (std::vector<std::pair<std::uint64_t, std::string>>{{100000, "b"}}));
  EXPECT_EQ(table.find(TaskId{5}), table.end());
  EXPECT_EQ(table.count(TaskId{4}), 0u);
  EXPECT_THROW(table.at(TaskId{4}), std::out_of_range);
  table[TaskId{4}] = "d";  // the page comes back
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.begin()->first, TaskId{4});
}

}  // namespace
}  // namespace tasklane

namespace tasklane {
namespace {

TEST(IdTable, AnErasedEntrysMemoryServesTheNextOne) {
#if defined(TASKLANE_ASAN)
  GTEST_SKIP() << "under AddressSanitizer an erased entry is freed at once, so that a use after erase is reported";
#endif
  detail::IdTable<std::string> table;
  table[TaskId{1}] = std::string(100, 'a');  // a value that owns memory: it must be destroyed on erase
  const void* first = &table[TaskId{1}];
  table.erase(table.find(TaskId{1}));
  table[TaskId{2}] = "b";
  EXPECT_EQ(static_cast<const void*>(&table[TaskId{2}]), first) << "the spare memory was not reused";
  EXPECT_EQ(table.at(TaskId{2}), "b");
  EXPECT_EQ(table.count(TaskId{1}), 0u);
}

// Entries live in blocks: a burst takes a block per ~45 entries, and as the table empties the blocks
// go (one spare kept).
TEST(IdTable, EntryBlocksFollowTheLiveEntries) {
#if defined(TASKLANE_ASAN)
  GTEST_SKIP() << "under AddressSanitizer each entry is its own allocation";
#endif
  detail::IdTable<std::string> table;
  for (std::uint64_t i = 0; i < 1000; ++i) table[TaskId{i}] = "x";
  const std::size_t full = table.entry_blocks();
  using Entry = std::pair<const TaskId, std::string>;
  const std::size_t per_block = detail::BlockAllocator<sizeof(Entry), alignof(Entry)>::per_block;
  EXPECT_EQ(full, (1000 + per_block - 1) / per_block) << "the entries are not packed into full blocks";
  for (std::uint64_t i = 0; i < 1000; ++i) table.erase(table.find(TaskId{i}));
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.entry_blocks(), 1u) << "an empty table keeps one spare block";
  for (std::uint64_t i = 1000; i < 2000; ++i) table[TaskId{i}] = "y";
  EXPECT_EQ(table.entry_blocks(), full) << "the same burst again takes as many blocks";
}

// Under AddressSanitizer an erased entry's memory is freed at once (no block holds it), so a use of
// it is reported.
TEST(IdTableDeathTest, UnderAddressSanitizerAUseOfAnErasedEntryIsReported) {
#if !defined(TASKLANE_ASAN)
  GTEST_SKIP() << "only AddressSanitizer sees the erased entry";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        detail::IdTable<std::string> table;
        for (std::uint64_t i = 0; i < 4; ++i) table[TaskId{i}] = "x";
        const std::string* erased = &table[TaskId{1}];
        table.erase(table.find(TaskId{1}));
        std::fprintf(stderr, "%zu\n", erased->size());
      },
      "heap-use-after-free");
#endif
}

TEST(IdTable, MovesCarryTheEntriesAndLeaveTheSourceEmpty) {
  detail::IdTable<std::string> a;
  for (std::uint64_t i = 0; i < 600; ++i) a[TaskId{i}] = std::to_string(i);
  a.erase(a.find(TaskId{5}));  // a spare block travels too
  detail::IdTable<std::string> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from table is empty
  EXPECT_EQ(a.begin(), a.end());
  EXPECT_EQ(b.size(), 599u);
  detail::IdTable<std::string> c;
  c[TaskId{9999}] = "replaced";
  c = std::move(b);
  EXPECT_EQ(c.size(), 599u);
  EXPECT_EQ(c.count(TaskId{9999}), 0u);
  EXPECT_EQ(c.at(TaskId{599}), "599");
  a[TaskId{1}] = "reused";  // a moved-from table still works
  EXPECT_EQ(a.size(), 1u);
}

}  // namespace
}  // namespace tasklane
