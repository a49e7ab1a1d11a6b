// The bodies inside journal records and the snapshot file: binary from format version 1 on, JSON
// before it, told apart by the first byte (the framing around them is in journal_format.hpp).
//
//   '{'   a JSON record as written before binary records: a task record (to_json(TaskInfo)) or
//         {"ids_reserved_below": N}. Still read; never written.
//   0x01  binary task record v1        0x02  binary id reservation v1: varint N
//   A snapshot body is JSON ('{', to_json(Snapshot)) or binary snapshot v1 (0x01).
//
// Binary v1, all integers little-endian: varint = LEB128 (7 bits a byte, at most 10 bytes),
// zigzag = a signed varint, f64 = 8 bytes IEEE 754, str = varint length + bytes, json = varint
// length + MessagePack (nlohmann's to_msgpack), list<T> = varint count + T each.
//   task   0x01 | varint fields | varint id | u8 status | varint attempt | zigzag created_at_us |
//          zigzag due_us | str kind | then, in bit order, each field whose bit is set in `fields`:
//     bit  0 spec.durable (flag)        1 spec.owner str             2 spec.payload json
//          3 spec.run_after zigzag      4 finished_at zigzag         5 error str
//          6 result json                7 cancel_requested (flag)    8 spec.description str
//          9 spec.name str             10 spec.priority u8          11 spec.key str agent, scope, purpose
//         12 spec.timeout zigzag       13 spec.heartbeat zigzag     14 spec.retry (below)
//         15 spec.quota str key, zigzag cooldown, varint max_attempts, u8 single_flight
//         16 spec.dedup str key, u8 mode        17 spec.rate_limit str key, varint starts, zigzag interval
//         18 spec.after list<varint id>, u8 after_mode
//         19 spec.repeat zigzag every, u8 mode, varint times (0: unset)
//         20 spec.parent u8 parts (bit 0 task, 1 run, 2 call, 3 agent), then varint task, str run, call, agent
//         21 spec.inbox (flag)         22 waiting_for list<varint id>   23 paused (flag)
//         24 series varint id          25 run varint                26 series_end str
//         27 error_unflushed (flag)    28 undelivered list<str from, json message>
//     retry: varint max_attempts, zigzag initial_backoff, f64 multiplier, zigzag max_backoff,
//            f64 jitter, list<str> non_retryable_errors, u8 requeue_on_restart
//   A field at its default (empty string, null Json, false, 0, unset, the default RetryPolicy)
//   has its bit clear and costs nothing.
//   snapshot 0x01 | varint next_id | varint rng_state | list<varint length + task record without its tag> tasks |
//          list<str key, varint attempts, u8 has_last_start, [zigzag last_start]> quotas |
//          list<str key, varint tokens, zigzag refilled_at> rate_limits | list<str> paused_owners |
//          list<str> paused_purposes
//
// Decoding never throws and never trusts a length: every length and count is checked against the
// bytes left, enums against their values, a field bit no version knows, trailing bytes, an unknown
// tag, a Json value nested over 512 levels or a non-finite retry number are errors. The checks the
// JSON decoder makes on a value (repeat every and times, u32 ranges) are made here too. A NaN or
// infinity inside a Json value reads as null, as it did through JSON text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "tasklane/result.hpp"
#include "tasklane/snapshot.hpp"

namespace tasklane::drivers {

inline constexpr char body_tag_json = '{';
inline constexpr std::uint8_t body_tag_task_v1 = 0x01;
inline constexpr std::uint8_t body_tag_ids_reserved_v1 = 0x02;
inline constexpr std::uint8_t body_tag_snapshot_v1 = 0x01;

// A journal record: one task's latest state, or the promise that no id below `below` is handed out again.
struct IdsReserved {
  std::uint64_t below = 0;
  friend bool operator==(const IdsReserved&, const IdsReserved&) = default;
};
using JournalRecord = std::variant<TaskInfo, IdsReserved>;

// What is wrong with a body, and where: `at` counts bytes from the body's start.
struct BodyError {
  std::string message;
  std::uint64_t at = 0;
};

// Append the binary v1 body to `out`.
void append_task_body(std::string& out, const TaskInfo& record);
void append_ids_reserved_body(std::string& out, std::uint64_t below);
std::string encode_snapshot_body(const Snapshot& snapshot);

// Any version, told by the first byte.
Result<JournalRecord, BodyError> decode_record_body(std::string_view body);
Result<Snapshot, BodyError> decode_snapshot_body(std::string_view body);

}  // namespace tasklane::drivers
