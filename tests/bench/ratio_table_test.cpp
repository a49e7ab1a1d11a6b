// RatioTable: the figures a benchmark run reports, turned into the ratio table and the count of
// targets missed that `./run bench` prints. Fed with made-up runs, so that every verdict is known.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ratio_table.hpp"

namespace tasklane::bench {
namespace {

using BenchRun = benchmark::BenchmarkReporter::Run;

BenchRun iteration(const std::string& name, double items_per_second, int repetitions = 1) {
  BenchRun r;
  r.run_name.function_name = name;
  r.run_type = BenchRun::RT_Iteration;
  r.repetitions = repetitions;
  r.counters["items_per_second"] = benchmark::Counter(items_per_second);
  return r;
}

BenchRun median(const std::string& name, double items_per_second) {
  BenchRun r = iteration(name, items_per_second);
  r.run_type = BenchRun::RT_Aggregate;
  r.aggregate_name = "median";
  return r;
}

struct Table {
  Table() { table.SetOutputStream(&console); }
  void report(std::vector<BenchRun> runs) { table.ReportRuns(runs); }
  // The table's text; `missed` gets finish()'s answer.
  std::string finish() {
    std::ostringstream out;
    missed = table.finish(out);
    return out.str();
  }
  std::ostringstream console;  // what the console reporter prints of each run
  RatioTable table;
  int missed = -1;
};

TEST(RatioTable, EachSizePairsTasklaneWithItsBaselineAndATargetOverTheRatioIsMissed) {
  Table t;
  t.table.compare({"cycle", "bare", "one cycle", 1.5, "<= 1.5x bare"});
  t.report({iteration("cycle/tasklane/1000", 1e6), iteration("cycle/bare/1000", 2e6)});     // 2.00
  t.report({iteration("cycle/tasklane/100000", 1e6), iteration("cycle/bare/100000", 1.25e6)});  // 1.25
  t.report({iteration("cycle/tasklane/1000000", 1e6)});  // no baseline at this size: no row
  const std::string text = t.finish();
  EXPECT_EQ(t.missed, 1) << text;
  EXPECT_NE(text.find("| cycle | 1k | 1000 ns | bare | 500 ns | 2.00 | 2.00-2.00 | <= 1.5x bare | **no** |"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("| cycle | 100k | 1000 ns | bare | 800 ns | 1.25 | 1.25-1.25 | <= 1.5x bare | yes |"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("| cycle | 1M |"), std::string::npos) << text;
  EXPECT_NE(text.find("ratio-table: 1 targets missed"), std::string::npos) << text;
}

TEST(RatioTable, RepeatedRunsCountByTheirMedianAndShowTheirSpread) {
  Table t;
  t.table.compare({"noop", "hand", "", 1.0, "<= 1.0x"});
  // Neither the first nor the last repetition is the median.
  t.report({iteration("noop/tasklane/10", 1e6, 3), iteration("noop/tasklane/10", 2e6, 3),
            iteration("noop/tasklane/10", 4e6, 3), median("noop/tasklane/10", 2e6)});
  t.report({iteration("noop/hand/10", 0.5e6, 3), iteration("noop/hand/10", 1e6, 3), iteration("noop/hand/10", 2e6, 3),
            median("noop/hand/10", 1e6)});
  const std::string text = t.finish();
  EXPECT_EQ(t.missed, 0) << text;
  // Median: 1e6 / 2e6 = 0.50; spread: the baseline's slowest over tasklane's fastest (0.5e6 / 4e6 =
  // 0.12) to the baseline's fastest over tasklane's slowest (2e6 / 1e6 = 2.00).
  EXPECT_NE(text.find("| 0.50 | 0.12-2.00 | <= 1.0x | yes |"), std::string::npos) << text;
}

TEST(RatioTable, ACostThatGrowsFasterThanLogNIsMissed) {
  // From 1k to 1M the cost may grow log2(1M) / log2(1k) = 2 times.
  for (const auto& [slow_ips, verdict, missed] :
       std::vector<std::tuple<double, std::string, int>>{{0.6e6, "| 1.67x | 2.00x | O(log n) | yes |", 0},
                                                         {0.4e6, "| 2.50x | 2.00x | O(log n) | **no** |", 1}}) {
    Table t;
    t.table.grows_at_most_logarithmically({"fire", "tasklane", "O(log n)"});
    t.report({iteration("fire/tasklane/1000", 1e6), iteration("fire/tasklane/1000000", slow_ips)});
    t.report({iteration("fire/bare/1000", 1e6), iteration("fire/bare/1000000", 0.1e6)});  // not the subject
    const std::string text = t.finish();
    EXPECT_EQ(t.missed, missed) << text;
    EXPECT_NE(text.find("| fire/tasklane | 1k -> 1M | 1000 ns -> "), std::string::npos) << text;
    EXPECT_NE(text.find(verdict), std::string::npos) << text;
  }
}

TEST(RatioTable, AnAbsoluteTargetReadsItsCounter) {
  Table t;
  t.table.require({"memory/tasklane/1000000", "bytes_per_task", 256, false, "<= 256 B"});
  t.table.require({"cycle/tasklane/100000", "items_per_second", 2e6, true, ">= 2M a second"});
  BenchRun memory = iteration("memory/tasklane/1000000", 1e6);
  memory.counters["bytes_per_task"] = benchmark::Counter(300);
  t.report({memory, iteration("cycle/tasklane/100000", 3e6)});
  const std::string text = t.finish();
  EXPECT_EQ(t.missed, 1) << text;
  EXPECT_NE(text.find("| memory/tasklane/1000000 | bytes_per_task | 300 | <= 256 B | **no** |"), std::string::npos)
      << text;
  EXPECT_NE(text.find("| cycle/tasklane/100000 | items_per_second | 3e+06 | >= 2M a second | yes |"),
            std::string::npos)
      << text;
}

TEST(RatioTable, AFailedBenchmarkIsListedAndMakesNoRow) {
  Table t;
  t.table.compare({"cycle", "bare", "", 1.5, "<= 1.5x"});
  BenchRun failed = iteration("cycle/tasklane/1000", 1e6);  // a rate of its own: only the error keeps it out
  failed.error_occurred = true;
  failed.error_message = "the runtime refused the spawn";
  t.report({failed, iteration("cycle/bare/1000", 1e6)});
  const std::string text = t.finish();
  EXPECT_EQ(t.table.benchmarks_failed(), 1);
  EXPECT_EQ(t.table.benchmarks_run(), 2);
  EXPECT_EQ(text.find("| cycle | 1k |"), std::string::npos) << text;
  EXPECT_NE(text.find("FAILED cycle/tasklane/1000: the runtime refused the spawn"), std::string::npos) << text;
}

}  // namespace
}  // namespace tasklane::bench
