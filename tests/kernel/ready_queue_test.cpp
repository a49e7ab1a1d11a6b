// ReadyQueue: highest priority first, then spawn order (lowest id) within one priority. The kernel
// keeps each task's "queued" flag in its entry; Queue below plays that part with a map.
#include "../../core/src/ready_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

namespace tasklane {
namespace {

// A ReadyQueue with the caller's side: which tasks are queued, at which priority.
class Queue {
 public:
  void push(Priority p, TaskId id) {
    if (queued_.count(id.value)) return;  // the kernel never queues a queued task
    queued_[id.value] = p;
    q_.push(p, id);
  }
  void erase(Priority p, TaskId id) {
    if (!contains(p, id)) return;
    queued_.erase(id.value);
    q_.erase(is_queued());
  }
  bool contains(Priority p, TaskId id) const {
    const auto it = queued_.find(id.value);
    return it != queued_.end() && it->second == p;
  }
  std::optional<TaskId> pop() {
    const auto id = q_.pop(is_queued());
    if (id) queued_.erase(id->value);
    return id;
  }
  std::size_t size() const { return q_.size(); }
  std::size_t entries() const { return q_.entries(); }
  bool empty() const { return q_.empty(); }

 private:
  struct IsQueued {
    const Queue* queue;
    bool operator()(std::uint64_t id, Priority p) const {
      const auto it = queue->queued_.find(id);
      return it != queue->queued_.end() && it->second == p;
    }
  };
  IsQueued is_queued() const { return IsQueued{this}; }
  detail::ReadyQueue q_;
  std::map<std::uint64_t, Priority> queued_;
};

std::vector<std::uint64_t> pop_all(Queue& q) {
  std::vector<std::uint64_t> out;
  while (const auto id = q.pop()) out.push_back(id->value);
  return out;
}

TEST(ReadyQueue, PopsHigherPriorityFirstWhateverTheInsertionOrder) {
  Queue q;
  q.push(Priority::Low, TaskId{0});
  q.push(Priority::Normal, TaskId{1});
  q.push(Priority::Critical, TaskId{2});
  q.push(Priority::High, TaskId{3});
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{2, 3, 1, 0}));
  EXPECT_TRUE(q.empty());
}

TEST(ReadyQueue, APriorityWhoseTasksAllLeftIsFoundAgainWhenOneIsQueued) {
  Queue q;
  q.push(Priority::High, TaskId{1});
  q.push(Priority::Low, TaskId{2});
  EXPECT_EQ(q.pop(), TaskId{1});
  EXPECT_EQ(q.pop(), TaskId{2});
  EXPECT_EQ(q.pop(), std::nullopt);
  q.push(Priority::Low, TaskId{3});
  q.push(Priority::High, TaskId{4});
  q.push(Priority::Normal, TaskId{5});
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{4, 5, 3}));
}

TEST(ReadyQueue, IsFifoByIdWithinOnePriority) {
  Queue q;
  // Pushed out of id order, as a retried task re-enters after newer ones.
  q.push(Priority::Normal, TaskId{7});
  q.push(Priority::Normal, TaskId{3});
  q.push(Priority::Normal, TaskId{5});
  q.push(Priority::High, TaskId{9});
  q.push(Priority::High, TaskId{8});
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{8, 9, 3, 5, 7}));
}

TEST(ReadyQueue, EraseAndContainsAreByPriorityAndId) {
  Queue q;
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

TEST(ReadyQueue, AStaleEntryIsSkippedEvenWhenItsTaskIsQueuedAgainLater) {
  Queue q;
  q.push(Priority::Normal, TaskId{1});
  q.erase(Priority::Normal, TaskId{1});
  q.push(Priority::Normal, TaskId{1});  // two entries for task 1 now, one stale
  EXPECT_EQ(q.pop(), TaskId{1});
  q.push(Priority::Normal, TaskId{2});
  q.push(Priority::Normal, TaskId{1});  // queued a third time: one entry may surface for it, not two
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(q.empty());
}

TEST(ReadyQueue, AStaleEntryAtAnotherPriorityStaysStale) {
  Queue q;
  q.push(Priority::Low, TaskId{1});
  q.erase(Priority::Low, TaskId{1});
  q.push(Priority::High, TaskId{1});
  q.push(Priority::Normal, TaskId{2});
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{1, 2})) << "once, at High; the Low entry is skipped";
}

TEST(ReadyQueue, CompactionDropsTheStaleTwinOfATaskQueuedAgain) {
  Queue q;
  q.push(Priority::Normal, TaskId{0});
  q.erase(Priority::Normal, TaskId{0});
  q.push(Priority::Normal, TaskId{0});  // two entries for task 0, one stale
  // 1 + 64 stale entries after the last erase: over 64 and over the one queued task, so it compacts.
  for (std::uint64_t id = 1; id <= 64; ++id) q.push(Priority::Normal, TaskId{id});
  for (std::uint64_t id = 1; id <= 64; ++id) q.erase(Priority::Normal, TaskId{id});
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.entries(), 1u) << "the stale twin and the erased tasks are gone";
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{0}));
}

TEST(ReadyQueue, StaleEntriesAreCompactedAwayWhileNothingPops) {
  // A full runner: nothing pops, tasks are queued and cancelled over and over.
  Queue q;
  for (std::uint64_t id = 0; id < 100000; ++id) {
    q.push(Priority::Normal, TaskId{id});
    q.erase(Priority::Normal, TaskId{id});
    ASSERT_LE(q.entries(), 2 * q.size() + 65) << "after id " << id;
  }
  q.push(Priority::Normal, TaskId{100000});
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{100000}));
}

}  // namespace
}  // namespace tasklane

namespace tasklane {
namespace {

TEST(ReadyQueue, ATaskErasedAndQueuedAgainPopsOnce) {
  Queue q;
  q.push(Priority::Normal, TaskId{1});
  q.push(Priority::Normal, TaskId{2});
  q.erase(Priority::Normal, TaskId{1});
  q.push(Priority::Normal, TaskId{1});  // its old heap entry is still there, stale
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(pop_all(q), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(q.empty());
}

TEST(ReadyQueue, ManyErasesCompactAndKeepTheOrder) {
  Queue q;
  for (std::uint64_t id = 0; id < 1000; ++id) q.push(id % 2 ? Priority::High : Priority::Low, TaskId{id});
  for (std::uint64_t id = 0; id < 1000; id += 3) q.erase(id % 2 ? Priority::High : Priority::Low, TaskId{id});
  std::vector<std::uint64_t> expected;
  for (std::uint64_t id = 1; id < 1000; id += 2) if (id % 3 != 0) expected.push_back(id);
  for (std::uint64_t id = 0; id < 1000; id += 2) if (id % 3 != 0) expected.push_back(id);
  EXPECT_EQ(q.size(), expected.size());
  EXPECT_EQ(pop_all(q), expected);
}

// In-order ids take the FIFO run, out-of-order ones the heap beside it; pops interleave both.
// Checked against a plain ordered set under a long mixed sequence of pushes, erases and pops.
TEST(ReadyQueue, MixedInOrderAndOutOfOrderPushesMatchAnOrderedSet) {
  Queue q;
  std::set<std::pair<int, std::uint64_t>> model;  // (-priority, id)
  std::map<std::uint64_t, Priority> where;
  std::uint64_t next_id = 0;
  std::uint64_t seed = 12345;
  const auto random = [&seed](std::uint64_t bound) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % bound;
  };
  const auto priority = [&]() { return static_cast<Priority>(random(priority_count)); };  // lanes empty and fill again
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
