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

// Sixteen consecutive ids share one block of memory (one allocation for sixteen spawns).
TEST(IdTable, ConsecutiveIdsShareAChunk) {
  detail::IdTable<std::string> table;
  for (std::uint64_t i = 16; i < 48; ++i) table[TaskId{i}] = std::to_string(i);
  const auto* base = reinterpret_cast<const char*>(&table.at(TaskId{16}));
  const std::ptrdiff_t stride = reinterpret_cast<const char*>(&table.at(TaskId{17})) - base;
  EXPECT_GE(stride, static_cast<std::ptrdiff_t>(sizeof(std::string)));
  for (std::uint64_t i = 16; i < 32; ++i) {
    EXPECT_EQ(reinterpret_cast<const char*>(&table.at(TaskId{i})) - base, static_cast<std::ptrdiff_t>(i - 16) * stride)
        << "id " << i << " is not in its chunk's slot";
  }
  table.erase(table.find(TaskId{20}));  // the chunk still holds the others, which stay where they are
  EXPECT_EQ(table.at(TaskId{21}), "21");
  EXPECT_EQ(reinterpret_cast<const char*>(&table.at(TaskId{21})) - base, 5 * stride);
  table[TaskId{20}] = "back";  // an id erased and given again takes its slot back
  EXPECT_EQ(reinterpret_cast<const char*>(&table.at(TaskId{20})) - base, 4 * stride);
  EXPECT_EQ(table.size(), 32u);
}

// Values are destroyed when erased, though their chunk lives on for its other entries.
TEST(IdTable, AnErasedEntryIsDestroyedAtOnceAndEveryEntryWithTheTable) {
  struct Counted {
    int* destroyed = nullptr;
    Counted() = default;
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
    ~Counted() {
      if (destroyed) ++*destroyed;
    }
  };
  int destroyed = 0;
  {
    detail::IdTable<Counted> table;
    for (std::uint64_t i = 0; i < 40; ++i) table[TaskId{i}].destroyed = &destroyed;
    table.erase(table.find(TaskId{3}));
    EXPECT_EQ(destroyed, 1);
    for (std::uint64_t i = 16; i < 32; ++i) table.erase(table.find(TaskId{i}));  // a whole chunk
    EXPECT_EQ(destroyed, 17);
  }
  EXPECT_EQ(destroyed, 40);
}

TEST(IdTable, AnEmptiedChunksMemoryServesTheNextChunk) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "under AddressSanitizer an emptied chunk is freed at once, so that a use after erase is reported";
#endif
  detail::IdTable<std::string> table;
  for (std::uint64_t i = 0; i < 16; ++i) table[TaskId{i}] = std::string(100, 'a');  // values that own memory
  const void* first = &table[TaskId{0}];
  for (std::uint64_t i = 0; i < 16; ++i) table.erase(table.find(TaskId{i}));
  table[TaskId{16}] = "b";
  EXPECT_EQ(static_cast<const void*>(&table[TaskId{16}]), first) << "the spare chunk was not reused";
  EXPECT_EQ(table.at(TaskId{16}), "b");
  EXPECT_EQ(table.count(TaskId{0}), 0u);
}

// A chunk outlives its erased entries; AddressSanitizer still reports a use of one.
TEST(IdTableDeathTest, UnderAddressSanitizerAUseOfAnErasedEntryIsReported) {
#if !defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "only AddressSanitizer sees the erased slot";
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
      "use-after-poison");
#endif
}

TEST(IdTable, MovesCarryTheEntriesAndLeaveTheSourceEmpty) {
  detail::IdTable<std::string> a;
  for (std::uint64_t i = 0; i < 600; ++i) a[TaskId{i}] = std::to_string(i);
  for (std::uint64_t i = 0; i < 16; ++i) a.erase(a.find(TaskId{i}));  // a spare chunk travels too
  a.erase(a.find(TaskId{20}));
  detail::IdTable<std::string> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from table is empty
  EXPECT_EQ(a.begin(), a.end());
  EXPECT_EQ(b.size(), 583u);
  detail::IdTable<std::string> c;
  c[TaskId{9999}] = "replaced";
  c = std::move(b);
  EXPECT_EQ(c.size(), 583u);
  EXPECT_EQ(c.count(TaskId{9999}), 0u);
  EXPECT_EQ(c.at(TaskId{599}), "599");
  a[TaskId{1}] = "reused";  // a moved-from table still works
  EXPECT_EQ(a.size(), 1u);
}

}  // namespace
}  // namespace tasklane
