// check_spawn: every reason a spawn is refused, each with a message that says what to fix.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "function_ref.hpp"
#include "json_measure.hpp"
#include "quota_book.hpp"
#include "tasklane/config.hpp"
#include "tasklane/errors.hpp"

namespace tasklane::detail {

inline constexpr const char* reserved_names[] = {"parent", "self", "all", "broadcast"};

// Messages waiting for a sub-agent's start, at most (Kernel::send answers InboxFull beyond).
inline constexpr std::size_t max_waiting_messages = 256;

// Why a JSON value a record may carry breaks the payload limits ("payload is 2000000 bytes; the
// limit is 1048576"), `what` naming it: a spawn's payload (PayloadTooLarge), a sent message
// (MessageTooLarge). `bytes`, when given, receives the value's size (json_size) when the depth is
// within the limit.
inline std::optional<std::string> payload_limit_problem(const Json& value, const char* what, const Config& config,
                                                        std::size_t* bytes = nullptr) {
  const auto measured = json_measure::measure(value);  // one walk for both limits
  if (bytes) *bytes = measured.bytes;
  if (measured.depth > max_payload_depth) {
    return std::string(what) + " nests deeper than " + std::to_string(max_payload_depth) + " levels";
  }
  if (measured.bytes > config.max_payload_bytes) {
    return std::string(what) + " is " + std::to_string(measured.bytes) + " bytes; the limit is " +
           std::to_string(config.max_payload_bytes);
  }
  return std::nullopt;
}

struct SpawnContext {
  const Config& config;
  std::uint64_t next_id;
  std::size_t unfinished;
  bool stopping;
  FunctionRef<bool(const std::string& owner, const std::string& name)> name_is_live;
  FunctionRef<bool(TaskId)> task_is_known;  // in the table, or forgotten but still linking a tree
  const QuotaBook& quotas;
  FunctionRef<bool(const QuotaSpec&)> quota_held;  // an unfinished task (other than one being replaced) holds the key
  FunctionRef<bool(TaskId)> dependency_is_known;  // in the table (live or retained finished): its outcome is known
};

inline std::optional<SpawnError> refuse(SpawnErrorCode code, std::string message) {
  return std::optional<SpawnError>(SpawnError{code, std::move(message)});
}

// What is wrong with the spec itself (or the kernel is stopping): checked before deduplication, so
// a broken spec is refused even when a live task holds its dedup key.
inline std::optional<SpawnError> check_spec(const TaskSpec& spec, const Config& config, bool stopping) {
  if (stopping) return refuse(SpawnErrorCode::ShuttingDown, "runtime is shutting down: no new tasks are accepted");
  if (spec.kind.empty()) return refuse(SpawnErrorCode::EmptyKind, "task kind must not be empty");
  if (static_cast<unsigned>(spec.priority) >= priority_count) {  // the ready queues are indexed by it
    return refuse(SpawnErrorCode::InvalidPriority, "priority must be low, normal, high or critical (got " +
                                                       std::to_string(static_cast<unsigned>(spec.priority)) + ")");
  }
  if (spec.name) {
    if (spec.name->empty()) return refuse(SpawnErrorCode::ReservedName, "task name must not be empty (leave it out instead)");
    for (const char* reserved : reserved_names) {
      if (*spec.name == reserved) return refuse(SpawnErrorCode::ReservedName, "'" + *spec.name + "' is a reserved name");
    }
  }
  if (spec.timeout && spec.timeout->count() <= 0) {
    return refuse(SpawnErrorCode::InvalidTimeout,
                  "timeout must be positive (got " + std::to_string(spec.timeout->count()) + " us); leave it out for none");
  }
  // Deadlines add the timeout to times (detail::no_deadline is Time::max()); ten years keeps it far from overflow.
  if (spec.timeout && *spec.timeout > ten_years) {
    return refuse(SpawnErrorCode::InvalidTimeout, "timeout must be at most ten years");
  }
  if (spec.heartbeat && spec.heartbeat->count() <= 0) {
    return refuse(SpawnErrorCode::InvalidHeartbeat, "heartbeat must be positive (got " +
                                                        std::to_string(spec.heartbeat->count()) +
                                                        " us); leave it out for none");
  }
  if (spec.heartbeat && *spec.heartbeat > ten_years) {
    return refuse(SpawnErrorCode::InvalidHeartbeat, "heartbeat must be at most ten years");
  }
  if (spec.run_after.count() < 0) return refuse(SpawnErrorCode::InvalidDelay, "run_after must not be negative");
  if (spec.quota && spec.quota->cooldown.count() < 0) return refuse(SpawnErrorCode::InvalidDelay, "quota.cooldown must not be negative");
  if (spec.quota && spec.quota->key.empty()) return refuse(SpawnErrorCode::InvalidQuotaKey, "quota.key must not be empty");
  const RetryPolicy& r = spec.retry;
  if (r.max_attempts == 0) return refuse(SpawnErrorCode::InvalidRetry, "retry.max_attempts must be at least 1");
  if (r.initial_backoff.count() < 0 || r.max_backoff.count() < 0) {
    return refuse(SpawnErrorCode::InvalidRetry, "retry backoffs must not be negative");
  }
  if (!(r.multiplier >= 1.0) || !std::isfinite(r.multiplier)) {
    return refuse(SpawnErrorCode::InvalidRetry, "retry.multiplier must be a finite number of at least 1");
  }
  if (!(r.jitter >= 0.0 && r.jitter <= 1.0)) return refuse(SpawnErrorCode::InvalidRetry, "retry.jitter must be between 0 and 1");
  if (!spec.payload.is_null()) {
    if (auto problem = payload_limit_problem(spec.payload, "payload", config)) {
      return refuse(SpawnErrorCode::PayloadTooLarge, std::move(*problem));
    }
  }
  if (const auto& limit = spec.rate_limit) {
    if (limit->key.empty()) return refuse(SpawnErrorCode::InvalidRateLimit, "rate_limit.key must not be empty");
    if (limit->starts == 0) return refuse(SpawnErrorCode::InvalidRateLimit, "rate_limit.starts must be at least 1");
    if (limit->interval.count() <= 0) {
      return refuse(SpawnErrorCode::InvalidRateLimit, "rate_limit.interval must be positive");
    }
    // Token arithmetic adds intervals to times; ten years keeps it far from overflow.
    if (limit->interval > ten_years) {
      return refuse(SpawnErrorCode::InvalidRateLimit, "rate_limit.interval must be at most ten years");
    }
  }
  if (spec.dedup && spec.dedup->key.empty()) {
    return refuse(SpawnErrorCode::InvalidDedup, "dedup.key must not be empty (leave dedup out instead)");
  }
  if (spec.dedup && static_cast<unsigned>(spec.dedup->mode) >= dedup_mode_count) {
    return refuse(SpawnErrorCode::InvalidDedup, "dedup.mode must be keep_existing or replace_pending (got " +
                                                    std::to_string(static_cast<unsigned>(spec.dedup->mode)) + ")");
  }
  if (static_cast<unsigned>(spec.after_mode) >= dependency_mode_count) {
    return refuse(SpawnErrorCode::InvalidDependencyMode, "after_mode must be all_succeeded or all_finished (got " +
                                                             std::to_string(static_cast<unsigned>(spec.after_mode)) + ")");
  }
  if (const auto& repeat = spec.repeat) {
    if (repeat->every.count() <= 0) {
      return refuse(SpawnErrorCode::InvalidRepeat,
                    "repeat.every must be positive (got " + std::to_string(repeat->every.count()) + " us)");
    }
    // Slot arithmetic adds periods to times; ten years keeps it far from overflow.
    if (repeat->every > ten_years) {
      return refuse(SpawnErrorCode::InvalidRepeat, "repeat.every must be at most ten years");
    }
    if (static_cast<unsigned>(repeat->mode) >= repeat_mode_count) {
      return refuse(SpawnErrorCode::InvalidRepeat, "repeat.mode must be fixed_rate or fixed_delay (got " +
                                                       std::to_string(static_cast<unsigned>(repeat->mode)) + ")");
    }
    if (repeat->times && *repeat->times == 0) {
      return refuse(SpawnErrorCode::InvalidRepeat, "repeat.times must be at least 1 (leave it out to repeat until cancelled)");
    }
    if (spec.dedup && spec.dedup->mode == DedupMode::ReplacePending) {
      return refuse(SpawnErrorCode::InvalidRepeat,
                    "repeat cannot be combined with dedup mode replace_pending: a replaced run would end its series "
                    "(use keep_existing, or cancel the series and spawn a new one)");
    }
  }
  if (spec.after.size() > config.max_dependencies) {
    std::vector<TaskId> distinct = spec.after;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    if (distinct.size() > config.max_dependencies) {
      return refuse(SpawnErrorCode::TooManyDependencies, "a task may wait for at most " +
                                                             std::to_string(config.max_dependencies) +
                                                             " dependencies (got " + std::to_string(distinct.size()) + ")");
    }
  }
  return std::nullopt;
}

// Dependencies point back in time: each must be an id the kernel gave before this spawn and still
// has. The spawn's own id and later ones are the only ways to write a cycle, so both are refused.
inline std::optional<SpawnError> check_dependencies(const TaskSpec& spec, const SpawnContext& c) {
  for (const TaskId dep : spec.after) {
    if (dep.value == c.next_id) {
      return refuse(SpawnErrorCode::DependencyCycle,
                    "a task cannot depend on itself (" + to_string(dep) + " is the id this spawn would get)");
    }
    if (dep.value > c.next_id) {
      return refuse(SpawnErrorCode::DependencyCycle,
                    "dependency " + to_string(dep) +
                        " does not exist yet: dependencies must already exist, so that no cycle can form");
    }
  }
  for (const TaskId dep : spec.after) {
    if (!c.dependency_is_known(dep)) {
      return refuse(SpawnErrorCode::UnknownDependency,
                    "dependency " + to_string(dep) +
                        " is no longer known (it finished and was forgotten, or it was not durable and a restart "
                        "lost it): its outcome is unknown");
    }
  }
  return std::nullopt;
}

// Whether the kernel can take one more task like this now: names, parents, capacity and quotas.
inline std::optional<SpawnError> check_admission(const TaskSpec& spec, const SpawnContext& c) {
  if (spec.name && c.name_is_live(spec.owner, *spec.name)) {
    return refuse(SpawnErrorCode::DuplicateName, "a running task named '" + *spec.name + "' already exists");
  }
  if (spec.parent.task && !c.task_is_known(*spec.parent.task)) {
    return refuse(SpawnErrorCode::UnknownParent,
                  "parent task " + to_string(*spec.parent.task) +
                      (spec.parent.task->value >= c.next_id ? " does not exist" : " finished long ago and is forgotten"));
  }
  if (!spec.after.empty()) {  // most spawns: no call (it is out of line, and its optional returned)
    if (auto refusal = check_dependencies(spec, c)) return refusal;
  }
  if (c.unfinished >= c.config.capacity) {
    return refuse(SpawnErrorCode::QueueFull, "queue is full (limit " + std::to_string(c.config.capacity) + ")");
  }
  if (spec.quota) {
    if (c.quotas.attempts_exhausted(*spec.quota)) {
      return refuse(SpawnErrorCode::QuotaExhausted, "attempt quota for '" + spec.quota->key + "' is used up (limit " +
                                                        std::to_string(spec.quota->max_attempts) + ")");
    }
    if (spec.quota->single_flight && c.quota_held(*spec.quota)) {
      return refuse(SpawnErrorCode::SingleFlightBusy,
                    "a task with single-flight key '" + spec.quota->key + "' is already pending");
    }
  }
  return std::nullopt;
}

// Every reason a spawn is refused, ignoring deduplication: the spec's own faults first.
inline std::optional<SpawnError> check_spawn(const TaskSpec& spec, const SpawnContext& c) {
  if (auto refusal = check_spec(spec, c.config, c.stopping)) return refusal;
  return check_admission(spec, c);
}

}  // namespace tasklane::detail
