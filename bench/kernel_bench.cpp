// Kernel benchmarks: the spawn -> start -> complete cycle and the firing of delayed tasks with N
// tasks pending, against BareScheduler; cancelling a tree and flushing a scope, against cancelling
// the same tasks one by one. Everything runs single-threaded on the kernel alone: no driver.
#include <algorithm>
#include <chrono>
#include <type_traits>
#include <utility>
#include <variant>

#include "bare_scheduler.hpp"
#include "bench_options.hpp"
#include "fixture_slot.hpp"
#include "heap_probe.hpp"
#include "ratio_table.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane::bench {

namespace {

TaskSpec noop_spec() {
  TaskSpec spec;
  spec.kind = "noop";
  spec.owner = "bench";
  return spec;
}

// The kernel, with the one running attempt the benchmarks complete next.
struct KernelHarness {
  explicit KernelHarness(std::size_t capacity, std::size_t max_running = 1) : kernel(make_config(capacity, max_running)) {}

  static Config make_config(std::size_t capacity, std::size_t max_running) {
    Config c;
    c.capacity = capacity;
    c.max_running = max_running;
    return c;
  }

  Time tick() { return now += Duration{1}; }

  // Drains the commands, as a driver would, remembering the last Start.
  void drain() {
    kernel.drain([this](const auto& c) {
      if constexpr (std::is_same_v<std::decay_t<decltype(c)>, command::Start>) {
        running = c.id;
        attempt = c.attempt;
      }
    });
  }

  template <class Spec>  // a const spec is the template every cycle spawns from: the kernel copies what it keeps
  TaskId spawn(Spec&& spec) {
    auto id = kernel.spawn(std::forward<Spec>(spec), tick());
    drain();
    return id ? id.value() : TaskId{};
  }

  void complete_running() {
    kernel.complete(running, attempt, Outcome::success(), tick());
    drain();
  }

  Kernel kernel;
  Time now{0};
  TaskId running;
  std::uint32_t attempt = 0;
};

// ---- the cycle: N ready tasks queued behind one running slot --------------------------------

// What an agent's maintenance task carries (kernel_cycle runs without a payload; payload_cycle with).
Json agent_payload() { return Json{{"session", "s-1"}, {"turn", 3}, {"reason", "compact memory"}}; }

struct TasklaneCycle {
  explicit TasklaneCycle(std::int64_t n, Json payload = nullptr) : k(static_cast<std::size_t>(n) + 16) {
    spec.payload = std::move(payload);
    const std::size_t before = heap_in_use();
    for (std::int64_t i = 0; i <= n; ++i) k.spawn(spec);  // one runs, n wait
    bytes_per_task = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
  }
  void cycle() {
    k.spawn(spec);
    k.complete_running();  // the oldest waiting task starts
  }
  TaskSpec spec = noop_spec();
  KernelHarness k;
  double bytes_per_task = 0;
};

struct BareCycle {
  explicit BareCycle(std::int64_t n, Json task_payload = nullptr) : payload(std::move(task_payload)) {
    const std::size_t before = heap_in_use();
    for (std::int64_t i = 0; i <= n; ++i) spawn();
    bytes_per_task = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
  }
  void spawn() {
    ++now;
    s.spawn(kind, owner, payload, Priority::Normal, now, now);
    drain();
  }
  void drain() {
    for (auto& st : s.starts) {
      running = st.id;
      attempt = st.attempt;
    }
    s.starts.clear();
    s.ends.clear();
  }
  void cycle() {
    spawn();
    ++now;
    s.complete(running, attempt);
    drain();
  }
  Json payload;
  std::string kind = "noop", owner = "bench";
  BareScheduler s{1};
  std::int64_t now = 0;
  std::uint64_t running = 0;
  std::uint32_t attempt = 0;
  double bytes_per_task = 0;
};

template <class Fixture, class... Args>
void run_cycles(benchmark::State& state, const std::string& key, std::int64_t n, Args... args) {
  Fixture& f = cached_fixture<Fixture>(key, [n, &args...] { return new Fixture(n, std::move(args)...); });
  const std::uint64_t allocs_before = allocations();
  for (auto _ : state) f.cycle();
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_item"] =
      static_cast<double>(allocations() - allocs_before) / static_cast<double>(state.iterations());
  state.counters["bytes_per_task"] = f.bytes_per_task;
}

// ---- delayed tasks: N timers with distinct due times; each cycle fires the earliest ---------

struct TasklaneDelayed {
  explicit TasklaneDelayed(std::int64_t n) : k(static_cast<std::size_t>(n) + 16) {
    const std::size_t before = heap_in_use();
    for (std::int64_t i = 0; i < n; ++i) spawn_at(Time{i + 1});  // all spawned at time 0
    bytes_per_task = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
  }
  void spawn_at(Time due) {  // from the one spec, as kernel_cycle: the kernel copies what it keeps
    spec.run_after = due - now;
    last_due = due;
    (void)k.kernel.spawn(std::as_const(spec), now);
    k.drain();
  }
  // Time moves one microsecond a cycle, and the dues are one microsecond apart: one fires a cycle.
  void cycle() {
    now += Duration{1};
    k.kernel.tick(now);  // the earliest timer is due: its task starts
    k.drain();
    k.kernel.complete(k.running, k.attempt, Outcome::success(), now);
    k.drain();
    spawn_at(last_due + Duration{1});
  }
  TaskSpec spec = noop_spec();
  KernelHarness k;
  Time now{0};
  Time last_due{0};
  double bytes_per_task = 0;
};

struct BareDelayed {
  explicit BareDelayed(std::int64_t n) {
    const std::size_t before = heap_in_use();
    for (std::int64_t i = 0; i < n; ++i) s.spawn(kind, owner, nullptr, Priority::Normal, last_due = i + 1, now);
    bytes_per_task = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
  }
  void drain() {
    for (auto& st : s.starts) {
      running = st.id;
      attempt = st.attempt;
    }
    s.starts.clear();
    s.ends.clear();
  }
  void cycle() {
    s.tick(++now);
    drain();
    s.complete(running, attempt);
    drain();
    s.spawn(kind, owner, nullptr, Priority::Normal, ++last_due, now);
    drain();
  }
  std::string kind = "noop", owner = "bench";
  BareScheduler s{1};
  std::int64_t now = 0, last_due = 0;
  std::uint64_t running = 0;
  std::uint32_t attempt = 0;
  double bytes_per_task = 0;
};

// ---- bulk: cancel a tree, flush a scope -----------------------------------------------------

// A root (running) and n descendants, ten children per task, all pending.
std::vector<TaskId> build_tree(KernelHarness& k, std::int64_t n) {
  std::vector<TaskId> ids;
  ids.reserve(static_cast<std::size_t>(n) + 1);
  ids.push_back(k.spawn(noop_spec()));
  for (std::int64_t i = 1; i <= n; ++i) {
    TaskSpec spec = noop_spec();
    spec.parent.task = ids[static_cast<std::size_t>((i - 1) / 10)];
    ids.push_back(k.spawn(std::move(spec)));
  }
  return ids;
}

// n pending tasks in scope "s", spread over 100 purposes (100 lanes); the first lane head runs.
std::vector<TaskId> build_scope(KernelHarness& k, std::int64_t n) {
  std::vector<TaskId> ids;
  ids.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    TaskSpec spec = noop_spec();
    spec.key = SequenceKey{"agent", "s", "p" + std::to_string(i % 100)};
    ids.push_back(k.spawn(std::move(spec)));
  }
  return ids;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

template <class Build, class Act>
void run_bulk(benchmark::State& state, std::int64_t n, Build build, Act act) {
  double total = 0;
  for (auto _ : state) {
    KernelHarness k(static_cast<std::size_t>(n) + 16);
    const auto ids = build(k, n);
    const auto start = Clock::now();
    act(k, ids);
    const double took = seconds_since(start);
    state.SetIterationTime(took);
    total += took;
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["ms_per_op"] = total * 1000 / static_cast<double>(state.iterations());
}

}  // namespace

void register_kernel_benchmarks(const BenchOptions& o, RatioTable& table) {
  for (const std::int64_t n : o.kernel_sizes()) {
    add(o, bench_name("kernel_cycle", "tasklane", n), [n](benchmark::State& s) {
      run_cycles<TasklaneCycle>(s, "cycle/tasklane/" + std::to_string(n), n);
    });
    add(o, bench_name("kernel_cycle", "bare", n), [n](benchmark::State& s) {
      run_cycles<BareCycle>(s, "cycle/bare/" + std::to_string(n), n);
    });
  }
  {
    const std::int64_t n = o.kernel_sizes().front();
    add(o, bench_name("payload_cycle", "tasklane", n), [n](benchmark::State& s) {
      run_cycles<TasklaneCycle>(s, "payload_cycle/tasklane/" + std::to_string(n), n, agent_payload());
    });
    add(o, bench_name("payload_cycle", "bare", n), [n](benchmark::State& s) {
      run_cycles<BareCycle>(s, "payload_cycle/bare/" + std::to_string(n), n, agent_payload());
    });
  }
  for (const std::int64_t n : o.kernel_sizes()) {
    add(o, bench_name("delayed_fire", "tasklane", n), [n](benchmark::State& s) {
      run_cycles<TasklaneDelayed>(s, "delayed/tasklane/" + std::to_string(n), n);
    });
    add(o, bench_name("delayed_fire", "bare", n), [n](benchmark::State& s) {
      run_cycles<BareDelayed>(s, "delayed/bare/" + std::to_string(n), n);
    });
  }
  // The big fixtures are freed before the next family builds its own.
  add(o, "release_fixtures", [](benchmark::State& s) {
    release_fixture();
    for (auto _ : s) benchmark::DoNotOptimize(fixture_slot().fixture.get());
  }, 1)->Repetitions(1);

  for (const std::int64_t n : o.bulk_sizes()) {
    // Enough iterations that one slow one (page faults after a big fixture was freed) is diluted.
    const std::int64_t bulk_iterations = std::max<std::int64_t>(o.quick ? 1 : 2, (o.quick ? 10000 : 200000) / n);
    add(o, bench_name("cancel_tree", "tasklane", n), [n](benchmark::State& s) {
      run_bulk(s, n, build_tree, [](KernelHarness& k, const std::vector<TaskId>& ids) {
        k.kernel.abort(abort_selector::Tree{ids.front()}, k.tick());
        k.drain();
      });
    }, bulk_iterations, true);
    add(o, bench_name("cancel_tree", "one_by_one", n), [n](benchmark::State& s) {
      run_bulk(s, n, build_tree, [](KernelHarness& k, const std::vector<TaskId>& ids) {
        for (const TaskId id : ids) {
          k.kernel.cancel(id, k.tick());
          k.drain();
        }
      });
    }, bulk_iterations, true);
    add(o, bench_name("flush_scope", "tasklane", n), [n](benchmark::State& s) {
      run_bulk(s, n, build_scope, [](KernelHarness& k, const std::vector<TaskId>&) {
        k.kernel.flush(flush_selector::Scope{"s"}, k.tick());
        k.drain();
        k.kernel.abort(abort_selector::Owner{"bench"}, k.tick());
        k.complete_running();  // the FlushDone follows
      });
    }, bulk_iterations, true);
    add(o, bench_name("flush_scope", "one_by_one", n), [n](benchmark::State& s) {
      run_bulk(s, n, build_scope, [](KernelHarness& k, const std::vector<TaskId>& ids) {
        for (const TaskId id : ids) {
          k.kernel.cancel(id, k.tick());
          k.drain();
        }
        k.complete_running();
      });
    }, bulk_iterations, true);
  }

  table.compare({"kernel_cycle", "bare", "one spawn, one start, one complete (3 inputs), N tasks waiting", 1.5,
                 "<= 1.5x"});
  table.compare({"payload_cycle", "bare", "kernel_cycle with a three-field JSON payload (checked, stored, handed to Start)",
                 1.5, "<= 1.5x"});
  table.compare({"delayed_fire", "bare", "one timer fires, its task starts and completes, one new delayed spawn; N timers",
                 1.5, "<= 1.5x (O(log n))"});
  table.compare({"cancel_tree", "one_by_one", "per task of the tree; the op is abort(Tree)", std::nullopt, "< 50 ms at 100k"});
  table.compare({"flush_scope", "one_by_one", "per task: flush(Scope) + abort(Owner) until FlushDone", std::nullopt,
                 "< 50 ms at 100k"});
  const std::int64_t mid = o.kernel_sizes()[1];
  table.require({bench_name("kernel_cycle", "tasklane", mid), "items_per_second", 2e6, true,
                 ">= 2M cycles/s at " + std::to_string(mid) + " pending"});
  const std::int64_t big = o.kernel_sizes().back();
  table.require({bench_name("delayed_fire", "tasklane", big), "bytes_per_task", 256, false, "<= 256 B per pending task"});
  table.grows_at_most_logarithmically({"delayed_fire", "tasklane", "firing each due task costs O(log n)"});
  const std::int64_t bulk = o.bulk_sizes().back();
  table.require({bench_name("cancel_tree", "tasklane", bulk), "ms_per_op", 50, false, "< 50 ms"});
  table.require({bench_name("flush_scope", "tasklane", bulk), "ms_per_op", 50, false, "< 50 ms"});
}

}  // namespace tasklane::bench
