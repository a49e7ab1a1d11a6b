#include "tasklane/drivers/error_code.hpp"

#include <string>

namespace tasklane::drivers {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tasklane"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::empty_kind: return "task kind must not be empty";
      case errc::reserved_name: return "the task name is reserved or empty";
      case errc::duplicate_name: return "a live task of this owner already has this name";
      case errc::invalid_timeout: return "timeout must be positive";
      case errc::invalid_retry: return "invalid retry policy";
      case errc::invalid_delay: return "invalid delay, cooldown or quota key";
      case errc::payload_too_large: return "payload is over the configured limit";
      case errc::unknown_parent: return "parent task does not exist";
      case errc::queue_full: return "queue is full";
      case errc::quota_exhausted: return "attempt quota is used up";
      case errc::single_flight_busy: return "a task with this single-flight key is already pending";
      case errc::shutting_down: return "runtime is shutting down";
      case errc::not_persisted: return "task accepted but its record could not be persisted";
      case errc::invalid_dedup: return "invalid dedup: it needs a key, and mode keep_existing or replace_pending";
      case errc::invalid_rate_limit: return "invalid rate limit: it needs a key, at least 1 start and a positive interval";
      case errc::invalid_heartbeat: return "heartbeat interval must be positive (at most ten years)";
      case errc::unknown_dependency: return "a dependency is forgotten: its outcome is unknown";
      case errc::dependency_cycle: return "a dependency must be a task that already exists (no cycles)";
      case errc::too_many_dependencies: return "too many dependencies";
      case errc::invalid_quota_key: return "invalid quota key";
      case errc::invalid_repeat: return "invalid repeat: every must be positive (at most ten years), times at least 1, mode fixed_rate or fixed_delay, and no dedup replace_pending";
      case errc::invalid_priority: return "priority must be low, normal, high or critical";
      case errc::invalid_dependency_mode: return "after_mode must be all_succeeded or all_finished";
      case errc::task_not_found: return "task not found";
      case errc::not_owner: return "caller does not own this task";
      case errc::task_terminated: return "task already finished";
      case errc::no_inbox: return "task has no inbox (not a sub-agent)";
      case errc::inbox_closed: return "sub-agent inbox closed";
      case errc::message_too_large: return "message too large (the payload limits apply)";
      case errc::inbox_full: return "too many messages wait for the sub-agent's start";
      case errc::task_failed: return "a task failed";
      case errc::unknown_task: return "unknown task";
      case errc::stopped: return "runtime stopped";
    }
    return "tasklane error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& category() {
  static const category_impl instance;
  return instance;
}

std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }
// The spawn codes map by value: the last of each enum must meet, or a code was inserted, not appended.
static_assert(static_cast<int>(SpawnErrorCode::InvalidDependencyMode) + 1 == static_cast<int>(errc::invalid_dependency_mode));
static_assert(static_cast<int>(SpawnErrorCode::InvalidRateLimit) + 1 == static_cast<int>(errc::invalid_rate_limit));
std::error_code make_error_code(SpawnErrorCode c) { return {static_cast<int>(c) + 1, category()}; }
std::error_code make_error_code(SendErrorCode c) { return {static_cast<int>(c) + 100, category()}; }

}  // namespace tasklane::drivers
