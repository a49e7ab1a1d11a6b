#include "progress.hpp"

#include <algorithm>
#include <ostream>

namespace tasklane::cli {

namespace {
constexpr int bar_width = 30;
constexpr auto redraw_every = std::chrono::milliseconds(100);
}  // namespace

ProgressBar::ProgressBar(Console& console, bool forced, std::string label, std::uint64_t total)
    : console_(console),
      enabled_(forced || console.err_is_tty),
      label_(std::move(label)),
      total_(total),
      started_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (drawn_) console_.err << "\r" << std::string(label_.size() + bar_width + 40, ' ') << "\r" << std::flush;
}

void ProgressBar::update(std::uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - started_ < console_.progress_after) return;
  if (drawn_ && now - last_draw_ < redraw_every) return;
  last_draw_ = now;
  draw(done);
}

void ProgressBar::draw(std::uint64_t done) {
  drawn_ = true;
  const double fraction = total_ == 0 ? 0.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
  const int filled = static_cast<int>(fraction * bar_width);
  console_.err << "\r" << label_ << " [" << std::string(static_cast<std::size_t>(filled), '#')
               << std::string(static_cast<std::size_t>(bar_width - filled), ' ') << "] " << static_cast<int>(fraction * 100)
               << "% " << done << "/" << total_ << std::flush;
}

}  // namespace tasklane::cli
