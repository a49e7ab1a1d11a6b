// TimerQueue: the earliest timer first; equal times fire in the order they were armed.
#include "../../core/src/timer_queue.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tasklane
