// Commands: what the kernel asks its driver to do. Drain them after every input (Kernel::drain, or
// Kernel::poll() until nullopt) and carry them out in order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "tasklane/snapshot.hpp"

namespace tasklane {

using FlushId = std::uint64_t;

enum class CancelReason : std::uint8_t { Requested, TimedOut, Shutdown };
const char* to_string(CancelReason r);

namespace command {
// Run attempt `attempt` of a task. Report its end with Kernel::complete(id, attempt, ...).
struct Start {
  TaskId id;
  std::uint32_t attempt = 0;
  std::string kind;
  Json payload;
  std::optional<Time> deadline;  // the attempt times out here
  bool inbox = false;
  friend bool operator==(const Start&, const Start&) = default;
};
// Stop attempt `attempt` (fire its cancellation token). For TimedOut the kernel already counts the
// attempt as ended; for Requested and Shutdown the task ends Cancelled when the work returns.
struct Cancel {
  TaskId id;
  std::uint32_t attempt = 0;
  CancelReason reason = CancelReason::Requested;
  friend bool operator==(const Cancel&, const Cancel&) = default;
};
// Store this record (a durable task changed). Acknowledge a durable spawn only once it is stored.
struct Persist {
  TaskInfo record;
  friend bool operator==(const Persist&, const Persist&) = default;
};
// Store the whole durable state (at shutdown): the journal may restart from it.
struct PersistSnapshot {
  Snapshot snapshot;
  friend bool operator==(const PersistSnapshot&, const PersistSnapshot&) = default;
};
// A task ended: tell its owner. Exactly one per accepted task.
struct Notify {
  std::string owner;
  TaskId id;
  TaskStatus status = TaskStatus::Completed;
  Json result;
  std::optional<std::string> error;
  // A run of a repeating series: the next run, spawned in this same input (the ended run may be
  // forgotten before a driver reads the kernel, so drivers announce the next run from here).
  std::optional<TaskId> next_run;
  friend bool operator==(const Notify&, const Notify&) = default;
};
// Put a message into the inbox of a running sub-agent attempt.
struct Deliver {
  TaskId to;
  std::uint32_t attempt = 0;
  std::string from;
  Json message;
  friend bool operator==(const Deliver&, const Deliver&) = default;
};
// A flush is over: every task it waited for is terminal. `error` is the first error among them.
struct FlushDone {
  FlushId flush = 0;
  std::optional<std::string> error;
  friend bool operator==(const FlushDone&, const FlushDone&) = default;
};
// Shutdown is complete: nothing runs, everything pending was persisted.
struct Stopped {
  friend bool operator==(const Stopped&, const Stopped&) = default;
};
// Queued-work runner (seed 001): ask the host to run queued work, for one session or any.
// Answer with Kernel::answer_queued_work(request, submitted_session_or_nullopt, now).
struct RunQueuedWork {
  std::uint64_t request = 0;
  std::optional<std::string> session;
  std::string reason;
  bool trace_idle = false;
  friend bool operator==(const RunQueuedWork&, const RunQueuedWork&) = default;
};
}  // namespace command

using Command = std::variant<command::Start, command::Cancel, command::Persist, command::PersistSnapshot,
                             command::Notify, command::Deliver, command::FlushDone, command::Stopped,
                             command::RunQueuedWork>;

// A command lent in place by Kernel::drain: a pointer to the alternative it is. Valid during the
// call it is handed to.
using CommandRef = std::variant<command::Start*, command::Cancel*, command::Persist*, command::PersistSnapshot*,
                                command::Notify*, command::Deliver*, command::FlushDone*, command::Stopped*,
                                command::RunQueuedWork*>;
static_assert(std::variant_size_v<CommandRef> == std::variant_size_v<Command>, "an alternative is missing here");

}  // namespace tasklane
