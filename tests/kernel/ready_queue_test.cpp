// ReadyQueue: highest priority first, then spawn order (lowest id) within one priority.
#include "../../core/src/ready_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tasklane {
namespace {

std::vector<std::uint64_t> pop_all(detail::ReadyQueue& q) {
  std::vector<std::uint64_t> out;
  while (const auto id = q.pop()) out.push_back(id->value);
  return out;
}

TEST(ReadyQueue, PopsHigherPriorityFirstWhateverTheInsertionOrder) {
  detail::ReadyQueue q;
  q.push(Priority::Low, TaskId{0});
  q.push(Priority::Normal, TaskId{1});
  q.push(Priority::Critical, TaskId{2});
  q.push(Priority::High, TaskId{3});
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{2, 3, 1, 0}));
  EXPECT_TRUE(q.empty());
}

TEST(ReadyQueue, IsFifoByIdWithinOnePriority) {
  detail::ReadyQueue q;
  // Pushed out of id order, as a retried task re-enters after newer ones.
  q.push(Priority::Normal, TaskId{7});
  q.push(Priority::Normal, TaskId{3});
  q.push(Priority::Normal, TaskId{5});
  q.push(Priority::High, TaskId{9});
  q.push(Priority::High, TaskId{8});
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{8, 9, 3, 5, 7}));
}

TEST(ReadyQueue, EraseAndContainsAreByPriorityAndId) {
  detail::ReadyQueue q;
  q.push(Priority::Low, TaskId{1});
  q.push(Priority::High, TaskId{2});
  EXPECT_TRUE(q.contains(Priority::Low, TaskId{1}));
  EXPECT_FALSE(q.contains(Priority::High, TaskId{1}));
  q.erase(Priority::High, TaskId{1});  // wrong priority: nothing to erase
  EXPECT_EQ(q.size(), 2u);
  q.erase(Priority::High, TaskId{2});
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.pop(), TaskId{1});
  EXPECT_EQ(q.pop(), std::nullopt);
}

TEST(ReadyQueue, PushingTheSameEntryTwiceKeepsOne) {
  detail::ReadyQueue q;
  q.push(Priority::Normal, TaskId{4});
  q.push(Priority::Normal, TaskId{4});
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace tasklane

namespace tasklane {
namespace {

TEST(ReadyQueue, ATaskErasedAndQueuedAgainPopsOnce) {
  detail::ReadyQueue q;
  q.push(Priority::Normal, TaskId{1});
  q.push(Priority::Normal, TaskId{2});
  q.erase(Priority::Normal, TaskId{1});
  q.push(Priority::Normal, TaskId{1});  // its old heap entry is still there, stale
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(q.empty());
}

TEST(ReadyQueue, ManyErasesCompactAndKeepTheOrder) {
  detail::ReadyQueue q;
  for (std::uint64_t id = 0; id < 1000; ++id) q.push(id % 2 ? Priority::High : Priority::Low, TaskId{id});
  for (std::uint64_t id = 0; id < 1000; id += 3) q.erase(id % 2 ? Priority::High : Priority::Low, TaskId{id});
  std::vector<std::uint64_t> expected;
  for (std::uint64_t id = 1; id < 1000; id += 2) if (id % 3 != 0) expected.push_back(id);
  for (std::uint64_t id = 0; id < 1000; id += 2) if (id % 3 != 0) expected.push_back(id);
  EXPECT_EQ(q.size(), expected.size());
  EXPECT_EQ(pop_all(q), expected);
}

TEST(ReadyQueue, PushingWithAnotherPriorityMovesTheTask) {
  detail::ReadyQueue q;
  q.push(Priority::Low, TaskId{3});
  q.push(Priority::Normal, TaskId{4});
  q.push(Priority::High, TaskId{3});
  EXPECT_FALSE(q.contains(Priority::Low, TaskId{3}));
  EXPECT_TRUE(q.contains(Priority::High, TaskId{3}));
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{3, 4}));
}

}  // namespace
}  // namespace tasklane
