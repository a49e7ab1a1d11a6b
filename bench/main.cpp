// tasklane_bench: every benchmark against its baseline in one process, then the ratio table.
//
//   tasklane_bench [--quick] [--min-time SECONDS] [--table FILE] [google benchmark flags, e.g. --benchmark_filter=kernel]
//
// --quick: small sizes, one repetition (CI proves the benchmarks run; it never gates on a time).
// --table FILE: also writes the ratio table (markdown) to FILE.
// Exit status: 0 even when targets are missed (the table says which); 1 when a benchmark failed.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <QCoreApplication>

#include "bench_options.hpp"
#include "ratio_table.hpp"

namespace tasklane::bench {
void register_kernel_benchmarks(const BenchOptions&, RatioTable&);
void register_asio_benchmarks(const BenchOptions&, RatioTable&);
void register_qt_benchmarks(const BenchOptions&, RatioTable&);
void register_durable_benchmarks(const BenchOptions&, RatioTable&);
}  // namespace tasklane::bench

int main(int argc, char** argv) {
  using namespace tasklane::bench;
  BenchOptions options;
  std::string table_file;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      options.quick = true;
      options.repetitions = 1;
      options.min_time = 0.05;
    } else if (std::strcmp(argv[i], "--min-time") == 0 && i + 1 < argc) {
      options.min_time = std::atof(argv[++i]);  // seconds per repetition (for profiling runs)
    } else if (std::strcmp(argv[i], "--table") == 0 && i + 1 < argc) {
      table_file = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  int bench_argc = static_cast<int>(args.size());
  QCoreApplication app(bench_argc, args.data());  // the Qt benchmarks need an application object
  benchmark::Initialize(&bench_argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, args.data())) return 2;

  RatioTable table;
  register_kernel_benchmarks(options, table);
  register_asio_benchmarks(options, table);
  register_qt_benchmarks(options, table);
  register_durable_benchmarks(options, table);
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks(&table);
  benchmark::Shutdown();
  if (ran == 0) {
    std::cerr << "tasklane_bench: no benchmark matched\n";
    return 1;
  }
  table.finish(std::cout);
  if (!table_file.empty()) {
    std::ofstream out(table_file);
    table.finish(out);
  }
  // A missed target is a figure, not a failure; a benchmark that could not run is.
  const int failed = table.benchmarks_failed();
  std::cout << "bench: " << table.benchmarks_run() - failed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
