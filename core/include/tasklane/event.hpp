// Events: every input of the kernel as a value, so that a trace is a list of (time, event) and
// replay is a loop over apply().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "tasklane/outcome.hpp"
#include "tasklane/selectors.hpp"
#include "tasklane/snapshot.hpp"

namespace tasklane {

class Kernel;

namespace event {
struct Spawn { TaskSpec spec; friend bool operator==(const Spawn&, const Spawn&) = default; };
struct Complete {
  TaskId id;
  std::uint32_t attempt = 0;
  Outcome outcome;
  friend bool operator==(const Complete&, const Complete&) = default;
};
struct Tick { friend bool operator==(const Tick&, const Tick&) = default; };
struct Poke {
  std::optional<std::string> session;
  std::string reason;
  friend bool operator==(const Poke&, const Poke&) = default;
};
struct QueuedWorkAnswer {
  std::uint64_t request = 0;
  std::optional<std::string> submitted;  // the session the host submitted, or nullopt for idle
  friend bool operator==(const QueuedWorkAnswer&, const QueuedWorkAnswer&) = default;
};
struct SessionComplete {
  std::string session;
  std::string reason;
  friend bool operator==(const SessionComplete&, const SessionComplete&) = default;
};
struct Abort { AbortSelector which; friend bool operator==(const Abort&, const Abort&) = default; };
struct Flush { FlushSelector which; friend bool operator==(const Flush&, const Flush&) = default; };
struct Send {
  TaskId to;
  std::string from;
  Json message;
  friend bool operator==(const Send&, const Send&) = default;
};
struct Shutdown { ShutdownMode mode = ShutdownMode::Drain; friend bool operator==(const Shutdown&, const Shutdown&) = default; };
struct Restore { Snapshot snapshot; friend bool operator==(const Restore&, const Restore&) = default; };
struct Heartbeat {
  TaskId id;
  std::uint32_t attempt = 0;
  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};
}  // namespace event

using Event = std::variant<event::Spawn, event::Complete, event::Tick, event::Poke, event::QueuedWorkAnswer,
                           event::SessionComplete, event::Abort, event::Flush, event::Send, event::Shutdown,
                           event::Restore, event::Heartbeat>;

struct TimedEvent {
  Time at{0};
  Event event;
  friend bool operator==(const TimedEvent&, const TimedEvent&) = default;
};

// Feeds one event to the kernel, exactly as the matching Kernel method would. Replay is a loop over it.
void apply(Kernel& kernel, const TimedEvent& e);

}  // namespace tasklane
