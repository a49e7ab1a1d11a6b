// BenchOptions: the sizes and repetitions of one run, and how every benchmark is registered.
//
// Names are "family/subject/size" (subject "tasklane" or a baseline's name); the ratio table pairs
// rows by family and size. Every benchmark reports items_per_second (one item = one task, cycle or
// record), so a row's cost is 1e9 / items_per_second nanoseconds.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tasklane::bench {

struct BenchOptions {
  bool quick = false;
  int repetitions = 3;
  double min_time = 0.3;  // seconds per repetition

  // The pending-work sizes of the kernel benchmarks: 1k, 100k, 1M (quick: 1k, 10k).
  std::vector<std::int64_t> kernel_sizes() const {
    return quick ? std::vector<std::int64_t>{1000, 10000} : std::vector<std::int64_t>{1000, 100000, 1000000};
  }
  // Tree and scope sizes (the 100k; quick: 10k).
  std::vector<std::int64_t> bulk_sizes() const {
    return quick ? std::vector<std::int64_t>{1000, 10000} : std::vector<std::int64_t>{1000, 10000, 100000};
  }
  // Tasks per batch in the driver benchmarks.
  std::int64_t driver_batch() const { return quick ? 2000 : 20000; }
  std::int64_t delayed_batch() const { return quick ? 5000 : 100000; }
  // Records restored.
  std::vector<std::int64_t> restore_sizes() const {
    return quick ? std::vector<std::int64_t>{10000} : std::vector<std::int64_t>{10000, 100000, 1000000};
  }
  std::int64_t durable_batch() const { return quick ? 200 : 2000; }
};

inline std::string bench_name(const std::string& family, const std::string& subject, std::int64_t size) {
  return family + "/" + subject + "/" + std::to_string(size);
}

// Registers one benchmark with the run's repetitions and time. `manual_iterations` > 0 fixes the
// iteration count (for benchmarks whose set-up is expensive and rebuilt per iteration);
// `manual_time`: the benchmark reports each iteration's time with SetIterationTime.
inline benchmark::internal::Benchmark* add(const BenchOptions& o, const std::string& name,
                                           std::function<void(benchmark::State&)> fn,
                                           std::int64_t manual_iterations = 0, bool manual_time = false) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& s) { fn(s); });
  b->Repetitions(o.repetitions)->Unit(benchmark::kMicrosecond);
  if (manual_time) {
    b->UseManualTime();  // the benchmark times only its operation, not its set-up
  } else {
    b->UseRealTime();
  }
  if (manual_iterations > 0) {
    b->Iterations(manual_iterations);
  } else {
    b->MinTime(o.min_time);
  }
  return b;
}

}  // namespace tasklane::bench
