// tasklane's errors as std::error_code, for drivers whose callbacks speak error codes (Asio, Qt).
#pragma once

#include <system_error>

#include "tasklane/errors.hpp"

namespace tasklane::drivers {

enum class errc {
  // 1..: spawn refusals, in SpawnErrorCode order
  empty_kind = 1, reserved_name, duplicate_name, invalid_timeout, invalid_retry, invalid_delay, payload_too_large,
  unknown_parent, queue_full, quota_exhausted, single_flight_busy, shutting_down, not_persisted, invalid_dedup,
  invalid_rate_limit, invalid_heartbeat, unknown_dependency, dependency_cycle, too_many_dependencies,
  invalid_quota_key,
  invalid_repeat, invalid_priority, invalid_dependency_mode,
  // 100..: send refusals, in SendErrorCode order
  task_not_found = 100, not_owner, task_terminated, no_inbox, inbox_closed, message_too_large, inbox_full,
  // 200..: the rest
  task_failed = 200,   // a flush saw a failed task; the message comes with the handler's value
  unknown_task,        // waiting for a task the runtime does not know
  stopped,             // the runtime stopped before the operation could finish
};

const std::error_category& category();
std::error_code make_error_code(errc e);
std::error_code make_error_code(SpawnErrorCode c);
std::error_code make_error_code(SendErrorCode c);

}  // namespace tasklane::drivers

template <>
struct std::is_error_code_enum<tasklane::drivers::errc> : std::true_type {};
