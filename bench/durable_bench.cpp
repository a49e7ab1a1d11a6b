// Durability benchmarks: durable spawns acknowledged per second through the Asio runtime (which
// groups every record written meanwhile into one fdatasync) against a kernel and a FileJournal
// that commit (one write, one fdatasync) after every spawn; and the time to restore N records
// (FileJournal::open + Kernel::restore) against reading the same journal file raw.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "bench_options.hpp"
#include "fixture_slot.hpp"
#include "ratio_table.hpp"
#include "tasklane/asio/runtime.hpp"
#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane::bench {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// A fresh directory on the build's disk (not a tmpfs: fdatasync must cost what it costs).
struct ScratchDir {
  ScratchDir() {
    static int counter = 0;
    path = fs::current_path() / ("tasklane-bench-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// Durable tasks that wait an hour: each spawn writes exactly one record.
TaskSpec durable_spec() {
  TaskSpec spec;
  spec.kind = "noop";
  spec.owner = "bench";
  spec.durable = true;
  spec.run_after = seconds(3600);
  return spec;
}

void durable_group_commit(benchmark::State& state, std::int64_t n) {
  ScratchDir dir;
  net::io_context io;
  auto guard = net::make_work_guard(io);
  std::thread owner([&] { io.run(); });
  {
    drivers::HandlerRegistry handlers;
    tasklane::asio::runtime_options options;
    options.runtime.config.capacity = 1u << 22;
    options.runtime.data_dir = dir.path;
    options.worker_threads = 1;
    tasklane::asio::runtime rt(io.get_executor(), std::move(options), std::move(handlers));
    std::promise<void> started;
    rt.async_start([&](std::error_code, std::string) { started.set_value(); });
    started.get_future().wait();
    for (auto _ : state) {
      std::atomic<std::int64_t> acked{0};
      std::promise<void> all;
      const auto start = Clock::now();
      for (std::int64_t i = 0; i < n; ++i) {
        rt.async_spawn(durable_spec(), [&](std::error_code, TaskId) {
          if (++acked == n) all.set_value();
        });
      }
      all.get_future().wait();
      state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    }
  }
  guard.reset();
  owner.join();
  state.SetItemsProcessed(state.iterations() * n);
}

void durable_sync_each(benchmark::State& state, std::int64_t n) {
  ScratchDir dir;
  auto opened = drivers::FileJournal::open(dir.path);
  if (!opened) {
    state.SkipWithError(opened.error().message.c_str());
    return;
  }
  auto journal = std::move(opened.value().journal);
  Config config;
  config.capacity = 1u << 22;
  Kernel kernel(config);
  Time now{0};
  for (auto _ : state) {
    const auto start = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
      (void)kernel.spawn(durable_spec(), now += Duration{1});
      while (auto c = kernel.poll()) {
        if (const auto* p = std::get_if<command::Persist>(&*c)) journal->append(p->record);
      }
      (void)journal->commit();  // one write and one fdatasync per spawn
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// A data directory holding n pending durable records in its journal.
struct RestoreData {
  explicit RestoreData(std::int64_t n) {
    auto opened = drivers::FileJournal::open(dir.path);
    if (!opened) return;
    auto journal = std::move(opened.value().journal);
    TaskInfo info;
    info.spec = durable_spec();
    for (std::int64_t i = 0; i < n; ++i) {
      info.id = TaskId{static_cast<std::uint64_t>(i)};
      info.created_at = Time{i};
      info.due = info.created_at + info.spec.run_after;
      journal->append(info);
      if (i % 10000 == 9999 && !journal->commit()) return;
    }
    ok = static_cast<bool>(journal->commit());
    bytes = journal->journal_bytes();
  }
  ScratchDir dir;
  bool ok = false;
  std::uint64_t bytes = 0;
};

void restore(benchmark::State& state, std::int64_t n) {
  RestoreData& data = cached_fixture<RestoreData>("restore/" + std::to_string(n), [n] { return new RestoreData(n); });
  if (!data.ok) {
    state.SkipWithError("could not write the journal");
    return;
  }
  for (auto _ : state) {
    const auto start = Clock::now();
    auto opened = drivers::FileJournal::open(data.dir.path);
    if (!opened) {
      state.SkipWithError(opened.error().message.c_str());
      return;
    }
    Config config;
    config.capacity = static_cast<std::size_t>(n) + 16;
    auto kernel = std::make_unique<Kernel>(config);
    kernel->restore(opened.value().recovery.snapshot, Time{0});
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    if (kernel->unfinished() != static_cast<std::size_t>(n)) {
      state.SkipWithError("restore lost records");
      return;
    }
    opened.value().journal.reset();
    kernel.reset();  // not timed: freeing a million tasks
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["journal_mb"] = static_cast<double>(data.bytes) / 1e6;
}

void read_raw(benchmark::State& state, std::int64_t n) {
  RestoreData& data = cached_fixture<RestoreData>("restore/" + std::to_string(n), [n] { return new RestoreData(n); });
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    std::ifstream in(data.dir.path / "journal.log", std::ios::binary);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes = all.size();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

void register_durable_benchmarks(const BenchOptions& o, RatioTable& table) {
  const std::int64_t n = o.durable_batch();
  const std::int64_t iterations = o.quick ? 1 : 3;
  add(o, bench_name("durable_spawn", "tasklane", n), [n](benchmark::State& s) { durable_group_commit(s, n); }, iterations, true);
  add(o, bench_name("durable_spawn", "sync_each", n), [n](benchmark::State& s) { durable_sync_each(s, n); }, iterations, true);
  for (const std::int64_t r : o.restore_sizes()) {
    const std::int64_t restore_iterations = r >= 1000000 ? 1 : 2;
    add(o, bench_name("restore", "tasklane", r), [r](benchmark::State& s) { restore(s, r); }, restore_iterations, true);
    add(o, bench_name("restore", "read_file", r), [r](benchmark::State& s) { read_raw(s, r); }, restore_iterations, true);
  }
  add(o, "release_restore_data", [](benchmark::State& s) {
    release_fixture();
    for (auto _ : s) benchmark::DoNotOptimize(fixture_slot().fixture.get());
  }, 1)->Repetitions(1);
  table.compare({"durable_spawn", "sync_each", "a durable spawn acknowledged only once its record is synced", 0.05,
                 "<= 0.05x (group commit >= 20x faster)"});
  table.compare({"restore", "read_file", "a record: open + recover the journal + Kernel::restore, vs reading its bytes",
                 std::nullopt, "1M in < 2 s"});
  const std::int64_t big = o.restore_sizes().back();
  table.require({bench_name("restore", "tasklane", big), "items_per_second", static_cast<double>(big) / 2.0, true,
                 "restore " + std::to_string(big) + " records in < 2 s (" + std::to_string(big / 2) + " records/s)"});
}

}  // namespace tasklane::bench
