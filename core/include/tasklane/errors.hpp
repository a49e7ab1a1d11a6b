// The typed errors of the kernel's inputs. Each carries a message that says what to fix.
#pragma once

#include <cstdint>
#include <string>

#include "tasklane/task_info.hpp"

namespace tasklane {

enum class SpawnErrorCode : std::uint8_t {
  EmptyKind,          // "task kind must not be empty"
  ReservedName,       // "'all' is a reserved name"
  DuplicateName,      // "a running task named 'x' already exists"
  InvalidTimeout,     // timeout given but not positive, or over ten years
  InvalidRetry,       // max_attempts 0, negative backoff, multiplier < 1, jitter outside 0..1
  InvalidDelay,       // negative run_after or cooldown
  PayloadTooLarge,    // over Config::max_payload_bytes
  UnknownParent,      // parent.task names no task the kernel knows (never spawned, or forgotten)
  QueueFull,          // "queue is full (limit N)": unfinished tasks reached Config::capacity
  QuotaExhausted,     // the quota key's max_attempts are used up
  SingleFlightBusy,   // another task of the single-flight quota key is unfinished
  ShuttingDown,       // after shutdown: nothing new is accepted
  NotPersisted,       // a driver accepted the task but could not make its record durable
  // Appended, never inserted: drivers/ maps each code to errc by its value.
  InvalidDedup,       // dedup.key empty, or dedup.mode outside the enum
  InvalidRateLimit,   // rate_limit.key empty, starts 0, or interval not positive
  InvalidHeartbeat,   // heartbeat given but not positive, or over ten years
  UnknownDependency,  // an id in `after` was issued but the kernel no longer has it (forgotten, or lost in a restart)
  DependencyCycle,    // an id in `after` is the spawn's own id or one not issued yet: the ways to write a cycle
  TooManyDependencies,  // more than Config::max_dependencies distinct ids in `after`
  InvalidQuotaKey,    // quota.key empty
  InvalidRepeat,      // repeat.every not positive or over ten years, repeat.times 0, repeat with dedup replace_pending,
                      // or repeat.mode outside the enum
  InvalidPriority,    // priority outside low..critical (an enum cast from a bad number)
  InvalidDependencyMode,  // after_mode outside all_succeeded / all_finished (an enum cast from a bad number)
};

struct SpawnError {
  SpawnErrorCode code;
  std::string message;
  friend bool operator==(const SpawnError&, const SpawnError&) = default;
};

enum class SendErrorCode : std::uint8_t {
  TaskNotFound,    // "task not found"
  NotOwner,        // "caller does not own this task"
  TaskTerminated,  // "task already completed" (failed, cancelled, timed_out)
  NoInbox,         // "task has no inbox (not a sub-agent)"
  InboxClosed,     // "sub-agent inbox closed": the task is being cancelled or the kernel stopping
  MessageTooLarge, // the message exceeds the payload limits (Config::max_payload_bytes, 256 levels of nesting)
  InboxFull,       // the messages waiting for the sub-agent's start would exceed 256, or max_payload_bytes together
};

struct SendError {
  SendErrorCode code;
  std::string message;
  friend bool operator==(const SendError&, const SendError&) = default;
};

const char* to_string(SpawnErrorCode c);
const char* to_string(SendErrorCode c);

}  // namespace tasklane
