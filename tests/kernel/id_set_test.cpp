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

// Erasures in a middle block (a tree's siblings) go through the block found last; a copy or a
// move must not keep pointing into the set it came from.
TEST(IdSet, ErasesThroughMiddleBlocksAndCopiesAndMovesStayIndependent) {
  detail::IdSet ids;
  std::set<std::uint64_t> reference;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    ids.insert(TaskId{i});
    reference.insert(i);
  }
  for (std::uint64_t i = 700; i < 1100; ++i) {  // blocks 2..4, whole block 3 emptied on the way
    EXPECT_EQ(ids.erase(TaskId{i}), 1u);
    reference.erase(i);
  }
  EXPECT_EQ(ids.erase(TaskId{800}), 0u) << "already gone; its block was dropped";
  detail::IdSet copy = ids;
  EXPECT_EQ(copy.erase(TaskId{1100}), 1u);
  EXPECT_EQ(ids.count(TaskId{1100}), 1u) << "the copy's erase left the original alone";
  EXPECT_EQ(ids.erase(TaskId{1101}), 1u);
  reference.erase(1101);
  EXPECT_EQ(copy.count(TaskId{1101}), 1u);
  detail::IdSet moved = std::move(copy);
  EXPECT_EQ(moved.erase(TaskId{1102}), 1u);
  EXPECT_EQ(moved.size(), 2000u - 400u - 2u);
  detail::IdSet assigned;
  assigned.insert(TaskId{5000});
  assigned = std::move(moved);
  EXPECT_EQ(assigned.count(TaskId{5000}), 0u);
  EXPECT_EQ(assigned.erase(TaskId{1103}), 1u);
  EXPECT_EQ(ids.size(), reference.size());
  std::vector<std::uint64_t> walked;
  for (const TaskId id : ids) walked.push_back(id.value);
  EXPECT_EQ(walked, std::vector<std::uint64_t>(reference.begin(), reference.end()));
}

}  // namespace
}  // namespace tasklane
