// RuntimeCore driven directly through its four hooks, with the owner and the worker played by
// the test: what only shows at the seam between a driver and the core.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include "tasklane/drivers/runtime_core.hpp"

namespace tasklane::drivers {
namespace {

using namespace std::chrono_literals;

// The owner's queue (to_owner) and the work handed out (run_work), both run by the test.
struct ManualDriver {
  std::mutex mutex;
  std::deque<std::function<void()>> owner_calls;
  std::deque<std::function<void()>> work;
  std::size_t owner_posts = 0;
  std::size_t arms = 0;

  RuntimeHooks hooks() {
    RuntimeHooks h;
    h.run_work = [this](std::function<void()> f) { work.push_back(std::move(f)); };
    h.to_owner = [this](std::function<void()> f) {
      std::lock_guard lock(mutex);
      ++owner_posts;
      owner_calls.push_back(std::move(f));
    };
    h.arm_timer = [this](std::optional<Time>) { ++arms; };  // each drain arms the timer
    h.now = [] { return Time{0}; };
    return h;
  }
  void run_owner_calls() {
    for (;;) {
      std::function<void()> f;
      {
        std::lock_guard lock(mutex);
        if (owner_calls.empty()) return;
        f = std::move(owner_calls.front());
        owner_calls.pop_front();
      }
      f();
    }
  }
  // Runs the work handed out, and what that work hands out, until none is left.
  void run_work() {
    while (!work.empty()) {
      auto f = std::move(work.front());
      work.pop_front();
      f();
    }
  }
  // Runs handed-out work and owner calls until neither has any left (one thread: the test's).
  void run_until_quiet() {
    while (!work.empty() || !owner_calls.empty()) {
      run_work();
      run_owner_calls();
    }
  }
  std::size_t posts() {
    std::lock_guard lock(mutex);
    return owner_posts;
  }
};

TEST(RuntimeCore, ReportsFromWorkThatOutlivesTheCoreAreDroppedNotPostedToTheOwner) {
  // Work that ignores its cancellation token keeps reporting after the runtime is gone; nothing it
  // reports may reach the owner any more (nor pile up waiting for a take that never comes).
  ManualDriver driver;
  std::promise<void> started;
  std::promise<void> release;
  auto released = release.get_future().share();
  HandlerRegistry handlers;
  handlers.add("stubborn", [&](WorkContext& ctx) {
    started.set_value();
    released.wait();
    for (int i = 0; i < 100; ++i) ctx.progress(i / 100.0, "still going");
    return Outcome::success();
  });
  auto core = std::make_unique<RuntimeCore>(RuntimeOptions{}, std::move(handlers), driver.hooks());
  ASSERT_TRUE(core->start());
  TaskSpec spec;
  spec.kind = "stubborn";
  bool accepted = false;
  core->spawn(spec, [&](Result<TaskId, SpawnError> r) { accepted = static_cast<bool>(r); });
  driver.run_owner_calls();
  ASSERT_TRUE(accepted);
  ASSERT_EQ(driver.work.size(), 1u);
  std::thread worker(std::move(driver.work.front()));
  driver.work.pop_front();
  ASSERT_EQ(started.get_future().wait_for(20s), std::future_status::ready);

  core.reset();
  const std::size_t posts_at_destruction = driver.posts();
  release.set_value();
  worker.join();

  EXPECT_EQ(driver.posts(), posts_at_destruction);
  driver.run_owner_calls();  // whatever was posted before finds no core
}

TEST(RuntimeCore, WorkThatBeginsAfterTheCoreIsGoneStillRunsItsHandler) {
  // With an executor of the user's, an attempt handed over may begin after the runtime is gone:
  // it holds on to its handler (and the registry it lives in), and its outcome goes nowhere.
  ManualDriver driver;
  auto ran = std::make_shared<std::atomic<int>>(0);
  HandlerRegistry handlers;
  handlers.add("late", [ran](WorkContext& ctx) {
    ctx.progress(0.5, "half");
    ctx.heartbeat();
    ++*ran;
    return Outcome::success();
  });
  auto core = std::make_unique<RuntimeCore>(RuntimeOptions{}, std::move(handlers), driver.hooks());
  ASSERT_TRUE(core->start());
  TaskSpec spec;
  spec.kind = "late";
  spec.heartbeat = std::chrono::duration_cast<Duration>(1s);
  core->spawn(spec, [](Result<TaskId, SpawnError>) {});
  driver.run_owner_calls();
  ASSERT_EQ(driver.work.size(), 1u);

  core.reset();
  const std::size_t posts_at_destruction = driver.posts();
  driver.work.front()();
  EXPECT_EQ(ran->load(), 1);
  EXPECT_EQ(driver.posts(), posts_at_destruction);
}

TEST(RuntimeCore, AContextMadeByHandHasProgressAndHeartbeatThatDoNothing) {
  // A handler tested on its own gets a WorkContext built by the test: reporting must not throw.
  WorkContext ctx;
  ctx.id = TaskId{7};
  EXPECT_NO_THROW(ctx.progress(0.5, "half"));
  EXPECT_NO_THROW(ctx.heartbeat());
  std::function<void(double, std::string)> as_function = ctx.progress;  // still usable as a callable
  EXPECT_NO_THROW(as_function(1.0, "done"));
}

TEST(RuntimeCore, ACallbackThatThrowsLeavesTheCallbacksQueuedBehindItToRunNext) {
  // The owner's callbacks run in batches; one that throws propagates to the driver's loop (as
  // Asio does with a throwing handler), and the ones behind it run on the next turn, not never.
  ManualDriver driver;
  RuntimeCore core(RuntimeOptions{}, HandlerRegistry{}, driver.hooks());
  ASSERT_TRUE(core.start());
  TaskSpec spec;
  spec.kind = "never_run";
  std::vector<TaskId> answered;
  core.spawn(spec, [&](Result<TaskId, SpawnError>) { throw std::runtime_error("user bug"); });
  core.spawn(spec, [&](Result<TaskId, SpawnError> r) { answered.push_back(r.value()); });
  core.spawn(spec, [&](Result<TaskId, SpawnError> r) { answered.push_back(r.value()); });
  EXPECT_THROW(driver.run_owner_calls(), std::runtime_error);
  driver.run_owner_calls();
  EXPECT_EQ(answered.size(), 2u);
}

TEST(RuntimeCore, ASpawnThatAsksForNoAnswerQueuesNoneAndStillRuns) {
  // Fire and forget: an empty callback queues no user call, so nothing is posted back for it.
  ManualDriver driver;
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  RuntimeCore core(RuntimeOptions{}, std::move(handlers), driver.hooks());
  ASSERT_TRUE(core.start());
  TaskSpec spec;
  spec.kind = "ok";
  spec.durable = true;  // no journal: the answer does not wait for a sync
  const std::size_t before = driver.posts();
  core.spawn(spec, nullptr);
  core.admit(spec, nullptr);
  EXPECT_EQ(driver.posts(), before) << "no answer to post";
  std::vector<TaskId> answered;
  core.spawn(spec, [&](Result<TaskId, SpawnError> r) { answered.push_back(r.value()); });
  EXPECT_EQ(driver.posts(), before + 1) << "an answer is posted for the one that asked";
  driver.run_until_quiet();
  EXPECT_EQ(answered, std::vector<TaskId>{TaskId{2}});
  EXPECT_EQ(core.kernel().stats().completed, 3u) << "the unanswered spawns ran all the same";
}

// A started core whose handler "ok" succeeds, `slots` attempts at a time, with `tasks` spawned.
std::unique_ptr<RuntimeCore> core_with_ok_tasks(RuntimeHooks hooks, std::size_t slots, int tasks) {
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  RuntimeOptions options;
  options.config.max_running = slots;
  auto core = std::make_unique<RuntimeCore>(std::move(options), std::move(handlers), std::move(hooks));
  EXPECT_TRUE(core->start());
  TaskSpec spec;
  spec.kind = "ok";
  for (int i = 0; i < tasks; ++i) core->spawn(spec, nullptr);
  return core;
}

// Forty tasks with twenty slots, the first twenty run: their outcomes wait for one take. `hooks`
// are the test's (run_work may be its own).
struct TwentyOutcomesWaiting {
  ManualDriver& driver;
  std::unique_ptr<RuntimeCore> core;
  TwentyOutcomesWaiting(ManualDriver& d, RuntimeHooks hooks) : driver(d), core(core_with_ok_tasks(std::move(hooks), 20, 40)) {
    driver.run_work();  // the twenty attempts (or the drainer that runs them)
    EXPECT_EQ(core->kernel().stats().started, 20u);
  }
};

TEST(RuntimeCore, StartsMadeWhileTakingABatchOfReportsReachTheWorkersBeforeTheBatchEnds) {
  // An owner slower than its workers would otherwise leave them idle for a whole batch: the
  // starts its completions make are handed over a few at a time, while the batch is still taken.
  // With work_threads 0 each attempt is its own run_work call; with 1, one drainer serves them all.
  for (const std::size_t threads : {std::size_t{0}, std::size_t{1}}) {
    SCOPED_TRACE("work_threads " + std::to_string(threads));
    ManualDriver driver;
    RuntimeCore* core = nullptr;
    std::vector<std::uint64_t> completed_at_handoff;  // the owner's completions at each run_work call
    RuntimeHooks hooks = driver.hooks();
    hooks.work_threads = threads;
    hooks.run_work = [&](std::function<void()> f) {
      completed_at_handoff.push_back(core ? core->kernel().stats().completed : 0);
      driver.work.push_back(std::move(f));
    };
    TwentyOutcomesWaiting waiting(driver, std::move(hooks));
    core = waiting.core.get();
    completed_at_handoff.clear();
    driver.run_owner_calls();  // one batch: twenty completions, each starting one of the other twenty
    ASSERT_EQ(core->kernel().stats().completed, 20u);
    ASSERT_EQ(completed_at_handoff.size(), threads == 0 ? 20u : 1u) << "one call per attempt, or one drainer";
    EXPECT_LT(completed_at_handoff.front(), 20u) << "the first starts went over before the batch's last completion";
    EXPECT_LE(completed_at_handoff.front(), 8u) << "after a few completions, not half the batch";
    EXPECT_TRUE(std::is_sorted(completed_at_handoff.begin(), completed_at_handoff.end()));
    driver.run_until_quiet();
    EXPECT_EQ(core->kernel().stats().completed, 40u);
  }
}

TEST(RuntimeCore, AHandOffThatFailsInTheMiddleOfABatchLosesNoneOfTheBatchsReports) {
  // Out of memory while handing over the first starts of a batch: the batch's other outcomes are
  // still taken, the failure reaches the driver's loop, and the starts left go with the next input.
  ManualDriver driver;
  bool fail_next_post = false;
  RuntimeHooks hooks = driver.hooks();
  hooks.run_work = [&](std::function<void()> f) {
    if (std::exchange(fail_next_post, false)) throw std::bad_alloc();
    driver.work.push_back(std::move(f));
  };
  TwentyOutcomesWaiting waiting(driver, std::move(hooks));
  RuntimeCore& core = *waiting.core;
  fail_next_post = true;
  EXPECT_THROW(driver.run_owner_calls(), std::bad_alloc);
  EXPECT_EQ(core.kernel().stats().completed, 20u) << "every outcome of the batch was taken";
  EXPECT_TRUE(driver.work.empty()) << "the hand-off failed before any attempt went over";
  core.poke(std::nullopt, "next input");
  EXPECT_EQ(driver.work.size(), 19u) << "all but the attempt whose post failed go with the next input";
  driver.run_until_quiet();
  EXPECT_EQ(core.kernel().stats().completed, 39u);
  EXPECT_EQ(core.kernel().running(), 1u) << "the lost attempt's task stays running (until its timeout, if it has one)";
}

TEST(RuntimeCore, ABatchOfReportsReadsTheClockOnceForAllItsInputs) {
  // The reports of one batch all arrived before it was taken: each is an input stamped with the
  // time the owner read when it took the batch, not a clock read of its own.
  ManualDriver driver;
  std::size_t clock_reads = 0;
  Time clock{1000};
  RuntimeHooks hooks = driver.hooks();
  hooks.now = [&] {
    ++clock_reads;
    return clock;
  };
  const auto owned = core_with_ok_tasks(std::move(hooks), 10, 10);
  RuntimeCore& core = *owned;
  ASSERT_EQ(driver.work.size(), 10u);
  driver.run_work();  // ten outcomes wait for one take
  clock_reads = 0;
  clock = Time{5000};
  driver.run_owner_calls();
  EXPECT_EQ(core.kernel().stats().completed, 10u);
  EXPECT_EQ(clock_reads, 1u) << "one read for the batch's ten completions";
  EXPECT_EQ(core.kernel().last_time(), Time{5000});
  clock = Time{6000};
  core.poke(std::nullopt, "an input outside a batch");  // reads the clock itself
  EXPECT_EQ(clock_reads, 2u);
  EXPECT_EQ(core.kernel().last_time(), Time{6000});
}

TEST(RuntimeCore, AReportArrivingWhileTheBatchReadsTheClockWaitsForTheNextBatch) {
  // The batch's time is read after the batch is taken, so no report of it arrived later than its
  // stamp: one that arrives during the read is the next batch's, with a read of its own.
  ManualDriver driver;
  std::size_t clock_reads = 0;
  std::function<void()> arrive_during_read;
  RuntimeHooks hooks = driver.hooks();
  hooks.now = [&] {
    ++clock_reads;
    if (arrive_during_read) std::exchange(arrive_during_read, nullptr)();
    return Time{1000 * static_cast<std::int64_t>(clock_reads)};
  };
  const auto owned = core_with_ok_tasks(std::move(hooks), 3, 3);
  RuntimeCore& core = *owned;
  ASSERT_EQ(driver.work.size(), 3u);
  driver.work[0]();
  driver.work[1]();
  arrive_during_read = std::move(driver.work[2]);  // its outcome comes while the batch reads the clock
  driver.work.clear();
  clock_reads = 0;
  driver.run_owner_calls();
  EXPECT_EQ(core.kernel().stats().completed, 3u);
  EXPECT_EQ(clock_reads, 2u) << "the late outcome was not in the batch stamped before it arrived";
}

TEST(RuntimeCore, AnUnansweredSpawnThatIsRefusedIsLogged) {
  ManualDriver driver;
  std::vector<LogRecord> logged;
  RuntimeOptions options;
  options.log = [&](const LogRecord& r) { logged.push_back(r); };
  RuntimeCore core(std::move(options), HandlerRegistry{}, driver.hooks());
  ASSERT_TRUE(core.start());
  logged.clear();
  core.spawn(TaskSpec{}, nullptr);  // no kind
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].level, LogLevel::Warn);
  EXPECT_EQ(logged[0].event, "unanswered_spawn_refused");
  EXPECT_EQ(logged[0].fields, Json({{"code", "empty_kind"}, {"message", "task kind must not be empty"}}));
  core.spawn(TaskSpec{}, [](Result<TaskId, SpawnError>) {});
  EXPECT_EQ(logged.size(), 1u) << "a refusal someone is answered with is not logged";
  EXPECT_EQ(core.metrics()->snapshot().counters.refused, 2u);
}

TEST(RuntimeCore, MetricsArePublishedOncePerTurnAndBeforeTheTurnsCallbacksRun) {
  // Outside a turn every input is published at once; inside one, when the outermost turn ends.
  // A callback never reads metrics older than the inputs that answered it, even inside a turn.
  ManualDriver driver;
  RuntimeCore core(RuntimeOptions{}, HandlerRegistry{}, driver.hooks());
  ASSERT_TRUE(core.start());
  const auto metrics = core.metrics();
  TaskSpec spec;
  spec.kind = "never_run";  // no handler: its attempt fails on the owner's next turn
  spec.run_after = 1h;      // and it waits an hour for that
  core.spawn(spec, [](Result<TaskId, SpawnError>) {});
  EXPECT_EQ(metrics->snapshot().counters.spawned, 1u) << "no turn: published by the input itself";
  std::uint64_t seen_by_callback = 0;
  {
    const RuntimeCore::Turn turn(core);
    {
      const RuntimeCore::Turn nested(core);
      core.spawn(spec, [](Result<TaskId, SpawnError>) {});
    }
    core.spawn(spec, [&](Result<TaskId, SpawnError>) { seen_by_callback = metrics->snapshot().counters.spawned; });
    EXPECT_EQ(metrics->snapshot().counters.spawned, 1u) << "inside a turn: not yet (the nested one ended)";
    EXPECT_EQ(metrics->snapshot().delayed(), 1u);
    driver.run_owner_calls();  // the answers run inside the turn
    EXPECT_EQ(seen_by_callback, 3u) << "the callbacks' batch publishes before it runs them";
    core.spawn(spec, [](Result<TaskId, SpawnError>) {});
  }
  const MetricsSnapshot m = metrics->snapshot();
  EXPECT_EQ(m.counters.spawned, 4u) << "the turn's end publishes the rest";
  EXPECT_EQ(m.delayed(), 4u);
}

// A core whose "record" handler notes the ids it runs, in order.
struct RecordingCore {
  explicit RecordingCore(ManualDriver& driver, RuntimeOptions options = {})
      : core(std::move(options), handlers(), driver.hooks()) {}
  HandlerRegistry handlers() {
    HandlerRegistry h;
    h.add("record", [this](WorkContext& ctx) {
      ran.push_back(ctx.id);
      return Outcome::success();
    });
    return h;
  }
  static TaskSpec spec(Duration after = Duration{0}) {
    TaskSpec s;
    s.kind = "record";
    s.run_after = after;
    return s;
  }
  void spawn(Duration after = Duration{0}) { spawn(spec(after)); }
  void spawn(const TaskSpec& s) {  // its id is in `answered` once the owner ran the answer
    core.spawn(s, [this](Result<TaskId, SpawnError> r) {
      ASSERT_TRUE(r.has_value());
      answered.push_back(r.value());
    });
  }
  std::vector<TaskId> answered;
  std::vector<TaskId> ran;
  RuntimeCore core;
};

TEST(RuntimeCore, SpawnsOfABatchThatStartNothingDrainOnceWhenItEnds) {
  // Each drain arms the timer: three delayed spawns in a batch drain once, at its end.
  ManualDriver driver;
  RecordingCore rc(driver);
  ASSERT_TRUE(rc.core.start());
  const std::size_t before = driver.arms;
  RuntimeCore::Batch batch(rc.core);
  for (int i = 0; i < 3; ++i) rc.spawn(1h);
  EXPECT_EQ(driver.arms, before) << "a spawn inside a batch drained before the batch ended";
  EXPECT_FALSE(rc.core.idle()) << "a batch's commands wait: the core is not idle";
  batch.end();
  EXPECT_EQ(driver.arms, before + 1) << "the batch's end drains once";
  EXPECT_EQ(rc.core.kernel().unfinished(), 3u);
}

TEST(RuntimeCore, ASpawnInsideABatchThatStartsATaskHandsItToTheWorkersAtOnce) {
  // Its attempt must not wait for the rest of the batch, the workers idle meanwhile. The spawns
  // queued behind it (one running slot) start in their order.
  ManualDriver driver;
  RuntimeOptions options;
  options.config.max_running = 1;
  RecordingCore rc(driver, options);
  ASSERT_TRUE(rc.core.start());
  {
    RuntimeCore::Batch batch(rc.core);
    rc.spawn();
    EXPECT_EQ(driver.work.size(), 1u) << "a started attempt waited for the batch's end";
    rc.spawn();
    rc.spawn();
    batch.end();
  }
  driver.run_owner_calls();
  driver.run_until_quiet();
  ASSERT_EQ(rc.ran.size(), 3u);
  EXPECT_TRUE(std::is_sorted(rc.ran.begin(), rc.ran.end(), [](TaskId a, TaskId b) { return a.value < b.value; }))
      << "the attempts started out of their spawns' order";
  EXPECT_TRUE(rc.core.idle());
}

TEST(RuntimeCore, AnInputOtherThanASpawnInsideABatchCarriesOutWhatWaitsAtOnce) {
  // The code after such an input reads what its commands did (a flush's answer, a stop).
  ManualDriver driver;
  RecordingCore rc(driver);
  ASSERT_TRUE(rc.core.start());
  const std::size_t before = driver.arms;
  RuntimeCore::Batch batch(rc.core);
  rc.spawn(1h);
  EXPECT_EQ(driver.arms, before);
  EXPECT_FALSE(rc.core.cancel(TaskId{999'999})) << "no such task";
  EXPECT_GT(driver.arms, before) << "the cancel did not drain";
  const std::size_t after_cancel = driver.arms;
  rc.spawn(1h);
  EXPECT_EQ(driver.arms, after_cancel);
  batch.end();
  EXPECT_EQ(driver.arms, after_cancel + 1);
}

TEST(RuntimeCore, ABatchLeftByAnExceptionStillDrains) {
  ManualDriver driver;
  RecordingCore rc(driver);
  ASSERT_TRUE(rc.core.start());
  const std::size_t before = driver.arms;
  try {
    RuntimeCore::Batch batch(rc.core);
    rc.spawn(1h);
    {
      RuntimeCore::Batch nested(rc.core);
      rc.spawn(1h);
      nested.end();
    }
    EXPECT_EQ(driver.arms, before) << "a nested batch's end drained inside the outer batch";
    throw std::runtime_error("an input of the batch threw");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(driver.arms, before + 1) << "a batch that ended by an exception left its commands waiting";
  EXPECT_TRUE(rc.core.idle());
}

TEST(RuntimeCore, ABatchThatOutlivesItsCoreCarriesOutNothing) {
  ManualDriver driver;
  auto rc = std::make_unique<RecordingCore>(driver);
  ASSERT_TRUE(rc->core.start());
  RuntimeCore::Batch batch(rc->core);
  rc->spawn(1h);
  rc.reset();  // a user callback destroyed the runtime mid-batch
  const std::size_t after_destruction = driver.arms;
  batch.end();
  EXPECT_EQ(driver.arms, after_destruction) << "a batch drained a core that is gone";
}

// Keeps one finished task: a second one ending forgets the first.
RuntimeOptions retaining_one() {
  RuntimeOptions options;
  options.config.retained_terminal = 1;
  return options;
}

TEST(RuntimeCore, ASpawnInsideABatchThatEndsATaskCarriesOutItsEndAtOnce) {
  // A spawn that replaces a pending task ends it. Were its Notify left waiting in the batch, the
  // next replacing spawn would end a second task and forget the first (retained_terminal = 1)
  // before the first's waiter read it: the waiter would hear of no such task.
  ManualDriver driver;
  RecordingCore rc(driver, retaining_one());
  ASSERT_TRUE(rc.core.start());
  TaskSpec spec = RecordingCore::spec(1h);
  spec.dedup = DedupSpec{"refresh", DedupMode::ReplacePending};
  rc.spawn(spec);
  driver.run_owner_calls();
  ASSERT_EQ(rc.answered.size(), 1u);
  std::optional<std::optional<TaskInfo>> heard;
  rc.core.wait(rc.answered[0], [&](std::optional<TaskInfo> info) { heard = std::move(info); });
  {
    RuntimeCore::Batch batch(rc.core);
    rc.spawn(spec);  // replaces the first
    rc.spawn(spec);  // replaces the second, which forgets the first
    batch.end();
  }
  driver.run_owner_calls();
  ASSERT_TRUE(heard.has_value()) << "the replaced task's waiter was never answered";
  ASSERT_TRUE(heard->has_value()) << "the replaced task was forgotten before its waiter read it";
  EXPECT_EQ((*heard)->status, TaskStatus::Cancelled);
}

TEST(RuntimeCore, OutcomesOfOneBatchOfReportsAreEachCarriedOutBeforeTheNextCanForgetThem) {
  // Two outcomes in one batch of reports, one finished task kept: the second forgets the first,
  // whose waiter must have read it by then.
  ManualDriver driver;
  RecordingCore rc(driver, retaining_one());
  ASSERT_TRUE(rc.core.start());
  rc.spawn();
  rc.spawn();
  driver.run_owner_calls();
  ASSERT_EQ(rc.answered.size(), 2u);
  std::optional<std::optional<TaskInfo>> heard;
  rc.core.wait(rc.answered[0], [&](std::optional<TaskInfo> info) { heard = std::move(info); });
  ASSERT_EQ(driver.work.size(), 2u);
  driver.run_work();  // both outcomes go into one batch of reports
  driver.run_until_quiet();
  ASSERT_EQ(rc.ran.size(), 2u);
  ASSERT_TRUE(heard.has_value());
  ASSERT_TRUE(heard->has_value()) << "the first task was forgotten before its waiter read it";
  EXPECT_EQ((*heard)->status, TaskStatus::Completed);
}

TEST(RuntimeCore, MetricsCountASeriesNextRunAndARestoredRecordAsDelayed) {
  // No command announces these: the kernel counts them as delayed itself.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tasklane-runtime-core-" + std::to_string(::getpid()) + "-metrics-delayed");
  std::filesystem::remove_all(dir);
  RuntimeOptions options;
  options.data_dir = dir;
  {
    ManualDriver driver;
    HandlerRegistry handlers;
    handlers.add("tick", [](WorkContext&) { return Outcome::success(); });
    RuntimeCore core(options, std::move(handlers), driver.hooks());
    ASSERT_TRUE(core.start());
    TaskSpec spec;
    spec.kind = "tick";
    spec.durable = true;
    spec.repeat = Repeat{std::chrono::hours(1), RepeatMode::FixedDelay, 3};
    core.spawn(spec, [](Result<TaskId, SpawnError> r) { ASSERT_TRUE(r); });
    driver.run_until_quiet();
    const MetricsSnapshot m = core.metrics()->snapshot();
    ASSERT_EQ(m.counters.repeated, 1u);
    EXPECT_EQ(m.delayed(), 1u) << "the next run, due in an hour";
    EXPECT_EQ(m.pending() + m.running(), 0u);
  }
  {
    ManualDriver driver;
    RuntimeCore core(options, HandlerRegistry{}, driver.hooks());
    ASSERT_TRUE(core.start());
    const MetricsSnapshot m = core.metrics()->snapshot();
    EXPECT_EQ(m.delayed(), 1u) << "restored, still due in an hour";
    EXPECT_EQ(m.pending(), 0u);
  }
  std::filesystem::remove_all(dir);
}

TEST(RuntimeCore, APauseBeforeStartIsWrittenByStart) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tasklane-runtime-core-" + std::to_string(::getpid()) + "-pause-before-start");
  std::filesystem::remove_all(dir);
  {
    ManualDriver driver;
    RuntimeOptions options;
    options.data_dir = dir;
    RuntimeCore core(options, HandlerRegistry{}, driver.hooks());
    const PauseAnswer answer = core.pause(pause_selector::Owner{"alice"});
    EXPECT_FALSE(answer.error) << answer.message;
    ASSERT_TRUE(core.start());
  }
  PosixFileSystem fs;
  const auto on_disk = read_data_dir(dir, fs);
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().message;
  EXPECT_EQ(on_disk.value().snapshot.paused_owners, std::vector<std::string>{"alice"});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tasklane::drivers
