// The printed names of the kernel's enums and ids: one table each, used by messages and JSON.
#include <array>
#include <charconv>

#include "tasklane/command.hpp"
#include "tasklane/errors.hpp"
#include "tasklane/task_info.hpp"

namespace tasklane {
namespace {

template <class Enum, std::size_t N>
std::optional<Enum> parse_name(const std::array<const char*, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

// A spec's enums may hold any byte a caller cast into them (spawn refuses those): "invalid" then.
template <class Enum, std::size_t N>
const char* name_or_invalid(const std::array<const char*, N>& names, Enum value) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : "invalid";
}

constexpr std::array<const char*, 4> priority_names{"low", "normal", "high", "critical"};
constexpr std::array<const char*, 6> status_names{"pending", "running", "completed", "failed", "cancelled", "timed_out"};
constexpr std::array<const char*, 23> spawn_error_names{
    "empty_kind",       "reserved_name", "duplicate_name", "invalid_timeout", "invalid_retry",     "invalid_delay",
    "payload_too_large", "unknown_parent", "queue_full",   "quota_exhausted", "single_flight_busy", "shutting_down",
    "not_persisted",    "invalid_dedup", "invalid_rate_limit", "invalid_heartbeat", "unknown_dependency",
    "dependency_cycle", "too_many_dependencies", "invalid_quota_key",
    "invalid_repeat",   "invalid_priority", "invalid_dependency_mode"};
constexpr std::array<const char*, 2> dedup_mode_names{"keep_existing", "replace_pending"};
constexpr std::array<const char*, 2> dependency_mode_names{"all_succeeded", "all_finished"};
constexpr std::array<const char*, 2> repeat_mode_names{"fixed_rate", "fixed_delay"};
static_assert(spawn_error_names.size() == static_cast<std::size_t>(SpawnErrorCode::InvalidDependencyMode) + 1,
              "a SpawnErrorCode without a name: append its name (and its errc, drivers/src/error_code.cpp)");
static_assert(priority_names.size() == priority_count && dedup_mode_names.size() == dedup_mode_count &&
              dependency_mode_names.size() == dependency_mode_count && repeat_mode_names.size() == repeat_mode_count);
constexpr std::array<const char*, 7> send_error_names{"task_not_found", "not_owner",         "task_terminated", "no_inbox",
                                                      "inbox_closed",   "message_too_large", "inbox_full"};
constexpr std::array<const char*, 3> cancel_reason_names{"requested", "timed_out", "shutdown"};

}  // namespace

std::string to_string(TaskId id) { return "bg_" + std::to_string(id.value); }

std::optional<TaskId> parse_task_id(std::string_view text) {
  constexpr std::string_view prefix = "bg_";
  if (text.size() <= prefix.size() || text.substr(0, prefix.size()) != prefix) return std::nullopt;
  const auto digits = text.substr(prefix.size());
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // one spelling per id
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return TaskId{value};
}

const char* to_string(Priority p) { return name_or_invalid(priority_names, p); }
std::optional<Priority> parse_priority(std::string_view text) { return parse_name<Priority>(priority_names, text); }

const char* to_string(DedupMode m) { return name_or_invalid(dedup_mode_names, m); }
std::optional<DedupMode> parse_dedup_mode(std::string_view text) { return parse_name<DedupMode>(dedup_mode_names, text); }

const char* to_string(DependencyMode m) { return name_or_invalid(dependency_mode_names, m); }
std::optional<DependencyMode> parse_dependency_mode(std::string_view text) {
  return parse_name<DependencyMode>(dependency_mode_names, text);
}

const char* to_string(RepeatMode m) { return name_or_invalid(repeat_mode_names, m); }
std::optional<RepeatMode> parse_repeat_mode(std::string_view text) { return parse_name<RepeatMode>(repeat_mode_names, text); }

const char* to_string(TaskStatus s) { return status_names.at(static_cast<std::size_t>(s)); }
std::optional<TaskStatus> parse_task_status(std::string_view text) {
  return parse_name<TaskStatus>(status_names, text);
}

const char* to_string(SpawnErrorCode c) { return spawn_error_names.at(static_cast<std::size_t>(c)); }
const char* to_string(SendErrorCode c) { return send_error_names.at(static_cast<std::size_t>(c)); }
const char* to_string(CancelReason r) { return cancel_reason_names.at(static_cast<std::size_t>(r)); }

}  // namespace tasklane
