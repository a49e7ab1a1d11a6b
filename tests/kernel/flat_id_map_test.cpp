// FlatIdMap (the kernel's tree index, the table's page index, the running attempts) against std::map, over random
// puts and erases, and through growth and shrinking.
#include "tasklane/flat_id_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace tasklane {
namespace {

template <class Flat>
void agrees_with_std_map_over_random_puts_and_erases() {
  std::mt19937_64 rng(42);
  Flat flat;
  std::map<std::uint64_t, int> reference;
  for (int step = 0; step < 200000; ++step) {
    // A small key range gives long probe runs, collisions and wrap-around at the table's end.
    const std::uint64_t key = rng() % 3000;
    if (rng() % 3 == 0) {
      EXPECT_EQ(flat.erase(key), reference.erase(key) == 1) << "step " << step;
    } else {
      const int value = static_cast<int>(rng() % 1000);
      flat.put(key, value);
      reference[key] = value;
    }
    if (step % 997 == 0) {
      ASSERT_EQ(flat.size(), reference.size());
      for (std::uint64_t k = 0; k < 3000; ++k) {
        const auto it = reference.find(k);
        const int* found = flat.find(k);
        if (found == nullptr) {
          ASSERT_EQ(it, reference.end()) << "key " << k << " at step " << step;
          continue;
        }
        ASSERT_NE(it, reference.end()) << "key " << k << " at step " << step;
        EXPECT_EQ(*found, it->second);
      }
    }
  }
  std::size_t seen = 0;
  flat.for_each([&](std::uint64_t k, int v) {
    ++seen;
    EXPECT_EQ(reference.at(k), v);
  });
  EXPECT_EQ(seen, reference.size());
}

TEST(FlatIdMap, AgreesWithStdMapOverRandomPutsAndErases) {
  agrees_with_std_map_over_random_puts_and_erases<detail::FlatIdMap<int>>();
}

// A map kept at most a quarter full (RuntimeCore's running attempts) behaves the same.
TEST(FlatIdMap, AQuarterFullMapAgreesWithStdMapToo) {
  agrees_with_std_map_over_random_puts_and_erases<detail::FlatIdMap<int, 2>>();
}

TEST(FlatIdMap, EraseOfAnAbsentKeyChangesNothing) {
  detail::FlatIdMap<int> flat;
  EXPECT_FALSE(flat.erase(5));
  flat.put(5, 1);
  EXPECT_FALSE(flat.erase(6));
  EXPECT_EQ(flat.size(), 1u);
  EXPECT_TRUE(flat.erase(5));
  EXPECT_TRUE(flat.empty());
  EXPECT_EQ(flat.find(5), nullptr);
}

TEST(FlatIdMap, KeepsEveryEntryWhileGrowingAndShrinkingAgain) {
  detail::FlatIdMap<std::vector<std::uint64_t>> flat;
  for (std::uint64_t k = 0; k < 20000; ++k) flat[k / 3].push_back(k);  // operator[] inserts, then finds
  ASSERT_EQ(flat.size(), 6667u);
  for (std::uint64_t k = 0; k < 6667; ++k) {
    if (k % 100 != 0) {
      EXPECT_TRUE(flat.erase(k));  // down to 67 entries: the array shrinks on the way
    }
  }
  EXPECT_EQ(flat.size(), 67u);
  std::size_t seen = 0;
  flat.for_each([&](std::uint64_t k, const std::vector<std::uint64_t>& v) {
    ++seen;
    EXPECT_EQ(k % 100, 0u);
    EXPECT_EQ(v.front(), k * 3);
  });
  EXPECT_EQ(seen, 67u);
  for (std::uint64_t k = 0; k < 6667; ++k) {
    const auto* found = flat.find(k);
    ASSERT_EQ(found != nullptr, k % 100 == 0) << "key " << k;
  }
  flat[7].push_back(1);  // a key erased before comes back empty
  EXPECT_EQ(flat.find(7)->size(), 1u);
}

TEST(FlatIdMap, ReserveMakesRoomOnceSoLaterInsertsMoveNothing) {
  detail::FlatIdMap<std::uint64_t> flat;
  flat.put(5, 50);
  flat.reserve(1000);
  EXPECT_EQ(*flat.find(5), 50u);  // kept through the growth
  const std::uint64_t* first = flat.find(5);
  for (std::uint64_t k = 100; k < 1099; ++k) flat.put(k, k);  // 1000 entries in all: no rehash
  EXPECT_EQ(flat.find(5), first);
  EXPECT_EQ(flat.size(), 1000u);
  flat.reserve(10);  // smaller than what it holds: nothing changes
  EXPECT_EQ(flat.find(5), first);
  for (std::uint64_t k = 100; k < 1099; ++k) ASSERT_EQ(*flat.find(k), k);
}

}  // namespace
}  // namespace tasklane
