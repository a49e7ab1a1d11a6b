// TaskId: the kernel's name for a task, printed as `bg_N`.
//
// Ids grow by one for every accepted spawn and never repeat, even across a restart: restore moves
// the counter past every restored id.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tasklane {

struct TaskId {
  std::uint64_t value = 0;
  friend auto operator<=>(const TaskId&, const TaskId&) = default;
};

std::string to_string(TaskId id);                               // "bg_7"
std::optional<TaskId> parse_task_id(std::string_view text);     // "bg_7" -> 7; anything else: nullopt

}  // namespace tasklane

template <>
struct std::hash<tasklane::TaskId> {
  std::size_t operator()(const tasklane::TaskId& id) const noexcept { return std::hash<std::uint64_t>{}(id.value); }
};
