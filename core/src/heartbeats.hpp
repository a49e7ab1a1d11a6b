// Heartbeat timeouts: how an attempt's two deadlines (the per-attempt timeout and the heartbeat
// deadline) decide its end, and the messages that name it.
//
// A heartbeat only moves the attempt's heartbeat deadline; it arms no timer. The one heartbeat timer
// of an attempt fires at the deadline it was armed for and, when a heartbeat moved the deadline
// since, re-arms itself there. So a work function that beats in a hot loop costs an assignment per
// beat, and the timer queue holds at most one heartbeat timer per running attempt. next_deadline()
// may then name a time before the real heartbeat deadline; the tick there changes nothing.
#pragma once

#include <string>

#include "tasklane/time.hpp"

namespace tasklane::detail {

// "500 ms", or "1500 us" when the duration is not a whole number of milliseconds.
inline std::string describe_interval(Duration d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " ms";
  return std::to_string(d.count()) + " us";
}

inline std::string heartbeat_timeout_message(Duration interval) {
  return "heartbeat timeout: no heartbeat within " + describe_interval(interval);
}

// What a timer of a running attempt finds at `now`.
enum class AttemptExpiry { None, Timeout, Heartbeat };

// An attempt's deadline that it does not have: never reached.
inline constexpr Time no_deadline = Time::max();

// The deadline that passed first ends the attempt; at a tie, the per-attempt timeout. Either may be
// no_deadline.
inline AttemptExpiry expiry(Time timeout_at, Time heartbeat_at, Time now) {
  const bool timed_out = timeout_at != no_deadline && timeout_at <= now;
  const bool silent = heartbeat_at != no_deadline && heartbeat_at <= now;
  if (timed_out && (!silent || timeout_at <= heartbeat_at)) return AttemptExpiry::Timeout;
  if (silent) return AttemptExpiry::Heartbeat;
  return AttemptExpiry::None;
}

}  // namespace tasklane::detail
