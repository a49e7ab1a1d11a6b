// IdSet (the per-owner index) against std::set: inserts, erases, counts and in-order walks.
#include "../../core/src/id_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace tasklane {
namespace {

TEST(IdSet, AgreesWithStdSetOverRandomInsertsAndErases) {
  std::mt19937_64 rng(11);
  detail::IdSet ids;
  std::set<TaskId> reference;
  for (int step = 0; step < 50000; ++step) {
    const TaskId id{rng() % 5000};
    if (rng() % 5 < 3) {
      EXPECT_EQ(ids.insert(id), reference.insert(id).second);
    } else {
      EXPECT_EQ(ids.erase(id), reference.erase(id));
    }
    ASSERT_EQ(ids.size(), reference.size());
    if (step % 997 == 0) {
      const std::vector<TaskId> walked(ids.begin(), ids.end());
      ASSERT_EQ(walked, std::vector<TaskId>(reference.begin(), reference.end())) << "step " << step;
    }
  }
  for (std::uint64_t v = 0; v < 5000; ++v) EXPECT_EQ(ids.count(TaskId{v}), reference.count(TaskId{v}));
}

TEST(IdSet, WalksAcrossBlocksAndWordsInOrder) {
  detail::IdSet ids;
  const std::vector<TaskId> expected{TaskId{0}, TaskId{63}, TaskId{64}, TaskId{255}, TaskId{256}, TaskId{1u << 20}};
  for (auto it = expected.rbegin(); it != expected.rend(); ++it) ids.insert(*it);
  EXPECT_EQ(std::vector<TaskId>(ids.begin(), ids.end()), expected);
  for (const TaskId id : expected) ids.erase(id);
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(ids.begin(), ids.end());
}

// The common pattern: ids enter at the top and leave from the bottom (a FIFO across many blocks).
TEST(IdSet, AgreesWithStdSetWhenIdsEnterInOrderAndLeaveOldestFirst) {
  detail::IdSet ids;
  std::set<std::uint64_t> model;
  std::uint64_t next = 0, oldest = 0;
  for (int step = 0; step < 5000; ++step) {
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(ids.insert(TaskId{next}));
      model.insert(next++);
    }
    for (int i = 0; i < (step % 4 == 0 ? 1 : 3) && oldest < next; ++i) {
      EXPECT_EQ(ids.erase(TaskId{oldest}), 1u);
      model.erase(oldest++);
    }
    EXPECT_EQ(ids.count(TaskId{oldest}), model.count(oldest));
    EXPECT_EQ(ids.count(TaskId{next - 1}), 1u);
  }
  EXPECT_EQ(ids.size(), model.size());
  EXPECT_EQ(std::vector<std::uint64_t>(model.begin(), model.end()), [&] {
    std::vector<std::uint64_t> walked;
    for (const TaskId id : ids) walked.push_back(id.value);
    return walked;
  }());
}

}  // namespace
}  // namespace tasklane
