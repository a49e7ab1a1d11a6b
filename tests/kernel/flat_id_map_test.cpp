// FlatIdMap (the ready queue's membership) against std::map, over random puts and erases.
#include "../../core/src/flat_id_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace tasklane {
namespace {

TEST(FlatIdMap, AgreesWithStdMapOverRandomPutsAndErases) {
  std::mt19937_64 rng(42);
  detail::FlatIdMap<int> flat;
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

}  // namespace
}  // namespace tasklane
