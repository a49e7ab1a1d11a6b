// Asio driver benchmarks: no-op tasks end to end and delayed tasks through tasklane::asio::runtime,
// against what a user writes by hand (an asio::thread_pool, a mutex-guarded priority queue, a
// steady_timer per delayed job), and the raw post round trip (pool and back) as the floor.
//
// Threads on both sides: one owner thread running an io_context (tasklane's strand lives there, and
// the hand-written version's completions come back there) and a one-thread pool for the work. The
// benchmark thread submits a batch and waits until the owner has seen every task end.
#include <atomic>
#include <future>
#include <mutex>
#include <queue>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "bench_options.hpp"
#include "ratio_table.hpp"
#include "tasklane/asio/runtime.hpp"

namespace tasklane::bench {

namespace net = boost::asio;

namespace {

// An io_context run by its own thread: the owner of the runtime or of the hand-written queue.
struct OwnerThread {
  OwnerThread() : guard(net::make_work_guard(io)), thread([this] { io.run(); }) {}
  ~OwnerThread() {
    guard.reset();
    io.stop();
    thread.join();
  }
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> guard;
  std::thread thread;
};

// tasklane::asio::runtime with a no-op handler, in memory.
struct TasklaneAsio {
  TasklaneAsio() {
    drivers::HandlerRegistry handlers;
    handlers.add("noop", [](drivers::WorkContext&) { return Outcome::success(); });
    tasklane::asio::runtime_options options;
    options.runtime.config.capacity = 1u << 21;
    options.runtime.config.max_running = 64;
    options.worker_threads = 1;
    rt = std::make_unique<tasklane::asio::runtime>(owner.io.get_executor(), std::move(options), std::move(handlers));
    std::promise<void> started;
    rt->async_start([&](std::error_code, std::string) { started.set_value(); });
    started.get_future().wait();
  }
  ~TasklaneAsio() { rt.reset(); }

  // Spawns n tasks (task i runs `delay(i)` after its spawn) and waits until every one ended.
  template <class Delay>
  void batch(std::int64_t n, Delay delay) {
    TaskSpec spec;
    spec.kind = "noop";
    spec.owner = "bench";
    for (std::int64_t i = 0; i < n; ++i) {
      spec.run_after = delay(i);
      rt->async_spawn(spec, net::detached);  // no answer, as the hand-written version makes none
    }
    std::promise<void> done;
    rt->async_flush(flush_selector::All{}, [&](std::error_code, std::string) { done.set_value(); });
    done.get_future().wait();
  }

  OwnerThread owner;
  std::unique_ptr<tasklane::asio::runtime> rt;
};

// What a user writes instead: jobs in a mutex-guarded priority queue, one post to the pool per
// job, the pool thread runs the most urgent job and posts its end back to the owner.
struct HandWrittenAsio {
  struct Job {
    int priority = 1;
    std::uint64_t seq = 0;
    std::function<void()> work;
    bool operator<(const Job& o) const { return priority != o.priority ? priority < o.priority : seq > o.seq; }
  };

  void submit(Job job) {
    {
      std::lock_guard lock(mutex);
      job.seq = next_seq++;
      queue.push(std::move(job));
    }
    net::post(pool, [this] { run_one(); });
  }
  void submit_after(std::chrono::microseconds delay, Job job) {
    auto timer = std::make_shared<net::steady_timer>(owner.io, delay);
    timer->async_wait([this, timer, job = std::move(job)](const boost::system::error_code&) mutable { submit(std::move(job)); });
  }
  void run_one() {
    Job job;
    {
      std::lock_guard lock(mutex);
      job = queue.top();
      queue.pop();
    }
    job.work();
    net::post(owner.io, [this] { ended(); });
  }
  void ended() {
    if (++done == target) finished.set_value();
  }

  template <class Delay>
  void batch(std::int64_t n, Delay delay) {
    done = 0;
    target = n;
    finished = std::promise<void>();
    auto all_done = finished.get_future();
    for (std::int64_t i = 0; i < n; ++i) {
      const auto d = delay(i);
      Job job{1, 0, [] {}};
      if (d.count() > 0) {
        // Timers belong to the owner's io_context: arm them there.
        net::post(owner.io, [this, d, job = std::move(job)]() mutable { submit_after(d, std::move(job)); });
      } else {
        submit(std::move(job));
      }
    }
    all_done.wait();
  }

  OwnerThread owner;
  net::thread_pool pool{1};
  std::mutex mutex;
  std::priority_queue<Job> queue;
  std::uint64_t next_seq = 0;
  std::int64_t done = 0, target = 0;  // on the owner thread only
  std::promise<void> finished;
};

// The floor: post a no-op to the pool, which posts back to the owner.
struct RawPost {
  template <class Delay>
  void batch(std::int64_t n, Delay) {
    done = 0;
    target = n;
    finished = std::promise<void>();
    auto all_done = finished.get_future();
    for (std::int64_t i = 0; i < n; ++i) {
      net::post(pool, [this] { net::post(owner.io, [this] { if (++done == target) finished.set_value(); }); });
    }
    all_done.wait();
  }
  OwnerThread owner;
  net::thread_pool pool{1};
  std::int64_t done = 0, target = 0;
  std::promise<void> finished;
};

auto no_delay = [](std::int64_t) { return Duration{0}; };
auto distinct_delay = [](std::int64_t i) { return Duration{i + 1}; };  // task i due i+1 us after its spawn

template <class Subject, class Delay>
void run_batches(benchmark::State& state, std::int64_t n, Delay delay) {
  Subject subject;
  for (auto _ : state) subject.batch(n, delay);
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

void register_asio_benchmarks(const BenchOptions& o, RatioTable& table) {
  const std::int64_t n = o.driver_batch();
  add(o, bench_name("asio_noop", "tasklane", n), [n](benchmark::State& s) { run_batches<TasklaneAsio>(s, n, no_delay); });
  add(o, bench_name("asio_noop", "hand_written", n), [n](benchmark::State& s) { run_batches<HandWrittenAsio>(s, n, no_delay); });
  add(o, bench_name("asio_noop", "raw_post", n), [n](benchmark::State& s) { run_batches<RawPost>(s, n, no_delay); });
  const std::int64_t d = o.delayed_batch();
  add(o, bench_name("asio_delayed", "tasklane", d), [d](benchmark::State& s) { run_batches<TasklaneAsio>(s, d, distinct_delay); });
  add(o, bench_name("asio_delayed", "hand_written", d), [d](benchmark::State& s) {
    run_batches<HandWrittenAsio>(s, d, distinct_delay);
  });
  table.compare({"asio_noop", "hand_written", "a no-op task spawned, run on the pool, its end seen by the owner", 1.0,
                 "<= 1.0x (>= 1.0x throughput)"});
  table.compare({"asio_noop", "raw_post", "", 2.0, "<= 2x the raw round trip"});
  table.compare({"asio_delayed", "hand_written", "a task due i+1 us after its spawn (distinct due times), end to end", 1.0,
                 "<= 1.0x"});
}

}  // namespace tasklane::bench
