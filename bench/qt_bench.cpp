// Qt driver benchmarks: no-op tasks end to end and delayed tasks through tasklane::qt::TaskRuntime
// on the main thread, against QThreadPool::start with a priority and a queued invokeMethod back
// (and a QTimer per delayed job). Both use their own one-thread QThreadPool.
#include <QEventLoop>
#include <QMetaObject>
#include <QObject>
#include <QThreadPool>
#include <QTimer>

#include "bench_options.hpp"
#include "ratio_table.hpp"
#include "tasklane/qt/task_runtime.hpp"

namespace tasklane::bench {

namespace {

// Delayed jobs: Qt timers count milliseconds, so the batch spreads over ten of them.
Duration qt_delay(std::int64_t i) { return milliseconds(i % 10); }

struct TasklaneQt {
  TasklaneQt() {
    pool.setMaxThreadCount(1);
    drivers::HandlerRegistry handlers;
    handlers.add("noop", [](drivers::WorkContext&) { return Outcome::success(); });
    drivers::RuntimeOptions options;
    options.config.capacity = 1u << 21;
    options.config.max_running = 64;
    runtime = std::make_unique<tasklane::qt::TaskRuntime>(std::move(options), std::move(handlers), &pool);
    runtime->start();
  }
  ~TasklaneQt() {
    runtime.reset();
    pool.waitForDone();
  }
  void batch(std::int64_t n, bool delayed) {
    TaskSpec spec;
    spec.kind = "noop";
    spec.owner = "bench";
    for (std::int64_t i = 0; i < n; ++i) {
      spec.run_after = delayed ? qt_delay(i) : Duration{0};
      runtime->spawn(spec);
    }
    QEventLoop loop;
    runtime->flush(flush_selector::All{}, [&](bool, const QString&) { loop.quit(); });
    loop.exec();
  }
  QThreadPool pool;
  std::unique_ptr<tasklane::qt::TaskRuntime> runtime;
};

struct HandWrittenQt {
  HandWrittenQt() { pool.setMaxThreadCount(1); }
  ~HandWrittenQt() { pool.waitForDone(); }
  void start_job() {
    pool.start([this] {
      QMetaObject::invokeMethod(&receiver, [this] { ended(); }, Qt::QueuedConnection);
    }, /*priority=*/1);
  }
  void ended() {
    if (++done == target) loop->quit();
  }
  void batch(std::int64_t n, bool delayed) {
    QEventLoop event_loop;
    loop = &event_loop;
    done = 0;
    target = n;
    for (std::int64_t i = 0; i < n; ++i) {
      if (delayed) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(qt_delay(i));
        QTimer::singleShot(ms, Qt::PreciseTimer, &receiver, [this] { start_job(); });
      } else {
        start_job();
      }
    }
    event_loop.exec();
    loop = nullptr;
  }
  QThreadPool pool;
  QObject receiver;
  QEventLoop* loop = nullptr;
  std::int64_t done = 0, target = 0;
};

template <class Subject>
void run_batches(benchmark::State& state, std::int64_t n, bool delayed) {
  Subject subject;
  for (auto _ : state) subject.batch(n, delayed);
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

void register_qt_benchmarks(const BenchOptions& o, RatioTable& table) {
  const std::int64_t n = o.driver_batch();
  add(o, bench_name("qt_noop", "tasklane", n), [n](benchmark::State& s) { run_batches<TasklaneQt>(s, n, false); });
  add(o, bench_name("qt_noop", "hand_written", n), [n](benchmark::State& s) { run_batches<HandWrittenQt>(s, n, false); });
  const std::int64_t d = o.driver_batch();
  add(o, bench_name("qt_delayed", "tasklane", d), [d](benchmark::State& s) { run_batches<TasklaneQt>(s, d, true); });
  add(o, bench_name("qt_delayed", "hand_written", d), [d](benchmark::State& s) { run_batches<HandWrittenQt>(s, d, true); });
  table.compare({"qt_noop", "hand_written", "a no-op task spawned on the main thread, run on the pool, its end back on the main thread",
                 1.0, "<= 1.0x (>= 1.0x throughput)"});
  table.compare({"qt_delayed", "hand_written", "a task due 0-9 ms after its spawn (one QTimer each for the baseline)", 1.0,
                 "<= 1.0x"});
}

}  // namespace tasklane::bench
