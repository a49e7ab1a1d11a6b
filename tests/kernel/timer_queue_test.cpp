// TimerQueue: the earliest timer first; equal times fire in the order they were armed.
#include "../../core/src/timer_queue.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

namespace tasklane {
namespace {

using detail::TimerKind;

TEST(TimerQueue, TopIsTheEarliestTimer) {
  detail::TimerQueue q;
  EXPECT_EQ(q.top(), nullptr);
  q.arm(Time{300}, TimerKind::TaskDue, TaskId{1}, 1);
  q.arm(Time{100}, TimerKind::AttemptTimeout, TaskId{2}, 1);
  q.arm(Time{200}, TimerKind::QueuedWorkPoll, TaskId{}, 1);
  ASSERT_NE(q.top(), nullptr);
  EXPECT_EQ(q.top()->at, Time{100});
  EXPECT_EQ(q.top()->kind, TimerKind::AttemptTimeout);
  q.pop();
  EXPECT_EQ(q.top()->at, Time{200});
  q.pop();
  EXPECT_EQ(q.top()->at, Time{300});
  EXPECT_EQ(q.top()->task, TaskId{1});
  q.pop();
  EXPECT_EQ(q.top(), nullptr);
  EXPECT_EQ(q.size(), 0u);
}

TEST(TimerQueue, EqualTimesFireFirstInFirstOut) {
  detail::TimerQueue q;
  for (std::uint64_t i = 0; i < 20; ++i) q.arm(Time{50}, TimerKind::TaskDue, TaskId{20 - i}, i);
  std::vector<std::uint64_t> generations;
  while (const auto* t = q.top()) {
    generations.push_back(t->generation);
    q.pop();
  }
  std::vector<std::uint64_t> expected;
  for (std::uint64_t i = 0; i < 20; ++i) expected.push_back(i);
  EXPECT_EQ(generations, expected);
}

TEST(TimerQueue, KeepsTaskAndGenerationForStalenessChecks) {
  detail::TimerQueue q;
  q.arm(Time{10}, TimerKind::AttemptTimeout, TaskId{7}, 3);
  ASSERT_NE(q.top(), nullptr);
  EXPECT_EQ(q.top()->task, TaskId{7});
  EXPECT_EQ(q.top()->generation, 3u);
}

// Timers armed in time order take the FIFO run, the others the heap beside it; pops interleave
// both. Checked against a plain ordered set under a long mixed sequence of arms and pops.
TEST(TimerQueue, MixedInOrderAndOutOfOrderArmsMatchAnOrderedSet) {
  detail::TimerQueue q;
  std::set<std::pair<std::int64_t, std::uint64_t>> model;  // (at, arming order)
  std::uint64_t armed = 0;
  std::int64_t clock = 0;
  std::uint64_t seed = 99;
  const auto random = [&seed](std::uint64_t bound) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::int64_t>((seed >> 33) % bound);
  };
  std::size_t popped = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto action = random(10);
    if (action < 5) {
      // mostly a fixed delay from a clock that moves forward (in order); sometimes a shorter one
      const std::int64_t at = clock + (action < 4 ? 1000 : random(1000));
      q.arm(Time{at}, TimerKind::TaskDue, TaskId{armed}, armed);
      model.insert({at, armed++});
    } else {
      clock += random(3);
      const auto* top = q.top();
      if (model.empty()) {
        ASSERT_EQ(top, nullptr) << "step " << step;
        continue;
      }
      ASSERT_NE(top, nullptr) << "step " << step;
      ASSERT_EQ(top->at, Time{model.begin()->first}) << "step " << step;
      ASSERT_EQ(top->generation, model.begin()->second) << "step " << step;
      q.pop();
      model.erase(model.begin());
      ++popped;
    }
    ASSERT_EQ(q.size(), model.size()) << "step " << step;
  }
  EXPECT_GT(popped, 5000u);
}

}  // namespace
}  // namespace tasklane
