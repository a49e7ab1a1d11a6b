// A progress bar on stderr for work that takes more than a second: nothing is drawn before
// Console::progress_after has passed, so quick runs stay quiet; then at most ten redraws a second,
// and the line is cleared when the bar goes away. Drawn only when stderr is a terminal or the
// user passed --progress.
//
//   ProgressBar bar(console, options.progress, "replay", trace.entries.size());
//   for (...) bar.update(i);
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "command.hpp"

namespace tasklane::cli {

class ProgressBar {
 public:
  ProgressBar(Console& console, bool forced, std::string label, std::uint64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::uint64_t done);
  void set_total(std::uint64_t total) { total_ = total; }
  bool drawn() const { return drawn_; }

 private:
  void draw(std::uint64_t done);

  Console& console_;
  bool enabled_;
  std::string label_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

}  // namespace tasklane::cli
