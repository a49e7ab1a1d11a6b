// Time as the kernel sees it: a number the driver read from its own clock.
//
// The kernel never reads a clock. Every input carries `now`, microseconds since the Unix epoch
// (or since any fixed origin the driver chooses: the simulation driver starts at zero).
#pragma once

#include <chrono>
#include <cstdint>

namespace tasklane {

using Duration = std::chrono::microseconds;
using Time = std::chrono::microseconds;  // since the driver's epoch; never read inside core/

inline constexpr Time time_origin{0};

constexpr Duration milliseconds(std::int64_t ms) { return std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms)); }
constexpr Duration seconds(std::int64_t s) { return std::chrono::duration_cast<Duration>(std::chrono::seconds(s)); }

// The longest interval a spec may give (timeouts, heartbeats, rate-limit intervals, repeat periods):
// times plus it stay far from overflow, and from Time::max(), which stands for "no deadline".
inline constexpr Duration ten_years = std::chrono::hours(24 * 365 * 10);

}  // namespace tasklane
