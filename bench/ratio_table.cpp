#include "ratio_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

namespace tasklane::bench {

namespace {

// "family/subject/size" -> parts; false when the name has another shape.
bool split(const std::string& name, std::string& family, std::string& subject, std::int64_t& size) {
  const auto last = name.rfind('/');
  if (last == std::string::npos) return false;
  const auto mid = name.rfind('/', last - 1);
  if (mid == std::string::npos) return false;
  family = name.substr(0, mid);
  subject = name.substr(mid + 1, last - mid - 1);
  try {
    size = std::stoll(name.substr(last + 1));
  } catch (...) {
    return false;
  }
  return true;
}

std::string fmt(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

std::string cost(double items_per_second) {
  if (items_per_second <= 0) return "-";
  const double ns = 1e9 / items_per_second;
  if (ns >= 1e6) return fmt("%.1f ms", ns / 1e6);
  if (ns >= 1e4) return fmt("%.1f us", ns / 1e3);
  return fmt("%.0f ns", ns);
}

std::string size_text(std::int64_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

}  // namespace

void RatioTable::ReportRuns(const std::vector<Run>& reports) {
  ConsoleReporter::ReportRuns(reports);
  for (const Run& r : reports) {
    const std::string name = r.run_name.function_name;
    ran_[name] = true;
    if (r.error_occurred) {
      failed_[name] = r.error_message;
      continue;
    }
    auto ips = r.counters.find("items_per_second");
    const double value = ips == r.counters.end() ? 0.0 : static_cast<double>(ips->second);
    if (r.run_type == Run::RT_Iteration) {
      reps_[name].push_back(value);
      if (r.repetitions > 1) continue;  // the median aggregate follows
    } else if (r.aggregate_name != "median") {
      continue;
    }
    Figure f;
    f.items_per_second = value;
    for (const auto& [key, counter] : r.counters) f.counters[key] = counter.value;
    const auto& all = reps_[name];
    f.runs = static_cast<int>(all.size());
    f.min_ips = all.empty() ? value : *std::min_element(all.begin(), all.end());
    f.max_ips = all.empty() ? value : *std::max_element(all.begin(), all.end());
    figures_[name] = f;
  }
}

std::map<std::int64_t, const Figure*> RatioTable::by_size(const std::string& family, const std::string& subject) const {
  std::map<std::int64_t, const Figure*> sizes;
  for (const auto& [name, f] : figures_) {
    std::string figure_family, figure_subject;
    std::int64_t size = 0;
    if (split(name, figure_family, figure_subject, size) && figure_family == family && figure_subject == subject &&
        f.items_per_second > 0) {
      sizes[size] = &f;
    }
  }
  return sizes;
}

int RatioTable::finish(std::ostream& out) const {
  int missed = 0;
  out << "\n## Ratios (cost per item, tasklane / baseline; below 1.00 tasklane is faster)\n\n";
  out << "| figure | size | tasklane | baseline | baseline cost | ratio | spread | target | met |\n";
  out << "|---|---|---|---|---|---|---|---|---|\n";
  for (const Comparison& c : comparisons_) {
    const auto baselines = by_size(c.family, c.baseline);
    for (const auto& [size, tasklane] : by_size(c.family, "tasklane")) {
      const auto baseline = baselines.find(size);
      if (baseline == baselines.end()) continue;
      const Figure& tf = *tasklane;
      const Figure& bf = *baseline->second;
      const double ratio = bf.items_per_second / tf.items_per_second;
      // Noise: the ratio's range over the repetitions' extremes.
      const double worst = bf.max_ips / std::max(1e-9, tf.min_ips);
      const double best = bf.min_ips / std::max(1e-9, tf.max_ips);
      std::string met = "-";
      if (c.max_ratio) {
        const bool ok = ratio <= *c.max_ratio;
        met = ok ? "yes" : "**no**";
        missed += ok ? 0 : 1;
      }
      out << "| " << c.family << " | " << size_text(size) << " | " << cost(tf.items_per_second) << " | "
          << c.baseline << " | " << cost(bf.items_per_second) << " | " << fmt("%.2f", ratio) << " | "
          << fmt("%.2f", best) << "-" << fmt("%.2f", worst) << " | " << c.target_text << " | " << met << " |\n";
    }
  }
  if (!absolutes_.empty()) {
    out << "\n## Absolute targets\n\n| figure | counter | value | target | met |\n|---|---|---|---|---|\n";
    for (const AbsoluteTarget& a : absolutes_) {
      const auto f = figures_.find(a.benchmark);
      if (f == figures_.end()) continue;
      const auto v = f->second.counters.find(a.counter);
      if (v == f->second.counters.end()) continue;
      const bool ok = a.at_least ? v->second >= a.limit : v->second <= a.limit;
      missed += ok ? 0 : 1;
      out << "| " << a.benchmark << " | " << a.counter << " | " << fmt("%.4g", v->second) << " | " << a.text << " | "
          << (ok ? "yes" : "**no**") << " |\n";
    }
  }
  if (!growths_.empty()) {
    out << "\n## Growth of the cost per item\n\n| figure | sizes | cost | growth | log2 ratio of the sizes | target | met |\n"
           "|---|---|---|---|---|---|---|\n";
    for (const GrowthTarget& g : growths_) {
      auto sizes = by_size(g.family, g.subject);
      sizes.erase(sizes.begin(), sizes.lower_bound(2));  // log2 of the smallest size divides
      if (sizes.size() < 2) continue;
      const std::int64_t small = sizes.begin()->first, big = sizes.rbegin()->first;
      const double small_ips = sizes.begin()->second->items_per_second;
      const double big_ips = sizes.rbegin()->second->items_per_second;
      const double growth = small_ips / big_ips;  // cost at big / cost at small
      const double allowed = std::log2(static_cast<double>(big)) / std::log2(static_cast<double>(small));
      const bool ok = growth <= allowed;
      missed += ok ? 0 : 1;
      out << "| " << g.family << "/" << g.subject << " | " << size_text(small) << " -> " << size_text(big) << " | "
          << cost(small_ips) << " -> " << cost(big_ips) << " | " << fmt("%.2f", growth) << "x | " << fmt("%.2f", allowed)
          << "x | " << g.text << " | " << (ok ? "yes" : "**no**") << " |\n";
    }
  }
  // Counters other than the rate, for every figure that has them (memory, allocations, ...).
  bool header = false;
  for (const auto& [name, f] : figures_) {
    for (const auto& [key, value] : f.counters) {
      if (key == "items_per_second") continue;
      if (!header) {
        out << "\n## Other counters (median)\n\n| benchmark | counter | value |\n|---|---|---|\n";
        header = true;
      }
      out << "| " << name << " | " << key << " | " << fmt("%.4g", value) << " |\n";
    }
  }
  for (const Comparison& c : comparisons_) {
    if (!c.what.empty()) out << (&c == &comparisons_.front() ? "\nPer item:\n" : "") << "- " << c.family << ": " << c.what << "\n";
  }
  for (const auto& [name, error] : failed_) out << "\nFAILED " << name << ": " << error << "\n";
  out << "\nratio-table: " << missed << " targets missed\n";
  return missed;
}

}  // namespace tasklane::bench
