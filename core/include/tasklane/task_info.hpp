// TaskInfo: what the kernel knows about one task. It is also the durable record: a Persist
// command carries a TaskInfo, and a Snapshot is a list of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tasklane/task_spec.hpp"

namespace tasklane {

enum class TaskStatus : std::uint8_t { Pending, Running, Completed, Failed, Cancelled, TimedOut };

constexpr bool is_terminal(TaskStatus s) { return s != TaskStatus::Pending && s != TaskStatus::Running; }
const char* to_string(TaskStatus s);
std::optional<TaskStatus> parse_task_status(std::string_view text);

// A message sent to a sub-agent (Kernel::send) that no attempt has received yet.
struct InboxMessage {
  std::string from;
  Json message;
  friend bool operator==(const InboxMessage&, const InboxMessage&) = default;
};

struct TaskInfo {
  TaskId id;
  TaskSpec spec;
  TaskStatus status = TaskStatus::Pending;
  bool cancel_requested = false;     // running, asked to stop; ends Cancelled when the work returns
  bool paused = false;               // pending and held by a pause rule (Kernel::pause): it keeps its place, starts nothing
  // Ended Failed or TimedOut while no flush waited for it, and no flush has taken its error yet:
  // the next flush that selects it reports `error` (seed 000), also after a restart.
  bool error_unflushed = false;
  std::uint32_t attempt = 0;  // attempts started so far; the running attempt's number
  Time created_at{0};
  Time due{0};  // earliest start of the next attempt
  std::optional<Time> finished_at;
  Boxed<std::string> error;  // the last attempt's error
  Json result;                       // the successful attempt's result, null otherwise
  std::vector<TaskId> waiting_for;   // pending: the dependencies (spec.after) not yet terminal, by id
  // Repeating tasks (TaskSpec::repeat): the series' first run's id (the first run's own id too) and
  // this run's number, 1-based; unset and 0 for a task that does not repeat.
  std::optional<TaskId> series;
  std::uint32_t run = 0;
  Boxed<std::string> series_end;  // the last run of a series cut short: why no run followed
  // A sub-agent's messages sent while no attempt ran, in order: the next attempt's start delivers
  // them (Deliver commands) and empties this. In the durable record, so a restart keeps them.
  Boxed<std::vector<InboxMessage>> undelivered;
  friend bool operator==(const TaskInfo&, const TaskInfo&) = default;
};

// A look at one task without copying its record (Kernel::glance): its kind and owner as views
// valid until the kernel's next input, and the state a driver follows.
struct TaskGlance {
  std::string_view kind;
  std::string_view owner;
  TaskStatus status = TaskStatus::Pending;
  Priority priority = Priority::Normal;
  std::uint32_t attempt = 0;
  Time due{0};
  std::optional<Duration> heartbeat;  // TaskSpec::heartbeat: the work must call heartbeat()
};

}  // namespace tasklane
