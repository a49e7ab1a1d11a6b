// ReadyQueue: highest priority first, then spawn order (lowest id) within one priority.
#include "../../core/src/ready_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
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

// In-order ids take the FIFO run, out-of-order ones the heap beside it; pops interleave both.
// Checked against a plain ordered set under a long mixed sequence of pushes, erases and pops.
TEST(ReadyQueue, MixedInOrderAndOutOfOrderPushesMatchAnOrderedSet) {
  detail::ReadyQueue q;
  std::set<std::pair<int, std::uint64_t>> model;  // (-priority, id)
  std::map<std::uint64_t, Priority> where;
  std::uint64_t next_id = 0;
  std::uint64_t seed = 12345;
  const auto random = [&seed](std::uint64_t bound) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % bound;
  };
  const auto priority = [&]() { return random(3) == 0 ? Priority::High : Priority::Normal; };
  std::size_t popped = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto action = random(10);
    if (action < 4) {  // a new task: the next id
      const auto p = priority();
      q.push(p, TaskId{next_id});
      model.insert({-static_cast<int>(p), next_id});
      where[next_id++] = p;
    } else if (action < 6 && next_id > 0) {  // an older task queued again (a retry)
      const std::uint64_t id = random(next_id);
      if (where.count(id)) continue;
      const auto p = priority();
      q.push(p, TaskId{id});
      model.insert({-static_cast<int>(p), id});
      where[id] = p;
    } else if (action < 7 && !where.empty()) {  // a queued task cancelled
      const auto it = where.lower_bound(random(next_id));
      if (it == where.end()) continue;
      q.erase(it->second, TaskId{it->first});
      model.erase({-static_cast<int>(it->second), it->first});
      where.erase(it);
    } else {
      const auto got = q.pop();
      if (model.empty()) {
        ASSERT_EQ(got, std::nullopt) << "step " << step;
        continue;
      }
      const auto want = *model.begin();
      ASSERT_EQ(got, TaskId{want.second}) << "step " << step;
      model.erase(model.begin());
      where.erase(want.second);
      ++popped;
    }
    ASSERT_EQ(q.size(), model.size()) << "step " << step;
  }
  EXPECT_GT(popped, 1000u);
}

}  // namespace
}  // namespace tasklane
