// Metrics fed the way RuntimeCore feeds them (every command, then publish), over a kernel driven by
// hand; and the Prometheus text they print.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>

#include "tasklane/drivers/log.hpp"
#include "tasklane/drivers/metrics.hpp"

namespace tasklane::drivers {
namespace {

// Feeds one command as RuntimeCore does: a Start with the kernel's glance of its task (the other
// commands feed nothing).
void feed(Metrics& metrics, const Command& c, const Kernel& kernel) {
  const auto* start = std::get_if<command::Start>(&c);
  if (!start) return;
  const auto task = kernel.glance(start->id);
  metrics.on_start(*start, task ? &*task : nullptr, kernel.last_time());
}

class MetricsFeed : public ::testing::Test {
 protected:
  MetricsFeed() : kernel(config()) {}
  static Config config() {
    Config c;
    c.max_running = 1;
    return c;
  }

  std::vector<Command> drain() {
    std::vector<Command> out;
    while (auto c = kernel.poll()) {
      feed(metrics, *c, kernel);
      out.push_back(*c);
    }
    metrics.publish(kernel);
    return out;
  }
  TaskId spawn(TaskSpec spec, Time at) {
    auto id = kernel.spawn(std::move(spec), at);
    EXPECT_TRUE(id);
    drain();
    return id.value();
  }
  void complete(TaskId id, std::uint32_t attempt, Outcome outcome, Time at) {
    kernel.complete(id, attempt, std::move(outcome), at);
    drain();
  }
  static TaskSpec spec(Priority p, Duration run_after = Duration{0}) {
    TaskSpec s;
    s.kind = "summarize";
    s.owner = "alice";
    s.priority = p;
    s.run_after = run_after;
    return s;
  }

  Kernel kernel;
  Metrics metrics;
};

TEST_F(MetricsFeed, GaugesCountPendingDelayedAndRunningPerPriority) {
  const TaskId first = spawn(spec(Priority::High), milliseconds(0));  // starts at once (one slot)
  spawn(spec(Priority::Low), milliseconds(0));                        // waits for the slot
  spawn(spec(Priority::Normal, seconds(10)), milliseconds(0));        // not due for 10 s
  auto m = metrics.snapshot();
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::High)].running, 1u);
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::Low)].pending, 1u);
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::Normal)].delayed, 1u);
  EXPECT_EQ(m.running(), 1u);
  EXPECT_EQ(m.pending(), 1u);
  EXPECT_EQ(m.delayed(), 1u);

  complete(first, 1, Outcome::success(), milliseconds(30));  // the low one starts now, 30 ms late
  m = metrics.snapshot();
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::High)].running, 0u);
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::Low)].running, 1u);
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(m.counters.completed, 1u);
  EXPECT_EQ(m.counters.started, 2u);
  ASSERT_EQ(m.start_lag.count, 2u);
  EXPECT_EQ(m.start_lag.sum_us, 30'000);
  EXPECT_EQ(m.start_lag.buckets[0], 1u) << "the first started on time: le 1 ms";
  EXPECT_EQ(m.start_lag.buckets[3], 1u) << "30 ms late: le 50 ms";
}

TEST_F(MetricsFeed, RetriesFailuresAndStaleCompletionsAreCounted) {
  TaskSpec s = spec(Priority::Normal);
  s.retry.max_attempts = 2;
  s.retry.initial_backoff = milliseconds(5);
  const TaskId id = spawn(s, milliseconds(0));
  complete(id, 1, Outcome::failure("model busy"), milliseconds(1));
  auto m = metrics.snapshot();
  EXPECT_EQ(m.counters.retried, 1u);
  EXPECT_EQ(m.running(), 0u);
  EXPECT_EQ(m.delayed(), 1u) << "waiting out its backoff";
  kernel.tick(milliseconds(6));
  drain();
  EXPECT_EQ(metrics.snapshot().running(), 1u);
  complete(id, 1, Outcome::success(), milliseconds(7));  // the old attempt answers late
  complete(id, 2, Outcome::failure("still busy"), milliseconds(8));
  m = metrics.snapshot();
  EXPECT_EQ(m.counters.ignored_completions, 1u);
  EXPECT_EQ(m.counters.failed, 1u);
  EXPECT_EQ(m.running() + m.pending() + m.delayed(), 0u) << "a terminal task leaves every gauge";
}

TEST_F(MetricsFeed, ADelayedTaskCountsAsPendingOnceItsDueHasPassedThoughNoCommandNamedIt) {
  const TaskId first = spawn(spec(Priority::High), milliseconds(0));  // takes the one slot
  spawn(spec(Priority::Low, milliseconds(10)), milliseconds(0));
  EXPECT_EQ(metrics.snapshot().by_priority[static_cast<int>(Priority::Low)].delayed, 1u);
  kernel.tick(milliseconds(20));  // due now, but the slot is taken: nothing names the task
  drain();
  auto m = metrics.snapshot();
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::Low)].delayed, 0u);
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::Low)].pending, 1u);
  complete(first, 1, Outcome::success(), milliseconds(21));
  m = metrics.snapshot();
  EXPECT_EQ(m.by_priority[static_cast<int>(Priority::Low)].running, 1u);
  EXPECT_EQ(m.pending() + m.delayed(), 0u);
}

TEST_F(MetricsFeed, ACancelledDelayedTaskLeavesTheGauges) {
  spawn(spec(Priority::Normal), milliseconds(0));                          // takes the one slot
  spawn(spec(Priority::Normal), milliseconds(0));                          // waits for it: pending
  const TaskId later = spawn(spec(Priority::Normal, seconds(5)), milliseconds(0));  // delayed
  auto m = metrics.snapshot();
  ASSERT_EQ(m.delayed(), 1u);
  ASSERT_EQ(m.pending(), 1u);
  kernel.abort(abort_selector::Task{later}, milliseconds(1));
  drain();
  m = metrics.snapshot();
  EXPECT_EQ(m.delayed(), 0u) << "a delayed entry left behind would count the pending task as delayed";
  EXPECT_EQ(m.pending(), 1u);
  EXPECT_EQ(m.running(), 1u);
  EXPECT_EQ(m.counters.cancelled, 1u);
}

// Random spawns (some delayed, some retried with a backoff), completions, timeouts, aborts and
// ticks, fed as RuntimeCore feeds them and published after a random number of inputs: every
// publication's gauges must equal what the kernel's own records say (running; pending and due
// after the snapshot's time: delayed; the other pending ones: pending), per priority.
TEST(MetricsGauges, EqualTheKernelsRecordsHoweverManyInputsComeBetweenPublications) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    Config config;
    config.max_running = 3;
    Kernel kernel(config);
    Metrics metrics;
    std::vector<TaskId> ids;
    std::map<TaskId, std::uint32_t> running;  // id -> attempt, from Start commands
    Time now{0};
    auto pick = [&](std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng); };
    auto drain = [&] {
      while (auto c = kernel.poll()) {
        feed(metrics, *c, kernel);
        if (const auto* start = std::get_if<command::Start>(&*c)) running[start->id] = start->attempt;
        if (const auto* notify = std::get_if<command::Notify>(&*c)) running.erase(notify->id);
      }
    };
    for (int step = 0; step < 400; ++step) {
      now += Duration(pick(3000));
      const std::uint32_t what = pick(10);
      if (what < 4) {
        TaskSpec s;
        s.kind = "k";
        s.owner = "o";
        s.priority = static_cast<Priority>(pick(priority_count));
        if (pick(2) == 0) s.run_after = Duration(pick(20000));
        s.retry.max_attempts = 1 + pick(3);
        s.retry.initial_backoff = Duration(pick(10000));
        if (pick(4) == 0) s.timeout = Duration(1 + pick(8000));
        auto id = kernel.spawn(std::move(s), now);
        ASSERT_TRUE(id);
        ids.push_back(id.value());
      } else if (what < 7 && !running.empty()) {
        auto it = running.begin();
        std::advance(it, pick(static_cast<std::uint32_t>(running.size())));
        const auto [id, attempt] = *it;
        running.erase(it);
        const bool ok = pick(2) == 0;
        kernel.complete(id, attempt, ok ? Outcome::success() : Outcome::failure("busy"), now);
      } else if (what < 8 && !ids.empty()) {
        kernel.abort(abort_selector::Task{ids[pick(static_cast<std::uint32_t>(ids.size()))]}, now);
      } else {
        kernel.tick(now);
      }
      drain();
      if (pick(3) != 0) continue;  // several inputs between two publications
      metrics.publish(kernel);
      const MetricsSnapshot m = metrics.snapshot();
      std::array<PriorityGauges, priority_count> truth{};
      for (const TaskId id : ids) {
        const auto task = kernel.glance(id);
        if (!task || is_terminal(task->status)) continue;
        PriorityGauges& g = truth[static_cast<std::size_t>(task->priority)];
        if (task->status == TaskStatus::Running) {
          ++g.running;
        } else if (task->due > kernel.last_time()) {
          ++g.delayed;
        } else {
          ++g.pending;
        }
      }
      ASSERT_EQ(m.by_priority, truth) << "seed " << seed << ", step " << step;
      ASSERT_EQ(m.counters, kernel.stats());
    }
  }
}

TEST(LagHistogram, BucketsAreInclusiveUpperBoundsAndNegativeLagIsZero) {
  LagHistogram h;
  h.observe(Duration{1000});        // exactly 1 ms: le 0.001
  h.observe(Duration{1001});        // just over: le 0.005
  h.observe(Duration{-50});         // the clock went back
  h.observe(seconds(1000));         // past every bound
  EXPECT_EQ(h.buckets[0], 2u);
  EXPECT_EQ(h.buckets[1], 1u);
  EXPECT_EQ(h.buckets.back(), 1u);
  EXPECT_EQ(h.count, 4u);
  EXPECT_EQ(h.sum_us, 1000 + 1001 + 1'000'000'000);
}

TEST(PrometheusText, FamiliesHaveHelpAndTypeAndHistogramsAreCumulative) {
  MetricsSnapshot m;
  m.counters.spawned = 7;
  m.counters.completed = 5;
  m.counters.timed_out = 1;
  m.by_priority[static_cast<int>(Priority::Critical)].running = 2;
  m.start_lag.observe(milliseconds(3));
  m.start_lag.observe(seconds(2));
  const std::string text = prometheus_text(m);
  EXPECT_NE(text.find("# HELP tasklane_tasks_spawned_total "), std::string::npos);
  EXPECT_NE(text.find("# TYPE tasklane_tasks_spawned_total counter\ntasklane_tasks_spawned_total 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tasklane_tasks_finished_total{status=\"completed\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("tasklane_tasks_finished_total{status=\"timed_out\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE tasklane_tasks_running gauge\n"), std::string::npos);
  EXPECT_NE(text.find("tasklane_tasks_running{priority=\"critical\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE tasklane_start_lag_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("tasklane_start_lag_seconds_bucket{le=\"0.001\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tasklane_start_lag_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tasklane_start_lag_seconds_bucket{le=\"5\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tasklane_start_lag_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("tasklane_start_lag_seconds_sum 2.003000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tasklane_start_lag_seconds_count 2\n"), std::string::npos);
  // Every sample line belongs to a family announced above it, and every family has HELP and TYPE.
  std::istringstream lines(text);
  std::string line;
  std::string family;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# TYPE " + family + " ", 0) == 0) continue;
    ASSERT_FALSE(family.empty()) << line;
    EXPECT_EQ(line.rfind(family, 0), 0u) << line << " is not in family " << family;
    ++samples;
  }
  EXPECT_GT(samples, 20);
}

TEST(JsonLinesLog, OneObjectPerLineWithTimeLevelEventAndFields) {
  std::ostringstream out;
  const LogSink sink = json_lines_sink(out, LogLevel::Info);
  const auto at = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'612'901'817'152));
  sink(LogRecord{LogLevel::Debug, at, "too_quiet", Json::object()});
  sink(LogRecord{LogLevel::Warn, at, "task_finished", Json{{"id", "bg_3"}, {"status", "failed"}}});
  EXPECT_EQ(out.str(),
            "{\"time\":\"2026-11-25T13:21:41.817152Z\",\"level\":\"warn\",\"event\":\"task_finished\","
            "\"fields\":{\"id\":\"bg_3\",\"status\":\"failed\"}}\n");
  EXPECT_EQ(parse_log_level("error"), LogLevel::Error);
  EXPECT_FALSE(parse_log_level("loud"));
}

// A stream buffer that refuses every byte while `full` is set, as a full disk does.
class FullDevice : public std::stringbuf {
 public:
  bool full = false;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override { return full ? 0 : std::stringbuf::xsputn(s, n); }
  int_type overflow(int_type c) override { return full ? traits_type::eof() : std::stringbuf::overflow(c); }
};

TEST(JsonLinesLog, LinesLostToAFailingStreamAreCountedAndLoggingResumes) {
  FullDevice device;
  std::ostream out(&device);
  const LogSink sink = json_lines_sink(out, LogLevel::Info);
  const auto at = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'612'901'817'152));
  device.full = true;
  sink(LogRecord{LogLevel::Info, at, "lost_one", Json::object()});
  sink(LogRecord{LogLevel::Info, at, "lost_two", Json::object()});
  EXPECT_EQ(device.str(), "");
  device.full = false;
  sink(LogRecord{LogLevel::Info, at, "after", Json::object()});
  std::istringstream lines(device.str());
  std::string first, second, rest;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second));
  EXPECT_FALSE(std::getline(lines, rest)) << rest;
  const Json notice = Json::parse(first);
  EXPECT_EQ(notice.at("event"), "log_lines_dropped");
  EXPECT_EQ(notice.at("level"), "warn");
  EXPECT_EQ(notice.at("fields").at("count"), 2);
  EXPECT_EQ(Json::parse(second).at("event"), "after");
  EXPECT_TRUE(out.good()) << "the stream's error state was cleared";
}

}  // namespace
}  // namespace tasklane::drivers
