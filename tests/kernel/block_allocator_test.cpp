// BlockAllocator: objects of one size carved out of 8 KB blocks, each block freed when its last
// object goes (one spare kept).
#include "../../core/src/block_allocator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <vector>

namespace tasklane {
namespace {

using Allocator = detail::BlockAllocator<176, 16>;

#if defined(TASKLANE_ASAN)
#define SKIP_UNDER_ASAN() GTEST_SKIP() << "under AddressSanitizer each object is its own allocation"
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

TEST(BlockAllocator, SlotsAreAlignedDistinctAndWritableAcrossManyBlocks) {
  Allocator a;
  std::vector<void*> slots;
  for (int i = 0; i < 1000; ++i) {
    void* p = a.allocate();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
    std::memset(p, i & 0xff, 176);  // the whole object: no neighbour's bytes are touched (ASan would say)
    slots.push_back(p);
  }
  for (int i = 0; i < 1000; ++i) {
    const auto* bytes = static_cast<const unsigned char*>(slots[static_cast<std::size_t>(i)]);
    ASSERT_EQ(bytes[0], i & 0xff) << "slot " << i << " was overwritten";
    ASSERT_EQ(bytes[175], i & 0xff) << "slot " << i << " was overwritten";
  }
  EXPECT_EQ(std::set<void*>(slots.begin(), slots.end()).size(), slots.size());
  for (void* p : slots) a.deallocate(p);
}

TEST(BlockAllocator, AFreedSlotServesTheNextObjectAndAnEmptyBlockGoes) {
  SKIP_UNDER_ASAN();
  Allocator a;
  EXPECT_EQ(a.blocks(), 0u);
  void* first = a.allocate();
  EXPECT_EQ(a.blocks(), 1u);
  a.deallocate(first);
  EXPECT_EQ(a.blocks(), 1u) << "the one empty block is kept as the spare";
  EXPECT_EQ(a.allocate(), first) << "the spare block's first slot again";
  std::vector<void*> slots;
  for (std::uint32_t i = 0; i < 3 * Allocator::per_block; ++i) slots.push_back(a.allocate());
  EXPECT_EQ(a.blocks(), 4u);  // `first` still holds its block's first slot
  void* freed = slots[Allocator::per_block + 5];
  a.deallocate(freed);
  EXPECT_EQ(a.allocate(), freed) << "a slot given back serves the next object";
  for (void* p : slots) a.deallocate(p);
  EXPECT_EQ(a.blocks(), 2u) << "the block of `first` and the spare";
  a.deallocate(first);
  EXPECT_EQ(a.blocks(), 1u);
}

TEST(BlockAllocator, RandomAllocationsAndFreesKeepBlocksBoundedByTheLiveObjects) {
  SKIP_UNDER_ASAN();
  Allocator a;
  std::mt19937_64 rng(11);
  std::vector<void*> live;
  std::set<void*> seen_live;
  for (int step = 0; step < 200000; ++step) {
    if (live.empty() || rng() % 100 < 55) {
      void* p = a.allocate();
      ASSERT_TRUE(seen_live.insert(p).second) << "a slot in use was handed out again";
      live.push_back(p);
    } else {
      const std::size_t i = rng() % live.size();
      a.deallocate(live[i]);
      seen_live.erase(live[i]);
      live[i] = live.back();
      live.pop_back();
    }
    // Every block but the spare holds a live object.
    ASSERT_LE(a.blocks(), live.size() + 1);
  }
  for (void* p : live) a.deallocate(p);
  EXPECT_EQ(a.blocks(), 1u);
}

TEST(BlockAllocator, AMoveCarriesTheBlocks) {
  Allocator a;
  void* p = a.allocate();
  Allocator b(std::move(a));
  EXPECT_EQ(a.blocks(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from allocator holds nothing
  b.deallocate(p);
  Allocator c;
  c = std::move(b);
  void* q = c.allocate();
  c.deallocate(q);
}

}  // namespace
}  // namespace tasklane
