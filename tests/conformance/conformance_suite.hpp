// The driver conformance suite: one set of scenarios every real driver must pass, written against
// the harness contract in driver_harness.hpp.
//
//   #include "conformance/conformance_suite.hpp"
//   INSTANTIATE_TYPED_TEST_SUITE_P(asio, DriverConformance, ::testing::Types<AsioHarness>,
//                                  tasklane::conformance::HarnessName);
//
// Work functions here never block without a bound: they wait for a Signal the test sets, or for
// their attempt's cancellation, at most harness_timeout. Timing assertions only have lower bounds
// (nothing starts early, a timeout does not fire early) or generous upper ones, because the suite
// must pass on a loaded two-core machine.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "conformance/driver_harness.hpp"
#include "conformance/work_support.hpp"
#include "tasklane/drivers/error_code.hpp"
#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/drivers/handler_registry.hpp"
#include "tasklane/drivers/log.hpp"
#include "tasklane/drivers/metrics.hpp"
#include "tasklane/drivers/runtime_core.hpp"
#include "tasklane/drivers/task_event.hpp"
#include "tasklane/drivers/virtual_time_runtime.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane {
inline void PrintTo(const TaskStatus& s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(const TaskId& id, std::ostream* os) { *os << to_string(id); }
}  // namespace tasklane

namespace tasklane::conformance {

using namespace std::chrono_literals;
using drivers::errc;
using drivers::HandlerRegistry;
using drivers::RuntimeOptions;
using drivers::TaskEvent;
using drivers::TaskEventKind;
using drivers::WorkContext;

// Names the instantiated tests after the harness: "DriverConformance/asio.SpawnAndWait...".
struct HarnessName {
  template <class H>
  static std::string GetName(int) {
    return H::name;
  }
};

// A sub-agent's work: waits for the first message in its inbox and succeeds with it as
// {"from", "message"}; fails when it has no inbox or no message comes within harness_timeout.
inline Outcome answer_first_message(WorkContext& ctx) {
  if (!ctx.inbox) return Outcome::failure("no inbox");
  const auto m = ctx.inbox->pop_for(std::chrono::duration_cast<std::chrono::milliseconds>(harness_timeout));
  if (!m) return Outcome::failure("no message arrived");
  return Outcome::success({{"from", m->from}, {"message", m->message}});
}

// The ids of `kind` events, in the order the subscriber saw them.
inline std::vector<TaskId> ids_of(const std::vector<TaskEvent>& events, TaskEventKind kind) {
  std::vector<TaskId> ids;
  for (const auto& e : events) {
    if (e.kind == kind) ids.push_back(e.id);
  }
  return ids;
}

// Status of `id` as the kernel sees it right now, read on the driver's owner thread.
template <class H>
std::optional<TaskInfo> info_of(H& h, TaskId id) {
  return h.read([id](const Kernel& k) -> std::optional<TaskInfo> {
    const std::optional<TaskInfo> info = k.get(id);
    return info ? std::optional<TaskInfo>(*info) : std::nullopt;
  });
}

template <class H>
class DriverConformance : public ::testing::Test {
 protected:
  void TearDown() override {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A started harness; the test fails at once when start() does not succeed.
  std::unique_ptr<H> open(HandlerRegistry handlers, RuntimeOptions options = {}) {
    auto h = std::make_unique<H>(std::move(handlers), std::move(options));
    const std::error_code ec = h->start();
    EXPECT_FALSE(ec) << "start: " << ec.message();
    return h;
  }

  // A fresh, empty data directory for this test, removed when it ends.
  const std::filesystem::path& data_dir() {
    if (dir_.empty()) {
      std::string pattern = (std::filesystem::temp_directory_path() / "tasklane-conformance-XXXXXX").string();
      const char* made = ::mkdtemp(pattern.data());
      EXPECT_NE(made, nullptr) << "mkdtemp failed";
      dir_ = made ? std::filesystem::path(made) : std::filesystem::path();
    }
    return dir_;
  }

  RuntimeOptions durable_options() {
    RuntimeOptions options;
    options.data_dir = data_dir();
    return options;
  }

  static RuntimeOptions max_running(std::size_t n) {
    RuntimeOptions options;
    options.config.max_running = n;
    return options;
  }

  static TaskId spawn_ok(H& h, TaskSpec spec) {
    const auto [ec, id] = h.spawn(std::move(spec));
    EXPECT_FALSE(ec) << "spawn: " << ec.message();
    return id;
  }

  static TaskInfo wait_ok(H& h, TaskId id) {
    auto [ec, info] = h.wait(id);
    EXPECT_FALSE(ec) << "wait for " << to_string(id) << ": " << ec.message();
    return info;
  }

 private:
  std::filesystem::path dir_;
};

TYPED_TEST_SUITE_P(DriverConformance);

// ---- results and failures -----------------------------------------------------------------

TYPED_TEST_P(DriverConformance, SpawnAndWaitReturnsTheHandlersResult) {
  HandlerRegistry handlers;
  handlers.add("add", [](WorkContext& ctx) {
    return Outcome::success({{"sum", ctx.payload.at("a").get<int>() + ctx.payload.at("b").get<int>()}});
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("add");
  spec.payload = {{"a", 2}, {"b", 40}};
  const TaskId id = this->spawn_ok(*h, spec);
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.id, id);
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.result, Json({{"sum", 42}}));
  EXPECT_EQ(info.attempt, 1u);
  EXPECT_EQ(info.error, std::nullopt);
}

TYPED_TEST_P(DriverConformance, ThrowingHandlerFailsItsAttemptAndNothingElse) {
  HandlerRegistry handlers;
  handlers.add("throws", [](WorkContext&) -> Outcome { throw std::runtime_error("the model refused"); });
  handlers.add("ok", [](WorkContext&) { return Outcome::success("fine"); });
  auto h = this->open(std::move(handlers));
  const TaskId bad = this->spawn_ok(*h, task("throws"));
  const TaskInfo failed = this->wait_ok(*h, bad);
  EXPECT_EQ(failed.status, TaskStatus::Failed);
  ASSERT_TRUE(failed.error.has_value());
  EXPECT_NE(failed.error->find("the model refused"), std::string::npos) << *failed.error;
  // The runtime goes on working after the exception.
  const TaskInfo after = this->wait_ok(*h, this->spawn_ok(*h, task("ok")));
  EXPECT_EQ(after.status, TaskStatus::Completed);
  EXPECT_EQ(after.result, Json("fine"));
}

TYPED_TEST_P(DriverConformance, KindWithoutHandlerFailsAtOnceWithoutRetry) {
  auto h = this->open(HandlerRegistry{});
  TaskSpec spec = task("nobody-handles-this");
  spec.retry.max_attempts = 3;
  spec.retry.initial_backoff = milliseconds(1);
  const TaskInfo info = this->wait_ok(*h, this->spawn_ok(*h, spec));
  EXPECT_EQ(info.status, TaskStatus::Failed);
  ASSERT_TRUE(info.error.has_value());
  EXPECT_NE(info.error->find("no handler for kind"), std::string::npos) << *info.error;
  EXPECT_NE(info.error->find("nobody-handles-this"), std::string::npos) << *info.error;
  EXPECT_EQ(info.attempt, 1u) << "a missing handler is not worth a retry";
}

TYPED_TEST_P(DriverConformance, FailedAttemptIsRetriedAndTheRetrySucceeds) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  HandlerRegistry handlers;
  handlers.add("flaky", [calls](WorkContext& ctx) {
    if (calls->fetch_add(1) == 0) return Outcome::failure("transient");
    return Outcome::success({{"attempt", ctx.attempt}});
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("flaky");
  spec.retry.max_attempts = 3;
  spec.retry.initial_backoff = milliseconds(10);
  const TaskId id = this->spawn_ok(*h, spec);
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.attempt, 2u);
  EXPECT_EQ(info.result, Json({{"attempt", 2}}));
  EXPECT_EQ(calls->load(), 2);
  std::vector<std::uint32_t> started_attempts;
  for (const auto& e : h->events()) {
    if (e.kind == TaskEventKind::Started && e.id == id) started_attempts.push_back(e.attempt);
  }
  EXPECT_EQ(started_attempts, (std::vector<std::uint32_t>{1, 2}));
}

// ---- timeouts and cancellation ------------------------------------------------------------

TYPED_TEST_P(DriverConformance, AttemptTimeoutFiresTheTokenAndEndsTimedOut) {
  auto never = std::make_shared<Signal>();
  auto saw_cancel = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("stuck", [never, saw_cancel](WorkContext& ctx) {
    if (hold(ctx, *never)) saw_cancel->set();
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("stuck");
  spec.timeout = milliseconds(100);
  const auto before = std::chrono::steady_clock::now();
  const TaskId id = this->spawn_ok(*h, spec);
  const TaskInfo info = this->wait_ok(*h, id);
  const auto waited = std::chrono::steady_clock::now() - before;
  EXPECT_EQ(info.status, TaskStatus::TimedOut);
  EXPECT_EQ(info.error, std::optional<std::string>("timed out after 100 ms"));
  EXPECT_GE(info.finished_at.value_or(Time{0}) - info.created_at, milliseconds(100))
      << "the timeout fired before its deadline on the driver's clock";
  if constexpr (TypeParam::real_clock) {
    EXPECT_GE(waited, 100ms) << "the timeout fired before its deadline";
  }
  EXPECT_TRUE(saw_cancel->wait()) << "the work's cancellation token never fired";
}

TYPED_TEST_P(DriverConformance, TimedOutAttemptIsRetriedAndItsLateResultIgnored) {
  auto never = std::make_shared<Signal>();
  auto late_return = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("slow-then-fast", [never, late_return](WorkContext& ctx) {
    if (ctx.attempt == 1) {
      (void)hold(ctx, *never);
      late_return->set();
      return Outcome::success("late: must be ignored");
    }
    return Outcome::success("second attempt");
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("slow-then-fast");
  spec.timeout = milliseconds(100);
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = milliseconds(10);
  const TaskId id = this->spawn_ok(*h, spec);
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.attempt, 2u);
  EXPECT_EQ(info.result, Json("second attempt"));
  ASSERT_TRUE(late_return->wait());
  EXPECT_TRUE(eventually([&] { return h->read([](const Kernel& k) { return k.stats().ignored_completions; }) == 1; }))
      << "the timed-out attempt's late completion was not counted as ignored";
  const auto now = info_of(*h, id);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->result, Json("second attempt"));
}

TYPED_TEST_P(DriverConformance, CancelOfRunningWorkFiresTheTokenAndEndsWhenTheWorkReturns) {
  auto started = std::make_shared<Signal>();
  auto saw_cancel = std::make_shared<Signal>();
  auto release = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("agent", [=](WorkContext& ctx) {
    started->set();
    if (hold(ctx, Signal{})) saw_cancel->set();
    (void)hold(ctx, *release, false);  // keeps running a while after the cancel
    return Outcome::success("finished anyway");
  });
  auto h = this->open(std::move(handlers));
  const TaskId id = this->spawn_ok(*h, task("agent"));
  ASSERT_TRUE(started->wait());
  EXPECT_EQ(h->abort(abort_selector::Task{id}), 1u);
  ASSERT_TRUE(saw_cancel->wait()) << "the work's cancellation token never fired";
  const auto meanwhile = info_of(*h, id);
  ASSERT_TRUE(meanwhile.has_value());
  EXPECT_EQ(meanwhile->status, TaskStatus::Running) << "the task must not end before its work returns";
  EXPECT_TRUE(meanwhile->cancel_requested);
  release->set();
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Cancelled);
  EXPECT_EQ(info.error, std::nullopt);
  EXPECT_EQ(h->abort(abort_selector::Task{id}), 0u) << "cancelling a terminal task cancels nothing";
}

TYPED_TEST_P(DriverConformance, CancelOfPendingTaskEndsItWithoutRunning) {
  auto release = std::make_shared<Signal>();
  auto started = std::make_shared<Signal>();
  auto pending_calls = std::make_shared<std::atomic<int>>(0);
  HandlerRegistry handlers;
  handlers.add("blocker", [=](WorkContext& ctx) {
    started->set();
    (void)hold(ctx, *release);
    return Outcome::success();
  });
  handlers.add("queued", [pending_calls](WorkContext&) {
    ++*pending_calls;
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers), this->max_running(1));
  const TaskId blocker = this->spawn_ok(*h, task("blocker"));
  ASSERT_TRUE(started->wait());
  const TaskId queued = this->spawn_ok(*h, task("queued"));
  EXPECT_EQ(h->abort(abort_selector::Task{queued}), 1u);
  const TaskInfo info = this->wait_ok(*h, queued);
  EXPECT_EQ(info.status, TaskStatus::Cancelled);
  EXPECT_EQ(info.attempt, 0u);
  release->set();
  EXPECT_EQ(this->wait_ok(*h, blocker).status, TaskStatus::Completed);
  EXPECT_EQ(pending_calls->load(), 0);
}

// ---- ordering -----------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, HigherPrioritiesStartFirst) {
  auto started = std::make_shared<Signal>();
  auto release = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("blocker", [=](WorkContext& ctx) {
    started->set();
    (void)hold(ctx, *release);
    return Outcome::success();
  });
  handlers.add("work", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers), this->max_running(1));
  const TaskId blocker = this->spawn_ok(*h, task("blocker"));
  ASSERT_TRUE(started->wait());
  std::vector<TaskId> by_priority;  // critical, high, normal, low
  by_priority.resize(4);
  for (const Priority p : {Priority::Low, Priority::Normal, Priority::High, Priority::Critical}) {
    TaskSpec spec = task("work");
    spec.priority = p;
    by_priority[3 - static_cast<int>(p)] = this->spawn_ok(*h, spec);
  }
  release->set();
  for (const TaskId id : by_priority) EXPECT_EQ(this->wait_ok(*h, id).status, TaskStatus::Completed);
  std::vector<TaskId> expected{blocker};
  expected.insert(expected.end(), by_priority.begin(), by_priority.end());
  EXPECT_EQ(ids_of(h->events(), TaskEventKind::Started), expected);
}

TYPED_TEST_P(DriverConformance, RunAfterDelaysTheStart) {
  auto started_at = std::make_shared<std::atomic<std::chrono::steady_clock::rep>>(0);
  HandlerRegistry handlers;
  handlers.add("later", [started_at](WorkContext&) {
    started_at->store(std::chrono::steady_clock::now().time_since_epoch().count());
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("later");
  spec.run_after = milliseconds(300);
  const auto before = std::chrono::steady_clock::now();
  const TaskId id = this->spawn_ok(*h, spec);
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.due - info.created_at, milliseconds(300));
  EXPECT_GE(info.finished_at.value_or(Time{0}) - info.created_at, milliseconds(300));
  if constexpr (TypeParam::real_clock) {
    const std::chrono::steady_clock::time_point start{std::chrono::steady_clock::duration(started_at->load())};
    // The driver's clock and this one may differ by a rounding step; 1 ms covers that, not an early start.
    EXPECT_GE(start - before, 299ms) << "the work started before its run_after";
  }
}

TYPED_TEST_P(DriverConformance, SameSequenceKeyNeverOverlapsAndKeepsSpawnOrder) {
  struct Lane {
    std::mutex mutex;
    std::vector<std::uint64_t> order;
    int active = 0;
    int most_active = 0;
  };
  auto lane = std::make_shared<Lane>();
  HandlerRegistry handlers;
  handlers.add("write-fact", [lane](WorkContext& ctx) {
    {
      std::lock_guard lock(lane->mutex);
      lane->order.push_back(ctx.id.value);
      lane->most_active = std::max(lane->most_active, ++lane->active);
    }
    std::this_thread::sleep_for(20ms);  // long enough that two unordered attempts would overlap
    std::lock_guard lock(lane->mutex);
    --lane->active;
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers), this->max_running(4));
  std::vector<std::uint64_t> spawned;
  for (int i = 0; i < 4; ++i) {
    TaskSpec spec = task("write-fact");
    spec.key = SequenceKey{"agent", "session-1", "facts"};
    spawned.push_back(this->spawn_ok(*h, spec).value);
  }
  for (const auto id : spawned) EXPECT_EQ(this->wait_ok(*h, TaskId{id}).status, TaskStatus::Completed);
  std::lock_guard lock(lane->mutex);
  EXPECT_EQ(lane->most_active, 1);
  EXPECT_EQ(lane->order, spawned);
}

// ---- flush --------------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, FlushReportsTheFirstErrorAndLeavesUnmatchedTasks) {
  HandlerRegistry handlers;
  handlers.add("fail", [](WorkContext& ctx) { return Outcome::failure(ctx.payload.get<std::string>()); });
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers), this->max_running(1));
  TaskSpec first = task("fail");  // lowest id, but fails last
  first.key = SequenceKey{"agent", "s1", "facts"};
  first.payload = "first failure";
  first.run_after = milliseconds(100);
  TaskSpec second = task("fail");
  second.key = SequenceKey{"agent", "s1", "summary"};
  second.payload = "second failure";
  TaskSpec fine = task("ok");
  fine.key = SequenceKey{"agent", "s1", "titles"};
  TaskSpec other_scope = task("ok");
  other_scope.key = SequenceKey{"agent", "s2", "facts"};
  other_scope.run_after = std::chrono::hours(1);
  const TaskId a = this->spawn_ok(*h, first);
  const TaskId b = this->spawn_ok(*h, second);
  const TaskId c = this->spawn_ok(*h, fine);
  const TaskId d = this->spawn_ok(*h, other_scope);

  const auto [ec, error] = h->flush(flush_selector::Scope{"s1"});
  EXPECT_EQ(ec, make_error_code(errc::task_failed));
  EXPECT_EQ(error, "first failure") << "the first error is the lowest id's, not the earliest failure";
  const auto ia = info_of(*h, a), ib = info_of(*h, b), ic = info_of(*h, c), id = info_of(*h, d);
  ASSERT_TRUE(ia && ib && ic && id);
  EXPECT_EQ(ia->status, TaskStatus::Failed);
  EXPECT_EQ(ib->status, TaskStatus::Failed);
  EXPECT_EQ(ic->status, TaskStatus::Completed);
  EXPECT_LT(ib->finished_at, ia->finished_at);
  EXPECT_EQ(id->status, TaskStatus::Pending) << "the flush of s1 must not wait for or touch s2";

  // The first flush took s1's tasks: a second one has nothing to wait for and no error to report.
  EXPECT_EQ(h->flush(flush_selector::Scope{"s1"}), std::pair(std::error_code{}, std::string()));
  EXPECT_EQ(h->abort(abort_selector::Task{d}), 1u);
  EXPECT_EQ(h->flush(flush_selector::Scope{"s2"}), std::pair(std::error_code{}, std::string()))
      << "a cancelled task is not an error";
}

// ---- sub-agents ---------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, SentMessageReachesTheInbox) {
  HandlerRegistry handlers;
  handlers.add("sub-agent", answer_first_message);
  auto h = this->open(std::move(handlers));
  TaskSpec spec = task("sub-agent", "alice");
  spec.inbox = true;
  const TaskId id = this->spawn_ok(*h, spec);
  EXPECT_FALSE(h->send(id, "alice", {{"text", "look at the tests"}}));
  const TaskInfo info = this->wait_ok(*h, id);
  EXPECT_EQ(info.status, TaskStatus::Completed) << info.error.value_or("");
  EXPECT_EQ(info.result, Json({{"from", "alice"}, {"message", {{"text", "look at the tests"}}}}));
  EXPECT_TRUE(eventually([&] {
    for (const auto& e : h->events()) {
      if (e.kind == TaskEventKind::Inbox && e.id == id && e.message == "alice") return true;
    }
    return false;
  })) << "subscribers never saw the inbox message";
}

TYPED_TEST_P(DriverConformance, SendRefusalsMapToErrorCodes) {
  auto release = std::make_shared<Signal>();
  auto running = std::make_shared<std::atomic<int>>(0);
  HandlerRegistry handlers;
  handlers.add("hold", [=](WorkContext& ctx) {
    ++*running;
    (void)hold(ctx, *release, false);
    return Outcome::success();
  });
  handlers.add("quick", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers));
  TaskSpec done_spec = task("quick", "alice");
  done_spec.inbox = true;
  const TaskId done = this->spawn_ok(*h, done_spec);
  EXPECT_EQ(this->wait_ok(*h, done).status, TaskStatus::Completed);
  // Two held attempts at most: a driver's pool may have only two threads.
  TaskSpec sub_spec = task("hold", "alice");
  sub_spec.inbox = true;
  const TaskId sub = this->spawn_ok(*h, sub_spec);
  const TaskId plain = this->spawn_ok(*h, task("hold", "alice"));
  ASSERT_TRUE(eventually([&] { return running->load() == 2; }));

  EXPECT_EQ(h->send(TaskId{1'000'000}, "alice", "hi"), make_error_code(errc::task_not_found));
  EXPECT_EQ(h->send(sub, "mallory", "hi"), make_error_code(errc::not_owner));
  EXPECT_EQ(h->send(plain, "alice", "hi"), make_error_code(errc::no_inbox));
  EXPECT_EQ(h->send(done, "alice", "hi"), make_error_code(errc::task_terminated));
  EXPECT_EQ(h->abort(abort_selector::Task{sub}), 1u);  // still running: its work ignores the cancel
  EXPECT_EQ(h->send(sub, "alice", "hi"), make_error_code(errc::inbox_closed));
  release->set();
  EXPECT_EQ(this->wait_ok(*h, sub).status, TaskStatus::Cancelled);
  EXPECT_EQ(this->wait_ok(*h, plain).status, TaskStatus::Completed);
}

// ---- events -------------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, ProgressReachesSubscribersBeforeTheEnd) {
  HandlerRegistry handlers;
  handlers.add("steps", [](WorkContext& ctx) {
    ctx.progress(0.25, "reading");
    ctx.progress(0.75, "writing");
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers));
  const TaskId id = this->spawn_ok(*h, task("steps"));
  EXPECT_EQ(this->wait_ok(*h, id).status, TaskStatus::Completed);
  std::vector<TaskEvent> mine;
  ASSERT_TRUE(eventually([&] {
    mine.clear();
    for (const auto& e : h->events()) {
      if (e.id == id) mine.push_back(e);
    }
    return !mine.empty() && mine.back().kind == TaskEventKind::Finished;
  }));
  std::vector<TaskEventKind> kinds;
  for (const auto& e : mine) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<TaskEventKind>{TaskEventKind::Spawned, TaskEventKind::Started, TaskEventKind::Progress,
                                               TaskEventKind::Progress, TaskEventKind::Finished}));
  ASSERT_EQ(mine.size(), 5u);
  EXPECT_DOUBLE_EQ(mine[2].progress, 0.25);
  EXPECT_EQ(mine[2].message, "reading");
  EXPECT_DOUBLE_EQ(mine[3].progress, 0.75);
  EXPECT_EQ(mine[3].message, "writing");
  EXPECT_EQ(mine[4].status, TaskStatus::Completed);
  EXPECT_EQ(mine[4].owner, "alice");
  EXPECT_EQ(mine[4].task_kind, "steps");
}

// ---- limits -------------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, FullQueueRefusesSpawn) {
  auto started = std::make_shared<Signal>();
  auto release = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("blocker", [=](WorkContext& ctx) {
    started->set();
    (void)hold(ctx, *release);
    return Outcome::success();
  });
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  RuntimeOptions options = this->max_running(1);
  options.config.capacity = 2;
  auto h = this->open(std::move(handlers), options);
  const TaskId blocker = this->spawn_ok(*h, task("blocker"));
  ASSERT_TRUE(started->wait());
  const TaskId queued = this->spawn_ok(*h, task("ok"));
  EXPECT_EQ(h->spawn(task("ok")).first, make_error_code(errc::queue_full));
  release->set();
  EXPECT_EQ(this->wait_ok(*h, blocker).status, TaskStatus::Completed);
  EXPECT_EQ(this->wait_ok(*h, queued).status, TaskStatus::Completed);
  EXPECT_EQ(this->wait_ok(*h, this->spawn_ok(*h, task("ok"))).status, TaskStatus::Completed)
      << "room freed by finished tasks must be usable again";
}

// ---- durability ---------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, DurableSpawnAnswersOnlyOnceItsRecordIsOnDisk) {
  auto h = this->open(HandlerRegistry{}, this->durable_options());
  TaskSpec spec = task("later");
  spec.durable = true;
  spec.run_after = std::chrono::hours(1);
  const TaskId id = this->spawn_ok(*h, spec);
  drivers::PosixFileSystem fs;
  auto on_disk = drivers::read_data_dir(this->data_dir(), fs);
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().message;
  const auto& tasks = on_disk.value().snapshot.tasks;
  EXPECT_TRUE(std::any_of(tasks.begin(), tasks.end(), [&](const TaskInfo& t) { return t.id == id; }))
      << "spawn answered before the durable record was synced";
}

TYPED_TEST_P(DriverConformance, DurablePendingTaskSurvivesRestart) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto make_handlers = [calls] {
    HandlerRegistry handlers;
    handlers.add("digest", [calls](WorkContext&) {
      ++*calls;
      return Outcome::success();
    });
    return handlers;
  };
  TaskSpec spec = task("digest", "alice");
  spec.durable = true;
  spec.priority = Priority::High;
  spec.run_after = std::chrono::hours(1);
  spec.payload = {{"thread", 7}};
  TaskSpec forgettable = task("digest", "alice");
  forgettable.run_after = std::chrono::hours(1);
  TaskId id, volatile_id;
  {
    auto h = this->open(make_handlers(), this->durable_options());
    id = this->spawn_ok(*h, spec);
    volatile_id = this->spawn_ok(*h, forgettable);
    EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  }
  auto h = this->open(make_handlers(), this->durable_options());
  const auto restored = info_of(*h, id);
  ASSERT_TRUE(restored.has_value()) << "the durable task was not restored";
  EXPECT_EQ(restored->id, id);
  EXPECT_EQ(restored->status, TaskStatus::Pending);
  EXPECT_EQ(restored->spec.priority, Priority::High);
  EXPECT_EQ(restored->spec.payload, spec.payload);
  EXPECT_EQ(restored->spec.kind, "digest");
  EXPECT_EQ(restored->attempt, 0u);
  EXPECT_FALSE(info_of(*h, volatile_id).has_value()) << "a task that is not durable must not come back";
  EXPECT_EQ(calls->load(), 0);
}

TYPED_TEST_P(DriverConformance, DurableRunningTaskIsOrphanedAfterACrash) {
  auto started = std::make_shared<Signal>();
  auto saw_cancel = std::make_shared<Signal>();
  auto make_handlers = [=] {
    HandlerRegistry handlers;
    handlers.add("long", [=](WorkContext& ctx) {
      started->set();
      if (hold(ctx, Signal{})) saw_cancel->set();
      return Outcome::success();
    });
    return handlers;
  };
  TaskSpec spec = task("long");
  spec.durable = true;
  TaskId id;
  {
    auto h = this->open(make_handlers(), this->durable_options());
    id = this->spawn_ok(*h, spec);
    ASSERT_TRUE(started->wait());
    // The Running record must be on disk before the crash, or there would be nothing to orphan.
    ASSERT_TRUE(eventually([&] {
      drivers::PosixFileSystem fs;
      auto on_disk = drivers::read_data_dir(this->data_dir(), fs);
      if (!on_disk) return false;
      const auto& tasks = on_disk.value().snapshot.tasks;
      return std::any_of(tasks.begin(), tasks.end(),
                         [&](const TaskInfo& t) { return t.id == id && t.status == TaskStatus::Running; });
    }));
    const auto before = std::chrono::steady_clock::now();
    h.reset();  // the crash: no shutdown while the work still runs
    EXPECT_LT(std::chrono::steady_clock::now() - before, 10s) << "destroying the runtime waited for the work";
    EXPECT_TRUE(saw_cancel->wait()) << "the runtime died without cancelling its running work";
  }
  auto h = this->open(make_handlers(), this->durable_options());
  const auto restored = info_of(*h, id);
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(restored->status, TaskStatus::Failed);
  EXPECT_EQ(restored->error, std::optional<std::string>("task orphaned: runtime restarted while running"));
  const TaskInfo waited = this->wait_ok(*h, id);
  EXPECT_EQ(waited.status, TaskStatus::Failed);
  const TaskId next = this->spawn_ok(*h, task("long"));
  EXPECT_GT(next, id) << "a new task reused a restored id";
}

TYPED_TEST_P(DriverConformance, IdsContinuePastEveryIdGivenBeforeARestart) {
  HandlerRegistry handlers;
  TaskSpec durable = task("later");
  durable.durable = true;
  durable.run_after = std::chrono::hours(1);
  TaskSpec in_memory = task("later");
  in_memory.run_after = std::chrono::hours(1);
  TaskId first, second;
  {
    auto h = this->open(handlers, this->durable_options());
    first = this->spawn_ok(*h, durable);
    second = this->spawn_ok(*h, in_memory);
    EXPECT_LT(first, second);
    EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  }
  auto h = this->open(handlers, this->durable_options());
  ASSERT_TRUE(info_of(*h, first).has_value());
  const TaskId next = this->spawn_ok(*h, in_memory);
  EXPECT_GT(next, second) << "ids must never repeat, not even those of tasks that were not durable";
}

TYPED_TEST_P(DriverConformance, IdsNeverRepeatAfterACrashNotEvenOfTasksThatWereNotDurable) {
  TaskSpec in_memory = task("later");
  in_memory.run_after = std::chrono::hours(1);
  TaskSpec durable = in_memory;
  durable.durable = true;
  TaskId last;
  {
    auto h = this->open(HandlerRegistry{}, this->durable_options());
    this->spawn_ok(*h, durable);
    for (int i = 0; i < 5; ++i) last = this->spawn_ok(*h, in_memory);
  }  // the crash: no shutdown, no snapshot
  auto h = this->open(HandlerRegistry{}, this->durable_options());
  const TaskId next = this->spawn_ok(*h, in_memory);
  EXPECT_GT(next, last) << "an id handed out before the crash was handed out again";
}

// ---- shutdown -----------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, DrainShutdownWaitsForRunningWork) {
  auto started = std::make_shared<Signal>();
  auto release = std::make_shared<Signal>();
  auto was_cancelled = std::make_shared<std::atomic<bool>>(false);
  HandlerRegistry handlers;
  handlers.add("work", [=](WorkContext& ctx) {
    started->set();
    was_cancelled->store(hold(ctx, *release));
    return Outcome::success("drained");
  });
  auto h = this->open(std::move(handlers));
  const TaskId running = this->spawn_ok(*h, task("work"));
  TaskSpec later = task("work");
  later.run_after = std::chrono::hours(1);
  const TaskId pending = this->spawn_ok(*h, later);
  ASSERT_TRUE(started->wait());
  auto stopped = std::async(std::launch::async, [&] { return h->shutdown(ShutdownMode::Drain); });
  EXPECT_EQ(stopped.wait_for(200ms), std::future_status::timeout) << "shutdown did not wait for the running work";
  release->set();
  ASSERT_EQ(stopped.wait_for(harness_timeout), std::future_status::ready);
  EXPECT_FALSE(stopped.get());
  EXPECT_FALSE(was_cancelled->load()) << "a draining shutdown cancelled the work";
  const auto done = info_of(*h, running);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->status, TaskStatus::Completed);
  EXPECT_EQ(done->result, Json("drained"));
  const auto still_pending = info_of(*h, pending);
  ASSERT_TRUE(still_pending.has_value());
  EXPECT_EQ(still_pending->status, TaskStatus::Pending) << "shutdown starts nothing and drops nothing";
}

TYPED_TEST_P(DriverConformance, CancelShutdownCancelsRunningWork) {
  auto started = std::make_shared<Signal>();
  auto saw_cancel = std::make_shared<Signal>();
  HandlerRegistry handlers;
  handlers.add("work", [=](WorkContext& ctx) {
    started->set();
    if (hold(ctx, Signal{})) saw_cancel->set();
    return Outcome::success();
  });
  auto h = this->open(std::move(handlers));
  const TaskId id = this->spawn_ok(*h, task("work"));
  ASSERT_TRUE(started->wait());
  EXPECT_FALSE(h->shutdown(ShutdownMode::Cancel));
  EXPECT_TRUE(saw_cancel->is_set()) << "shutdown returned before the work saw its cancellation";
  const auto info = info_of(*h, id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, TaskStatus::Cancelled);
}

TYPED_TEST_P(DriverConformance, SpawnAfterShutdownIsRefused) {
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  auto h = this->open(std::move(handlers));
  EXPECT_EQ(this->wait_ok(*h, this->spawn_ok(*h, task("ok"))).status, TaskStatus::Completed);
  EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  EXPECT_EQ(h->spawn(task("ok")).first, make_error_code(errc::shutting_down));
  EXPECT_FALSE(h->shutdown(ShutdownMode::Drain)) << "a second shutdown answers at once";
}


// ---- metrics and logs -------------------------------------------------------------------------

TYPED_TEST_P(DriverConformance, MetricsCountWhatTheRuntimeDid) {
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  handlers.add("flaky", [](WorkContext& ctx) { return ctx.attempt < 2 ? Outcome::failure("busy") : Outcome::success(); });
  auto h = this->open(std::move(handlers));
  TaskSpec ok = task("ok");
  ok.priority = Priority::High;
  TaskSpec flaky = task("flaky");
  flaky.retry.max_attempts = 2;
  flaky.retry.initial_backoff = 1ms;
  this->wait_ok(*h, this->spawn_ok(*h, ok));
  this->wait_ok(*h, this->spawn_ok(*h, flaky));
  TaskSpec later = task("ok");
  later.priority = Priority::Low;
  later.run_after = seconds(3600);
  this->spawn_ok(*h, later);
  const drivers::MetricsSnapshot m = h->metrics();
  EXPECT_EQ(m.counters.spawned, 3u);
  EXPECT_EQ(m.counters.started, 3u);
  EXPECT_EQ(m.counters.completed, 2u);
  EXPECT_EQ(m.counters.retried, 1u);
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::Low)].delayed, 1u);
  EXPECT_EQ(m.running(), 0u);
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(m.start_lag.count, 3u);
  EXPECT_NE(drivers::prometheus_text(m).find("tasklane_retries_total 1\n"), std::string::npos);
}

TYPED_TEST_P(DriverConformance, LogSinkHearsTheStartAndEveryTaskThatEnds) {
  struct Heard {
    std::mutex mutex;
    std::vector<drivers::LogRecord> records;
  };
  auto heard = std::make_shared<Heard>();
  RuntimeOptions options;
  options.log = [heard](const drivers::LogRecord& r) {
    std::lock_guard lock(heard->mutex);
    heard->records.push_back(r);
  };
  HandlerRegistry handlers;
  handlers.add("fails", [](WorkContext&) { return Outcome::failure("no quota left"); });
  auto h = this->open(std::move(handlers), std::move(options));
  const TaskId id = this->spawn_ok(*h, task("fails"));
  this->wait_ok(*h, id);
  std::lock_guard lock(heard->mutex);
  auto find = [&](const std::string& event) -> const drivers::LogRecord* {
    for (const auto& r : heard->records) {
      if (r.event == event) return &r;
    }
    return nullptr;
  };
  ASSERT_NE(find("runtime_started"), nullptr);
  const drivers::LogRecord* finished = find("task_finished");
  ASSERT_NE(finished, nullptr);
  EXPECT_EQ(finished->level, drivers::LogLevel::Warn);
  EXPECT_EQ(finished->fields.value("id", ""), to_string(id));
  EXPECT_EQ(finished->fields.value("status", ""), "failed");
  EXPECT_EQ(finished->fields.value("error", ""), "no quota left");
  const std::string line = drivers::to_json_line(*finished);
  EXPECT_EQ(line.rfind("{\"time\":\"", 0), 0u) << line;
}

REGISTER_TYPED_TEST_SUITE_P(DriverConformance, SpawnAndWaitReturnsTheHandlersResult,
                            ThrowingHandlerFailsItsAttemptAndNothingElse, KindWithoutHandlerFailsAtOnceWithoutRetry,
                            FailedAttemptIsRetriedAndTheRetrySucceeds, AttemptTimeoutFiresTheTokenAndEndsTimedOut,
                            TimedOutAttemptIsRetriedAndItsLateResultIgnored,
                            CancelOfRunningWorkFiresTheTokenAndEndsWhenTheWorkReturns,
                            CancelOfPendingTaskEndsItWithoutRunning, HigherPrioritiesStartFirst, RunAfterDelaysTheStart,
                            SameSequenceKeyNeverOverlapsAndKeepsSpawnOrder,
                            FlushReportsTheFirstErrorAndLeavesUnmatchedTasks, SentMessageReachesTheInbox,
                            SendRefusalsMapToErrorCodes, ProgressReachesSubscribersBeforeTheEnd, FullQueueRefusesSpawn,
                            DurableSpawnAnswersOnlyOnceItsRecordIsOnDisk, DurablePendingTaskSurvivesRestart, DurableRunningTaskIsOrphanedAfterACrash,
                            IdsContinuePastEveryIdGivenBeforeARestart, IdsNeverRepeatAfterACrashNotEvenOfTasksThatWereNotDurable,
                            DrainShutdownWaitsForRunningWork,
                            CancelShutdownCancelsRunningWork, SpawnAfterShutdownIsRefused,
                            MetricsCountWhatTheRuntimeDid, LogSinkHearsTheStartAndEveryTaskThatEnds);

}  // namespace tasklane::conformance
