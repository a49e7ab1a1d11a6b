// What only the Asio driver offers: completion tokens (callback, use_future, use_awaitable),
// coroutine handlers, io_context::run() lasting exactly as long as the runtime has work out,
// embedding in an io_context that runs other things, and a destructor that stops running work.
#include <gtest/gtest.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tasklane/asio/runtime.hpp"

namespace tasklane {
inline void PrintTo(const TaskStatus& s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(const TaskId& id, std::ostream* os) { *os << to_string(id); }
}  // namespace tasklane

namespace tasklane::asio {
namespace {

using namespace std::chrono_literals;
using drivers::errc;
using drivers::HandlerRegistry;
using drivers::WorkContext;

TaskSpec task(std::string kind) {
  TaskSpec spec;
  spec.kind = std::move(kind);
  spec.owner = "alice";
  return spec;
}

// An io_context run by a thread of its own until this object dies.
class LoopThread {
 public:
  LoopThread() : guard_(io.get_executor()), thread_([this] { io.run(); }) {}
  ~LoopThread() {
    guard_.reset();
    io.stop();
    thread_.join();
  }
  net::io_context io;

 private:
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
};

// Blocks until `token` fires, at most 20 s; true when it fired.
bool wait_for_cancel(const drivers::CancellationToken& token) {
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (!token.cancelled()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// ---- completion tokens --------------------------------------------------------------------

TEST(AsioRuntime, UseFutureCompletesEveryOperation) {
  LoopThread loop;
  HandlerRegistry handlers;
  handlers.add("echo", [](WorkContext& ctx) { return Outcome::success(ctx.payload); });
  runtime rt(loop.io.get_executor(), {}, std::move(handlers));

  auto [start_ec, start_message] = rt.async_start(net::use_future).get();
  EXPECT_FALSE(start_ec) << start_message;
  TaskSpec spec = task("echo");
  spec.payload = {{"text", "hello"}};
  auto [spawn_ec, id] = rt.async_spawn(spec, net::use_future).get();
  ASSERT_FALSE(spawn_ec);
  auto [wait_ec, info] = rt.async_wait(id, net::use_future).get();
  EXPECT_FALSE(wait_ec);
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.result, Json({{"text", "hello"}}));
  auto [flush_ec, first_error] = rt.async_flush(flush_selector::All{}, net::use_future).get();
  EXPECT_FALSE(flush_ec);
  EXPECT_EQ(first_error, "");
  const std::size_t completed = rt.async_read([](const Kernel& k) { return k.stats().completed; }, net::use_future).get();
  EXPECT_EQ(completed, 1u);
  auto [abort_ec, aborted] = rt.async_abort(abort_selector::All{}, net::use_future).get();
  EXPECT_FALSE(abort_ec);
  EXPECT_EQ(aborted, 0u);
  EXPECT_EQ(rt.async_send(id, "alice", "late", net::use_future).get(), make_error_code(errc::task_terminated));
  EXPECT_FALSE(rt.async_shutdown(ShutdownMode::Drain, net::use_future).get());
}

// boost::asio::detached: the task is admitted and runs, and no answer is made (none is asked for).
// A detached spawn that is refused shows in the metrics and in the log, which only the core's
// unanswered path writes.
TEST(AsioRuntime, DetachedSpawnsRunWithoutAnAnswer) {
  LoopThread loop;
  HandlerRegistry handlers;
  std::atomic<int> ran{0};
  handlers.add("count", [&](WorkContext&) {
    ++ran;
    return Outcome::success();
  });
  auto logged = std::make_shared<std::pair<std::mutex, std::vector<std::string>>>();
  runtime_options options;
  options.runtime.log = [logged](const drivers::LogRecord& r) {
    std::lock_guard lock(logged->first);
    logged->second.push_back(r.event);
  };
  runtime rt(loop.io.get_executor(), std::move(options), std::move(handlers));
  EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
  rt.async_spawn(task("count"), net::detached);
  rt.async_admit(task("count"), net::detached);
  rt.async_spawn(task(""), net::detached);  // refused: empty kind
  auto [flush_ec, first_error] = rt.async_flush(flush_selector::All{}, net::use_future).get();
  EXPECT_FALSE(flush_ec);
  EXPECT_EQ(ran.load(), 2);
  const auto counters = rt.metrics().counters;
  EXPECT_EQ(counters.spawned, 2u);
  EXPECT_EQ(counters.refused, 1u);
  EXPECT_FALSE(rt.async_shutdown(ShutdownMode::Drain, net::use_future).get());
  std::lock_guard lock(logged->first);
  EXPECT_EQ(std::count(logged->second.begin(), logged->second.end(), "unanswered_spawn_refused"), 1)
      << "the refusal went to no handler";
}

TEST(AsioRuntime, WaitForAnUnknownTaskAnswersUnknownTask) {
  LoopThread loop;
  runtime rt(loop.io.get_executor(), {}, HandlerRegistry{});
  EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
  auto [ec, info] = rt.async_wait(TaskId{12345}, net::use_future).get();
  EXPECT_EQ(ec, make_error_code(errc::unknown_task));
}

TEST(AsioRuntime, WaitForATaskThatCanNoLongerEndAnswersStopped) {
  LoopThread loop;
  runtime rt(loop.io.get_executor(), {}, HandlerRegistry{});
  EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
  TaskSpec later = task("later");
  later.run_after = std::chrono::hours(1);
  auto [spawn_ec, id] = rt.async_spawn(later, net::use_future).get();
  ASSERT_FALSE(spawn_ec);
  auto before_stop = rt.async_wait(id, net::use_future);
  EXPECT_FALSE(rt.async_shutdown(ShutdownMode::Drain, net::use_future).get());
  ASSERT_EQ(before_stop.wait_for(20s), std::future_status::ready) << "a wait outlived the runtime's stop";
  auto [ec, info] = before_stop.get();
  EXPECT_EQ(ec, make_error_code(errc::stopped));
  EXPECT_EQ(info.status, TaskStatus::Pending);
  auto [after_ec, after_info] = rt.async_wait(id, net::use_future).get();
  EXPECT_EQ(after_ec, make_error_code(errc::stopped));
  EXPECT_EQ(after_info.id, id);
}

TEST(AsioRuntime, FlushThatCanNoLongerCompleteAnswersAtTheStop) {
  LoopThread loop;
  runtime rt(loop.io.get_executor(), {}, HandlerRegistry{});
  EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
  for (const char* scope : {"s1", "s2"}) {
    TaskSpec later = task("later");
    later.key = SequenceKey{"agent", scope, "facts"};
    later.run_after = std::chrono::hours(1);
    ASSERT_FALSE(std::get<0>(rt.async_spawn(later, net::use_future).get()));
  }
  auto before_stop = rt.async_flush(flush_selector::Scope{"s1"}, net::use_future);
  EXPECT_FALSE(rt.async_shutdown(ShutdownMode::Drain, net::use_future).get());
  ASSERT_EQ(before_stop.wait_for(20s), std::future_status::ready) << "a flush outlived the runtime's stop";
  auto [ec, error] = before_stop.get();
  EXPECT_EQ(ec, make_error_code(errc::task_failed));
  EXPECT_NE(error.find("stopped"), std::string::npos) << error;
  auto after_stop = rt.async_flush(flush_selector::Scope{"s2"}, net::use_future);
  ASSERT_EQ(after_stop.wait_for(20s), std::future_status::ready) << "a flush issued after the stop never answered";
  EXPECT_EQ(std::get<0>(after_stop.get()), make_error_code(errc::task_failed));
  auto nothing_left = rt.async_flush(flush_selector::Scope{"s1"}, net::use_future).get();
  EXPECT_EQ(nothing_left, std::make_tuple(std::error_code{}, std::string())) << "s1 was taken by the first flush";
}

TEST(AsioRuntime, StartOnAnUnusableDataDirectoryReportsWhyAndRefusesWork) {
  const auto file = std::filesystem::temp_directory_path() / ("tasklane-not-a-dir-" + std::to_string(::getpid()));
  std::ofstream(file) << "a file where the data directory should be";
  LoopThread loop;
  runtime_options options;
  options.runtime.data_dir = file;
  runtime rt(loop.io.get_executor(), options, HandlerRegistry{});
  auto [ec, message] = rt.async_start(net::use_future).get();
  EXPECT_EQ(ec, make_error_code(errc::stopped));
  EXPECT_FALSE(message.empty());
  TaskSpec durable = task("later");
  durable.durable = true;
  EXPECT_EQ(std::get<0>(rt.async_spawn(durable, net::use_future).get()), make_error_code(errc::shutting_down))
      << "a runtime without its store accepted a durable task";
  std::filesystem::remove(file);
}

TEST(AsioRuntime, UseAwaitableThroughCoSpawn) {
  net::io_context io;
  HandlerRegistry handlers;
  handlers.add("double", [](WorkContext& ctx) { return Outcome::success(ctx.payload.get<int>() * 2); });
  runtime rt(io.get_executor(), {}, std::move(handlers));
  auto body = [&rt]() -> net::awaitable<TaskInfo> {
    auto [start_ec, message] = co_await rt.async_start(net::use_awaitable);
    EXPECT_FALSE(start_ec) << message;
    TaskSpec spec = task("double");
    spec.payload = 21;
    auto [spawn_ec, id] = co_await rt.async_spawn(spec, net::use_awaitable);
    EXPECT_FALSE(spawn_ec);
    auto [wait_ec, info] = co_await rt.async_wait(id, net::use_awaitable);
    EXPECT_FALSE(wait_ec);
    const bool known = co_await rt.async_read([id](const Kernel& k) { return k.get(id).has_value(); }, net::use_awaitable);
    EXPECT_TRUE(known);
    EXPECT_FALSE(co_await rt.async_shutdown(ShutdownMode::Drain, net::use_awaitable));
    co_return info;
  };
  auto result = net::co_spawn(io, body, net::use_future);
  io.run_for(20s);
  ASSERT_EQ(result.wait_for(0s), std::future_status::ready) << "the coroutine never finished";
  const TaskInfo info = result.get();
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.result, Json(42));
}

TEST(AsioRuntime, CallbackRunsOnItsAssociatedExecutorAndNeverInline) {
  net::io_context io;
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  runtime rt(io.get_executor(), {}, std::move(handlers));
  auto mine = net::make_strand(io.get_executor());
  bool started = false;
  bool on_my_strand = false;
  rt.async_start([&](std::error_code ec, const std::string&) {
    EXPECT_FALSE(ec);
    started = true;
  });
  EXPECT_FALSE(started) << "the completion ran inside the initiating call";
  TaskId id{999};
  rt.async_spawn(task("ok"), net::bind_executor(mine, [&](std::error_code ec, TaskId spawned) {
                   EXPECT_FALSE(ec);
                   on_my_strand = mine.running_in_this_thread();
                   id = spawned;
                 }));
  io.run_for(20s);
  EXPECT_TRUE(started);
  EXPECT_TRUE(on_my_strand) << "a handler bound to an executor must run there";
  EXPECT_EQ(id, TaskId{0});
}

// ---- coroutine handlers -------------------------------------------------------------------

TEST(AsioRuntime, CoroutineHandlerRunsOnItsExecutor) {
  net::io_context io;
  HandlerRegistry handlers;
  add_coroutine_handler(handlers, "nap", io.get_executor(), [](WorkContext& ctx) -> net::awaitable<Outcome> {
    net::steady_timer timer(co_await net::this_coro::executor, 20ms);
    co_await timer.async_wait(net::use_awaitable);
    co_return Outcome::success({{"slept_for", ctx.payload}});
  });
  add_coroutine_handler(handlers, "throws", io.get_executor(), [](WorkContext&) -> net::awaitable<Outcome> {
    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    throw std::runtime_error("coroutine broke");
  });
  runtime rt(io.get_executor(), {}, std::move(handlers));
  std::vector<TaskInfo> done;
  rt.async_start([](std::error_code ec, const std::string& message) { EXPECT_FALSE(ec) << message; });
  TaskSpec nap = task("nap");
  nap.payload = "20ms";
  for (const TaskSpec& spec : {nap, task("throws")}) {
    rt.async_spawn(spec, [&](std::error_code ec, TaskId id) {
      ASSERT_FALSE(ec);
      rt.async_wait(id, [&](std::error_code, TaskInfo info) { done.push_back(std::move(info)); });
    });
  }
  io.run_for(20s);
  ASSERT_EQ(done.size(), 2u);
  std::sort(done.begin(), done.end(), [](const TaskInfo& a, const TaskInfo& b) { return a.id < b.id; });
  EXPECT_EQ(done[0].status, TaskStatus::Completed);
  EXPECT_EQ(done[0].result, Json({{"slept_for", "20ms"}}));
  EXPECT_EQ(done[1].status, TaskStatus::Failed);
  EXPECT_EQ(done[1].error, std::optional<std::string>("handler threw: coroutine broke"));
}

TEST(AsioRuntime, CoroutineHandlerSeesItsTimeout) {
  net::io_context io;
  auto woke_early = std::make_shared<std::atomic<bool>>(false);
  HandlerRegistry handlers;
  add_coroutine_handler(handlers, "sleeper", io.get_executor(), [woke_early](WorkContext& ctx) -> net::awaitable<Outcome> {
    auto ex = co_await net::this_coro::executor;
    auto timer = std::make_shared<net::steady_timer>(ex, 20s);
    // The token fires on the runtime's strand; the timer belongs to this coroutine's executor.
    ctx.cancel.on_cancel([ex, timer] { net::post(ex, [timer] { timer->cancel(); }); });
    boost::system::error_code ec;
    co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
    woke_early->store(ec == net::error::operation_aborted);
    co_return Outcome::success();
  });
  runtime rt(io.get_executor(), {}, std::move(handlers));
  std::optional<TaskInfo> done;
  rt.async_start([](std::error_code, const std::string&) {});
  TaskSpec spec = task("sleeper");
  spec.timeout = milliseconds(50);
  rt.async_spawn(spec, [&](std::error_code ec, TaskId id) {
    ASSERT_FALSE(ec);
    rt.async_wait(id, [&](std::error_code, TaskInfo info) { done = std::move(info); });
  });
  const auto before = std::chrono::steady_clock::now();
  io.run_for(20s);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s) << "the coroutine slept through its cancellation";
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->status, TaskStatus::TimedOut);
  EXPECT_TRUE(woke_early->load());
}

// ---- the io_context's life ----------------------------------------------------------------

// The timer is not re-armed when the deadline moves later (a system call each time): the armed
// timer fires early, for nothing, and that fire arms the later deadline. Cancelling the earlier of
// two delayed tasks moves the deadline later; the other must still run, and not before it is due.
TEST(AsioRuntime, ADelayedTaskRunsOnTimeAfterTheEarlierDeadlineWentAway) {
  LoopThread loop;
  std::mutex mutex;
  std::vector<std::pair<TaskId, std::chrono::steady_clock::time_point>> ran;
  HandlerRegistry handlers;
  handlers.add("stamp", [&](WorkContext& ctx) {
    std::lock_guard lock(mutex);
    ran.emplace_back(ctx.id, std::chrono::steady_clock::now());
    return Outcome::success();
  });
  runtime rt(loop.io.get_executor(), {}, std::move(handlers));
  EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
  const auto t0 = std::chrono::steady_clock::now();
  TaskSpec early = task("stamp");
  early.run_after = 40ms;
  TaskSpec late = task("stamp");
  late.run_after = 150ms;
  auto [early_ec, early_id] = rt.async_spawn(early, net::use_future).get();
  auto [late_ec, late_id] = rt.async_spawn(late, net::use_future).get();
  ASSERT_FALSE(early_ec);
  ASSERT_FALSE(late_ec);
  auto [abort_ec, aborted] = rt.async_abort(abort_selector::Task{early_id}, net::use_future).get();
  ASSERT_FALSE(abort_ec);
  EXPECT_EQ(aborted, 1u);
  auto waited = rt.async_wait(late_id, net::use_future);
  ASSERT_EQ(waited.wait_for(20s), std::future_status::ready) << "the later task never ran";
  auto [ec, info] = waited.get();
  EXPECT_FALSE(ec);
  EXPECT_EQ(info.status, TaskStatus::Completed);
  std::lock_guard lock(mutex);
  ASSERT_EQ(ran.size(), 1u) << "the cancelled task ran";
  EXPECT_EQ(ran[0].first, late_id);
  EXPECT_GE(ran[0].second - t0, 150ms) << "the later task ran before it was due";
}

// A deadline already due when the timer is armed is posted to the strand, not waited for; a wait
// still pending for a later deadline must then be cancelled, or run() would wait for it (here: an
// hour) once the task it was for is gone. The timer waits an hour for a pending task; a spawn
// replaces it (dedup ReplacePending) with a task due in 1 ms, and the log sink that hears the
// replaced task end sleeps 20 ms inside that input, so the new deadline is due before it is armed.
TEST(AsioRuntime, RunReturnsOnceDoneThoughALongWaitWasPendingWhenADueDeadlineWasPosted) {
  net::io_context io;
  HandlerRegistry handlers;
  handlers.add("noop", [](WorkContext&) { return Outcome::success(); });
  runtime_options options;
  int slept = 0;
  options.runtime.log = [&slept](const drivers::LogRecord& r) {
    if (r.event == "task_finished" && slept++ == 0) std::this_thread::sleep_for(20ms);
  };
  runtime rt(io.get_executor(), std::move(options), std::move(handlers));
  rt.async_start([](std::error_code, const std::string&) {});
  TaskSpec replaced = task("noop");
  replaced.dedup = DedupSpec{"k", DedupMode::ReplacePending};
  replaced.run_after = std::chrono::hours(1);  // the timer waits for it
  TaskSpec replacement = replaced;
  replacement.run_after = 1ms;  // due while the sink sleeps: posted, not waited for
  rt.async_spawn(replaced, [](std::error_code ec, TaskId) { EXPECT_FALSE(ec); });
  TaskStatus replacement_status = TaskStatus::Pending;
  rt.async_spawn(replacement, [&](std::error_code ec, TaskId id) {
    EXPECT_FALSE(ec);
    rt.async_wait(id, [&](std::error_code, TaskInfo info) { replacement_status = info.status; });
  });
  const auto t0 = std::chrono::steady_clock::now();
  io.run_for(20s);
  EXPECT_TRUE(io.stopped()) << "run() did not come back once the runtime was idle";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_EQ(replacement_status, TaskStatus::Completed);
  EXPECT_GE(slept, 1) << "the replaced task's end was never logged: the test did not reach the posted path";
}

TEST(AsioRuntime, RunReturnsOnlyAfterRunningWorkReportedBack) {
  net::io_context io;
  HandlerRegistry handlers;
  handlers.add("slow", [](WorkContext&) {
    std::this_thread::sleep_for(150ms);
    return Outcome::success("slow done");
  });
  runtime rt(io.get_executor(), {}, std::move(handlers));
  std::vector<drivers::TaskEvent> finished;
  rt.subscribe(std::nullopt, [&](const drivers::TaskEvent& e) {
    if (e.kind == drivers::TaskEventKind::Finished) finished.push_back(e);
  });
  rt.async_start([](std::error_code, const std::string&) {});
  rt.async_spawn(task("slow"), [](std::error_code ec, TaskId) { EXPECT_FALSE(ec); });
  io.run_for(20s);
  EXPECT_TRUE(io.stopped()) << "run() did not come back once the runtime was idle";
  ASSERT_EQ(finished.size(), 1u) << "run() returned while work was still out on the pool";
  EXPECT_EQ(finished[0].data, Json("slow done"));
}

TEST(AsioRuntime, RunReturnsOnlyAfterACoroutineOnAnotherContextReportedBack) {
  LoopThread elsewhere;  // the coroutine runs here, not on the runtime's io_context
  net::io_context io;
  HandlerRegistry handlers;
  add_coroutine_handler(handlers, "remote", elsewhere.io.get_executor(), [](WorkContext&) -> net::awaitable<Outcome> {
    net::steady_timer timer(co_await net::this_coro::executor, 150ms);
    co_await timer.async_wait(net::use_awaitable);
    co_return Outcome::success("remote done");
  });
  runtime rt(io.get_executor(), {}, std::move(handlers));
  std::vector<drivers::TaskEvent> finished;
  rt.subscribe(std::nullopt, [&](const drivers::TaskEvent& e) {
    if (e.kind == drivers::TaskEventKind::Finished) finished.push_back(e);
  });
  rt.async_start([](std::error_code, const std::string&) {});
  rt.async_spawn(task("remote"), [](std::error_code ec, TaskId) { EXPECT_FALSE(ec); });
  io.run_for(20s);
  EXPECT_TRUE(io.stopped()) << "run() did not come back once the runtime was idle";
  ASSERT_EQ(finished.size(), 1u) << "run() returned while a coroutine handler was still out";
  EXPECT_EQ(finished[0].data, Json("remote done"));
}

TEST(AsioRuntime, EmbedsInAnIoContextThatRunsOtherWork) {
  net::io_context io;
  std::atomic<int> heartbeats{0};
  std::atomic<bool> all_done{false};
  net::steady_timer heartbeat(io);
  std::function<void()> beat = [&] {
    heartbeat.expires_after(5ms);
    heartbeat.async_wait([&](const boost::system::error_code& ec) {
      if (ec || all_done) return;
      ++heartbeats;
      beat();
    });
  };
  beat();

  struct Seen {
    std::mutex mutex;
    std::vector<int> beats_at_start, beats_at_end;
    std::vector<std::thread::id> threads;
  };
  auto seen = std::make_shared<Seen>();
  HandlerRegistry handlers;
  handlers.add("work", [seen, &heartbeats](WorkContext&) {
    const int at_start = heartbeats.load();
    std::this_thread::sleep_for(100ms);
    std::lock_guard lock(seen->mutex);
    seen->beats_at_start.push_back(at_start);
    seen->beats_at_end.push_back(heartbeats.load());
    seen->threads.push_back(std::this_thread::get_id());
    return Outcome::success();
  });
  runtime rt(io.get_executor(), {}, std::move(handlers));
  int finished = 0;
  rt.async_start([](std::error_code, const std::string&) {});
  for (int i = 0; i < 3; ++i) {
    rt.async_spawn(task("work"), [&](std::error_code ec, TaskId id) {
      ASSERT_FALSE(ec);
      rt.async_wait(id, [&](std::error_code, TaskInfo info) {
        EXPECT_EQ(info.status, TaskStatus::Completed);
        if (++finished == 3) all_done = true;
      });
    });
  }
  io.run_for(20s);
  EXPECT_EQ(finished, 3);
  std::lock_guard lock(seen->mutex);
  ASSERT_EQ(seen->threads.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NE(seen->threads[i], std::this_thread::get_id()) << "work ran on the io_context's own thread";
    EXPECT_GT(seen->beats_at_end[i], seen->beats_at_start[i]) << "the io_context's other work stalled while tasks ran";
  }
}

TEST(AsioRuntime, WorkRunsOnTheExecutorTheUserGives) {
  LoopThread loop;
  net::thread_pool users_pool(1);
  const std::thread::id pool_thread = net::post(users_pool, net::use_future([] { return std::this_thread::get_id(); })).get();
  auto ran_on = std::make_shared<std::promise<std::thread::id>>();
  HandlerRegistry handlers;
  handlers.add("where", [ran_on](WorkContext&) {
    ran_on->set_value(std::this_thread::get_id());
    return Outcome::success();
  });
  runtime_options options;
  // emplace, not assignment: gcc 12 at -O1 with ASan warns (wrongly) that the moved-into
  // any_executor may be uninitialised.
  options.work_executor.emplace(users_pool.get_executor());
  runtime rt(loop.io.get_executor(), options, std::move(handlers));
  EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
  auto [ec, id] = rt.async_spawn(task("where"), net::use_future).get();
  ASSERT_FALSE(ec);
  EXPECT_EQ(std::get<1>(rt.async_wait(id, net::use_future).get()).status, TaskStatus::Completed);
  EXPECT_EQ(ran_on->get_future().get(), pool_thread);
  users_pool.join();
}

TEST(AsioRuntime, WorksOnAnIoContextRunByManyThreads) {
  net::io_context io;
  auto guard = net::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&io] { io.run(); });
  HandlerRegistry handlers;
  handlers.add("step", [](WorkContext& ctx) {
    ctx.progress(0.5, "half");
    return Outcome::success(ctx.payload);
  });
  runtime_options options;
  options.runtime.config.max_running = 8;
  std::atomic<int> progress_events{0};
  {
    runtime rt(io.get_executor(), options, std::move(handlers));
    rt.subscribe(std::nullopt, [&](const drivers::TaskEvent& e) {
      if (e.kind == drivers::TaskEventKind::Progress) ++progress_events;
    });
    EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
    std::vector<std::future<std::tuple<std::error_code, TaskId>>> spawns;
    for (int i = 0; i < 60; ++i) {
      TaskSpec spec = task("step");
      spec.payload = i;
      spec.priority = static_cast<Priority>(i % 4);
      spawns.push_back(rt.async_spawn(spec, net::use_future));
    }
    std::vector<std::future<std::tuple<std::error_code, TaskInfo>>> waits;
    for (auto& s : spawns) {
      auto [ec, id] = s.get();
      ASSERT_FALSE(ec);
      waits.push_back(rt.async_wait(id, net::use_future));
    }
    for (auto& w : waits) {
      ASSERT_EQ(w.wait_for(20s), std::future_status::ready);
      auto [ec, info] = w.get();
      EXPECT_FALSE(ec);
      EXPECT_EQ(info.status, TaskStatus::Completed);
      EXPECT_EQ(info.result, info.spec.payload);
    }
    EXPECT_FALSE(rt.async_shutdown(ShutdownMode::Drain, net::use_future).get());
    const auto stats = rt.async_read([](const Kernel& k) { return k.stats(); }, net::use_future).get();
    EXPECT_EQ(stats.completed, 60u);
  }
  EXPECT_EQ(progress_events.load(), 60);
  guard.reset();
  for (auto& t : threads) t.join();
}

// ---- the destructor -----------------------------------------------------------------------

TEST(AsioRuntime, DestructorCancelsRunningWorkAndWaitsForIt) {
  LoopThread loop;
  auto started = std::make_shared<std::promise<void>>();
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto returned = std::make_shared<std::atomic<bool>>(false);
  HandlerRegistry handlers;
  handlers.add("stubborn", [=](WorkContext& ctx) {
    started->set_value();
    cancelled->store(wait_for_cancel(ctx.cancel));
    returned->store(true);
    return Outcome::success();
  });
  auto rt = std::make_unique<runtime>(loop.io.get_executor(), runtime_options{}, std::move(handlers));
  EXPECT_FALSE(std::get<0>(rt->async_start(net::use_future).get()));
  EXPECT_FALSE(std::get<0>(rt->async_spawn(task("stubborn"), net::use_future).get()));
  ASSERT_EQ(started->get_future().wait_for(20s), std::future_status::ready);
  const auto before = std::chrono::steady_clock::now();
  rt.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s);
  EXPECT_TRUE(cancelled->load()) << "the destructor did not fire the running work's token";
  EXPECT_TRUE(returned->load()) << "the destructor returned while its own workers still ran";
  // The io_context the runtime lived in goes on working.
  EXPECT_EQ(net::post(loop.io, net::use_future([] { return 7; })).get(), 7);
}

TEST(AsioRuntime, DestructorWorksWhileTheIoContextIsNotRunning) {
  net::io_context io;
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  HandlerRegistry handlers;
  handlers.add("stubborn", [=](WorkContext& ctx) {
    started->store(true);
    cancelled->store(wait_for_cancel(ctx.cancel));
    return Outcome::success();
  });
  {
    runtime rt(io.get_executor(), {}, std::move(handlers));
    rt.async_start([](std::error_code, const std::string&) {});
    rt.async_spawn(task("stubborn"), [](std::error_code, TaskId) {});
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (!started->load() && std::chrono::steady_clock::now() < until) io.run_for(5ms);
    ASSERT_TRUE(started->load());
  }  // destroyed with the work out and nobody running the io_context
  EXPECT_TRUE(cancelled->load());
}

TEST(AsioRuntime, CallsQueuedForAStrandThatNeverRunsAreReleased) {
  // Calls from a thread that is not the strand's wait in the runtime's inbox for one post to the
  // strand. When the runtime and then the io_context go without that post ever running, what the
  // calls carry (here a listener and a completion handler) must be destroyed, not kept alive by a
  // cycle through the runtime's own state.
  auto sentinel = std::make_shared<int>(7);
  const std::weak_ptr<int> watched = sentinel;
  {
    net::io_context io;
    {
      runtime rt(io.get_executor(), {}, HandlerRegistry{});
      rt.subscribe(std::nullopt, [held = sentinel](const drivers::TaskEvent&) {});
      rt.async_start([held = sentinel](std::error_code, const std::string&) {});
      sentinel.reset();
      EXPECT_FALSE(watched.expired());  // queued, not yet run
    }
  }
  EXPECT_TRUE(watched.expired());
}

TEST(AsioRuntime, ACallThatThrowsLeavesTheCallsBehindItToRunNext) {
  // Calls from other threads reach the strand in one batch; one that throws propagates out of
  // run() like any throwing handler, and the calls behind it run when run() is called again.
  net::io_context io;
  runtime rt(io.get_executor(), {}, HandlerRegistry{});
  int read = 0;
  rt.async_read([](const Kernel&) -> int { throw std::runtime_error("bad read"); }, [](int) {});
  rt.async_read([](const Kernel&) { return 2; }, [&](int v) { read = v; });
  EXPECT_THROW(io.run(), std::runtime_error);
  EXPECT_EQ(read, 0);
  io.restart();
  io.run();
  EXPECT_EQ(read, 2);
}

TEST(AsioRuntime, ADetachedSpawnBehindACallThatThrowsIsKeptInItsPlace) {
  // A detached spawn waits in the inbox as its spec, not as a call: it is kept behind a throwing
  // call like any other, and still comes before the calls made after it.
  net::io_context io;
  runtime rt(io.get_executor(), {}, HandlerRegistry{});
  rt.async_read([](const Kernel&) -> int { throw std::runtime_error("bad read"); }, [](int) {});
  TaskSpec later = task("later");
  later.run_after = std::chrono::hours(1);
  rt.async_spawn(later, net::detached);
  std::size_t pending = 99;
  rt.async_read([](const Kernel& k) { return k.load().unfinished[static_cast<std::size_t>(Priority::Normal)]; },
                [&](std::size_t n) { pending = n; });
  EXPECT_THROW(io.run(), std::runtime_error);
  EXPECT_EQ(pending, 99u);
  io.restart();
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(pending, 1u) << "the spawn ran before the read made after it";
  EXPECT_EQ(rt.metrics().counters.spawned, 1u);
}

TEST(AsioRuntime, ADetachedSpawnMadeOnTheStrandIsAdmittedAtOnce) {
  LoopThread loop;
  runtime rt(loop.io.get_executor(), {}, HandlerRegistry{});
  EXPECT_FALSE(std::get<0>(rt.async_start(net::use_future).get()));
  std::promise<std::uint64_t> spawned_after_call;
  net::post(rt.get_executor(), [&] {
    TaskSpec later = task("later");
    later.run_after = std::chrono::hours(1);
    rt.async_spawn(later, net::detached);
    spawned_after_call.set_value(rt.metrics().counters.spawned);  // published when the call's turn ended
  });
  EXPECT_EQ(spawned_after_call.get_future().get(), 1u);
  EXPECT_FALSE(rt.async_shutdown(ShutdownMode::Drain, net::use_future).get());
}

TEST(AsioRuntime, AReadThatDestroysTheRuntimeIsAnsweredAndTheCallsBehindItAreReleased) {
  // The read's answer published the metrics through the core the read had just destroyed.
  net::io_context io;
  auto rt = std::make_unique<runtime>(io.get_executor(), runtime_options{}, HandlerRegistry{});
  auto sentinel = std::make_shared<int>(7);
  const std::weak_ptr<int> watched = sentinel;
  int answer = 0;
  rt->async_read(
      [&rt](const Kernel&) {
        rt.reset();
        return 1;
      },
      [&](int v) { answer = v; });
  rt->subscribe(std::nullopt, [held = sentinel](const drivers::TaskEvent&) {});
  sentinel.reset();
  io.run();
  EXPECT_EQ(rt, nullptr);
  EXPECT_EQ(answer, 1);
  EXPECT_TRUE(watched.expired()) << "the call behind the one that destroyed the runtime was kept alive";
}

TEST(AsioRuntime, DestroyingABusyRuntimeIsSafe) {
  // Work keeps completing on the pool and reporting to the strand while the runtime dies.
  LoopThread loop;
  for (int round = 0; round < 20; ++round) {
    HandlerRegistry handlers;
    handlers.add("tick", [](WorkContext& ctx) {
      ctx.progress(0.5, "half");
      return Outcome::success();
    });
    runtime_options options;
    options.runtime.config.max_running = 8;
    auto rt = std::make_unique<runtime>(loop.io.get_executor(), options, std::move(handlers));
    rt->subscribe(std::nullopt, [](const drivers::TaskEvent&) {});
    rt->async_start([](std::error_code, const std::string&) {});
    for (int i = 0; i < 30; ++i) {
      TaskSpec spec = task("tick");
      spec.timeout = milliseconds(1 + i % 3);
      rt->async_spawn(spec, [](std::error_code, TaskId) {});
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200 * (round % 5)));
    rt.reset();
  }
  EXPECT_EQ(net::post(loop.io, net::use_future([] { return 1; })).get(), 1);
}

}  // namespace
}  // namespace tasklane::asio
