// TaskRuntime's one QTimer: a precise single-shot timer that follows the kernel's next deadline,
// earlier or later as tasks come and go, and stops when nothing is due.
#include <gtest/gtest.h>

#include <QTimer>
#include <memory>

#include "qt/qt_harness.hpp"
#include "conformance/work_support.hpp"

namespace tasklane::qt_test {
namespace {

using namespace conformance;  // Signal, hold, eventually, task

using conformance::QtHarness;
using qt::TaskRuntime;

struct TimerState {
  qsizetype timers = 0;
  bool active = false;
  bool single_shot = false;
  bool precise = false;
  int remaining_ms = -1;
};

TimerState timer_of(QtHarness& h) {
  return h.on_owner([](TaskRuntime& rt) {
    const auto timers = rt.findChildren<QTimer*>();
    TimerState s;
    s.timers = timers.size();
    if (timers.size() == 1) {
      s.active = timers[0]->isActive();
      s.single_shot = timers[0]->isSingleShot();
      s.precise = timers[0]->timerType() == Qt::PreciseTimer;
      s.remaining_ms = timers[0]->remainingTime();
    }
    return s;
  });
}

TaskSpec later(std::chrono::minutes delay) {
  TaskSpec spec = task("later");
  spec.run_after = std::chrono::duration_cast<Duration>(delay);
  return spec;
}

TEST(QtTimer, OneTimerFollowsTheKernelsNextDeadline) {
  QtHarness h(drivers::HandlerRegistry{}, drivers::RuntimeOptions{});
  ASSERT_FALSE(h.start());
  TimerState s = timer_of(h);
  ASSERT_EQ(s.timers, 1);
  EXPECT_FALSE(s.active) << "nothing is due";
  EXPECT_TRUE(s.single_shot);
  EXPECT_TRUE(s.precise);

  const TaskId in_an_hour = h.spawn(later(std::chrono::minutes(60))).second;
  s = timer_of(h);
  EXPECT_TRUE(s.active);
  EXPECT_GT(s.remaining_ms, 59 * 60'000);
  EXPECT_LE(s.remaining_ms, 60 * 60'000);

  const TaskId in_ten_minutes = h.spawn(later(std::chrono::minutes(10))).second;
  s = timer_of(h);
  EXPECT_GT(s.remaining_ms, 9 * 60'000) << "the timer must follow the earlier deadline";
  EXPECT_LE(s.remaining_ms, 10 * 60'000);

  EXPECT_EQ(h.abort(abort_selector::Task{in_ten_minutes}), 1u);
  s = timer_of(h);
  EXPECT_GT(s.remaining_ms, 59 * 60'000) << "the timer must move back when the earlier task is gone";

  EXPECT_EQ(h.abort(abort_selector::Task{in_an_hour}), 1u);
  EXPECT_FALSE(timer_of(h).active);
  EXPECT_EQ(timer_of(h).timers, 1) << "there is one timer, re-armed, never a second one";
}

TEST(QtTimer, DeadlineBeyondWhatAQTimerHoldsIsFollowedADayAtATime) {
  QtHarness h(drivers::HandlerRegistry{}, drivers::RuntimeOptions{});
  ASSERT_FALSE(h.start());
  (void)h.spawn(later(std::chrono::minutes(60 * 24 * 40)));  // 40 days: past INT_MAX milliseconds
  const TimerState s = timer_of(h);
  EXPECT_TRUE(s.active);
  EXPECT_GT(s.remaining_ms, 23 * 3'600'000);
  EXPECT_LE(s.remaining_ms, 24 * 3'600'000);
}

}  // namespace
}  // namespace tasklane::qt_test
