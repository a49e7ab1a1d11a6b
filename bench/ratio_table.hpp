// RatioTable: pairs each tasklane figure with its baseline from the same run and prints the ratio.
//
// A comparison names a family, the subject and the baseline subjects; the reporter collects the
// median (or the single run) of every benchmark, then finish() prints, per family and size, the
// cost per item of each and the ratio tasklane / baseline (below 1: tasklane is faster), with the
// target and whether it was met. Extra counters (bytes_per_task, ...) are printed alongside.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace tasklane::bench {

struct Comparison {
  std::string family;
  std::string baseline;      // subject name of the baseline
  std::string what;          // one line: what is measured, per item
  std::optional<double> max_ratio;  // target: tasklane cost / baseline cost at most this
  std::string target_text;   // the words for the target
};

// An absolute target on one figure (cycles a second, milliseconds).
struct AbsoluteTarget {
  std::string benchmark;  // full name
  std::string counter;    // "items_per_second" or a user counter
  double limit = 0;
  bool at_least = true;   // true: value >= limit; false: value <= limit
  std::string text;
};

// How a family's cost per item grows from its smallest size to its largest: at most as
// log(n) does (the cost at the largest size, over the cost at the smallest, at most
// log2(largest) / log2(smallest)), the "firing each due task costs O(log n)".
struct GrowthTarget {
  std::string family;
  std::string subject = "tasklane";
  std::string text;
};

struct Figure {
  double items_per_second = 0;
  std::map<std::string, double> counters;
  int runs = 0;
  double min_ips = 0, max_ips = 0;  // spread over repetitions (noise)
};

class RatioTable : public benchmark::ConsoleReporter {
 public:
  void compare(Comparison c) { comparisons_.push_back(std::move(c)); }
  void require(AbsoluteTarget t) { absolutes_.push_back(std::move(t)); }
  void grows_at_most_logarithmically(GrowthTarget t) { growths_.push_back(std::move(t)); }

  void ReportRuns(const std::vector<Run>& reports) override;

  // Prints the ratio table (markdown) to `out`; answers how many targets were missed.
  int finish(std::ostream& out) const;

  int benchmarks_run() const { return static_cast<int>(ran_.size()); }
  int benchmarks_failed() const { return static_cast<int>(failed_.size()); }

 private:
  // The figures of `family/subject/<size>` that ran, by size.
  std::map<std::int64_t, const Figure*> by_size(const std::string& family, const std::string& subject) const;

  std::vector<Comparison> comparisons_;
  std::vector<AbsoluteTarget> absolutes_;
  std::vector<GrowthTarget> growths_;
  std::map<std::string, Figure> figures_;            // by full benchmark name (median when repeated)
  std::map<std::string, std::vector<double>> reps_;  // items_per_second of each repetition
  std::map<std::string, std::string> failed_;        // benchmark -> its error
  std::map<std::string, bool> ran_;
};

}  // namespace tasklane::bench
