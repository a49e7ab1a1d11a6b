// TaskEvent: the life cycle of a task as subscribers see it (spawned, started, progress, finished,
// inbox), the same in every driver.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tasklane/task_info.hpp"

namespace tasklane::drivers {

enum class TaskEventKind : std::uint8_t { Spawned, Started, Progress, Finished, Inbox };
const char* to_string(TaskEventKind k);

struct TaskEvent {
  TaskEventKind kind = TaskEventKind::Spawned;
  TaskId id;
  std::string owner;
  std::string task_kind;
  std::uint32_t attempt = 0;
  TaskStatus status = TaskStatus::Pending;  // for Finished
  double progress = 0;                      // for Progress, 0..1
  std::string message;                      // progress message, or the inbox message's sender
  Json data;                                // Finished: the result; Inbox: the message
  std::optional<std::string> error;         // Finished: the error
};

Json to_json(const TaskEvent& e);

}  // namespace tasklane::drivers
