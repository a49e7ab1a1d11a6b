// The virtual-time driver's own rules: the clock moves only while someone waits and nothing else
// can happen, it lands exactly on deadlines, and OutsideWait lets it move under waiting work.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <memory>
#include <optional>

#include "conformance/blocking_call.hpp"
#include "conformance/work_support.hpp"
#include "tasklane/drivers/virtual_time_runtime.hpp"

namespace tasklane::sim {
namespace {

using conformance::blocking_call;
using conformance::Signal;
using conformance::task;
using drivers::HandlerRegistry;
using drivers::WorkContext;

constexpr Time t0{5'000};

TaskId spawn_ok(VirtualTimeRuntime& rt, TaskSpec spec) {
  auto r = blocking_call<Result<TaskId, SpawnError>>("virtual_time", "spawn", [&](auto done) { rt.spawn(spec, done); });
  EXPECT_TRUE(r && r->has_value());
  return r && r->has_value() ? r->value() : TaskId{};
}

std::optional<TaskInfo> wait(VirtualTimeRuntime& rt, TaskId id) {
  auto r = blocking_call<std::optional<TaskInfo>>("virtual_time", "wait", [&](auto done) { rt.wait(id, done); });
  return r ? *r : std::nullopt;
}

std::optional<TaskInfo> get(VirtualTimeRuntime& rt, TaskId id) {
  auto r = blocking_call<std::optional<TaskInfo>>("virtual_time", "read", [&](auto done) {
    rt.read([id, done](const Kernel& k) {
      const std::optional<TaskInfo> info = k.get(id);
      done(info ? std::optional<TaskInfo>(*info) : std::nullopt);
    });
  });
  return r ? *r : std::nullopt;
}

std::unique_ptr<VirtualTimeRuntime> started(HandlerRegistry handlers) {
  auto rt = std::make_unique<VirtualTimeRuntime>(drivers::RuntimeOptions{}, std::move(handlers), t0);
  auto r = blocking_call<bool>("virtual_time", "start", [&](auto done) { rt->start([done](auto result) { done(result.has_value()); }); });
  EXPECT_TRUE(r.value_or(false));
  return rt;
}

TEST(VirtualTimeRuntime, AnHourLongDelayEndsExactlyOnTimeWhileTheCallerWaits) {
  HandlerRegistry handlers;
  handlers.add("digest", [](WorkContext&) { return Outcome::success("done"); });
  auto rt = started(std::move(handlers));
  TaskSpec spec = task("digest");
  spec.run_after = std::chrono::hours(1);
  const TaskId id = spawn_ok(*rt, spec);
  const auto info = wait(*rt, id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, TaskStatus::Completed);
  EXPECT_EQ(info->created_at, t0);
  EXPECT_EQ(info->finished_at, std::optional<Time>(t0 + std::chrono::hours(1)));
  EXPECT_EQ(rt->now(), t0 + std::chrono::hours(1));
}

TEST(VirtualTimeRuntime, TheClockStandsStillWhileNobodyWaits) {
  auto rt = started(HandlerRegistry{});
  TaskSpec spec = task("later");
  spec.run_after = milliseconds(10);
  const TaskId id = spawn_ok(*rt, spec);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // real time passes, virtual time must not
  const auto info = get(*rt, id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, TaskStatus::Pending);
  EXPECT_EQ(rt->now(), t0);
}

TEST(VirtualTimeRuntime, SleepForFiresTheTimersOnTheWayInOrder) {
  auto order = std::make_shared<std::vector<std::string>>();
  auto mutex = std::make_shared<std::mutex>();
  HandlerRegistry handlers;
  handlers.add("note", [order, mutex](WorkContext& ctx) {
    std::lock_guard lock(*mutex);
    order->push_back(ctx.payload.get<std::string>());
    return Outcome::success();
  });
  auto rt = started(std::move(handlers));
  for (const auto& [name, delay] : {std::pair{"third", 300}, {"first", 100}, {"second", 200}, {"never", 900}}) {
    TaskSpec spec = task("note");
    spec.payload = name;
    spec.run_after = milliseconds(delay);
    spawn_ok(*rt, spec);
  }
  ASSERT_TRUE(blocking_call<bool>("virtual_time", "sleep_for", [&](auto done) {
                rt->sleep_for(milliseconds(500), [done] { done(true); });
              }).has_value());
  EXPECT_EQ(rt->now(), t0 + milliseconds(500));
  // The third note's work may still be finishing on its thread; what started is what matters.
  ASSERT_TRUE(conformance::eventually([&] {
    std::lock_guard lock(*mutex);
    return order->size() == 3;
  }));
  std::lock_guard lock(*mutex);
  EXPECT_EQ(*order, (std::vector<std::string>{"first", "second", "third"}));
}

TEST(VirtualTimeRuntime, BusyWorkHoldsTheClockButOutsideWaitLetsItPass) {
  auto release = std::make_shared<Signal>();
  auto busy_started = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("busy", [=](WorkContext&) {
    busy_started->set();
    (void)release->wait();  // busy: not inside an OutsideWait
    return Outcome::success();
  });
  handlers.add("waits-for-a-reply", [](WorkContext& ctx) {
    const OutsideWait waiting;
    while (!ctx.cancel.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Outcome::failure("cancelled");
  });
  auto rt = started(std::move(handlers));
  TaskSpec busy = task("busy");
  const TaskId busy_id = spawn_ok(*rt, busy);
  ASSERT_TRUE(busy_started->wait());
  TaskSpec hung = task("waits-for-a-reply");
  hung.timeout = seconds(30);
  const TaskId hung_id = spawn_ok(*rt, hung);
  // While "busy" computes, a waiter must not make the clock jump to the 30 s timeout.
  auto waited = std::make_shared<std::promise<std::optional<TaskInfo>>>();
  rt->wait(hung_id, [waited](std::optional<TaskInfo> info) { waited->set_value(std::move(info)); });
  auto future = waited->get_future();
  EXPECT_EQ(future.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(rt->now(), t0);
  release->set();
  ASSERT_EQ(future.wait_for(conformance::harness_timeout), std::future_status::ready);
  const auto info = future.get();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, TaskStatus::TimedOut);
  EXPECT_EQ(info->finished_at, std::optional<Time>(t0 + seconds(30)));
  EXPECT_EQ(wait(*rt, busy_id).value_or(TaskInfo{}).status, TaskStatus::Completed);
}

TEST(VirtualTimeRuntime, OutsideWaitOffAWorkThreadChangesNothing) {
  auto release = std::make_shared<Signal>();
  auto busy_started = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("busy", [=](WorkContext&) {
    busy_started->set();
    (void)release->wait();
    return Outcome::success();
  });
  auto rt = started(std::move(handlers));
  const TaskId busy = spawn_ok(*rt, task("busy"));
  ASSERT_TRUE(busy_started->wait());
  TaskSpec later = task("later");
  later.run_after = seconds(10);
  const TaskId later_id = spawn_ok(*rt, later);
  auto waited = std::make_shared<std::promise<std::optional<TaskInfo>>>();
  rt->wait(later_id, [waited](std::optional<TaskInfo> info) { waited->set_value(std::move(info)); });
  {
    // The test thread runs no runtime's work: its guard must not count as the busy work waiting.
    const OutsideWait not_a_work_thread;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(rt->now(), t0) << "the clock moved while work was busy";
  }
  release->set();
  auto future = waited->get_future();
  ASSERT_EQ(future.wait_for(conformance::harness_timeout), std::future_status::ready);
  EXPECT_EQ(rt->now(), t0 + seconds(10));
  EXPECT_EQ(wait(*rt, busy).value_or(TaskInfo{}).status, TaskStatus::Completed);
}

// This process's virtual memory in kB (Linux /proc/self/status VmSize). A thread that exited but
// was never joined keeps its stack mapped; a joined one gives it back (or to glibc's small cache).
std::size_t virtual_memory_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoul(line.substr(7));
  }
  return 0;
}

TEST(VirtualTimeRuntime, FinishedWorkThreadsAreJoinedAsNewWorkStarts) {
  HandlerRegistry handlers;
  handlers.add("quick", [](WorkContext&) { return Outcome::success(); });
  auto rt = started(std::move(handlers));
  const std::size_t before = virtual_memory_kb();
  ASSERT_GT(before, 0u);
  for (int i = 0; i < 300; ++i) {
    const auto info = wait(*rt, spawn_ok(*rt, task("quick")));
    ASSERT_EQ(info.value_or(TaskInfo{}).status, TaskStatus::Completed);
  }
  // One thread per attempt, each with a stack of megabytes: unjoined, 300 of them keep gigabytes.
  EXPECT_LT(virtual_memory_kb(), before + 256 * 1024) << "exited work threads were not joined";
}

}  // namespace
}  // namespace tasklane::sim
