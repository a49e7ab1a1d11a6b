#include "tasklane/drivers/task_event.hpp"

#include <array>

namespace tasklane::drivers {

const char* to_string(TaskEventKind k) {
  constexpr std::array<const char*, 5> names{"spawned", "started", "progress", "finished", "inbox"};
  return names.at(static_cast<std::size_t>(k));
}

Json to_json(const TaskEvent& e) {
  Json j{{"event", to_string(e.kind)}, {"id", tasklane::to_string(e.id)}, {"owner", e.owner}, {"kind", e.task_kind},
         {"attempt", e.attempt}};
  switch (e.kind) {
    case TaskEventKind::Finished:
      j["status"] = tasklane::to_string(e.status);
      j["result"] = e.data;
      if (e.error) j["error"] = *e.error;
      break;
    case TaskEventKind::Progress:
      j["progress"] = e.progress;
      j["message"] = e.message;
      break;
    case TaskEventKind::Inbox:
      j["from"] = e.message;
      j["message"] = e.data;
      break;
    default:
      break;
  }
  return j;
}

}  // namespace tasklane::drivers
