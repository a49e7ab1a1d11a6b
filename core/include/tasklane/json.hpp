// The JSON form of every kernel value: specs, records, snapshots, events and commands.
//
// Encoding never fails. Decoding checks everything and answers a Result with a message naming the
// field at fault; it never throws, so it is safe on untrusted bytes (journal, trace, HTTP body).
#pragma once

#include <string>
#include <string_view>

#include "tasklane/command.hpp"
#include "tasklane/event.hpp"
#include "tasklane/result.hpp"
#include "tasklane/snapshot.hpp"

namespace tasklane {

struct DecodeError {
  std::string message;
  friend bool operator==(const DecodeError&, const DecodeError&) = default;
};

Json to_json(const TaskSpec& spec);
Json to_json(const TaskInfo& record);
Json to_json(const Snapshot& snapshot);
Json to_json(const Event& event);
Json to_json(const TimedEvent& event);
Json to_json(const Command& command);

Result<TaskSpec, DecodeError> task_spec_from_json(const Json& j);
Result<TaskInfo, DecodeError> task_info_from_json(const Json& j);
Result<Snapshot, DecodeError> snapshot_from_json(const Json& j);
Result<Event, DecodeError> event_from_json(const Json& j);
Result<TimedEvent, DecodeError> timed_event_from_json(const Json& j);
Result<Command, DecodeError> command_from_json(const Json& j);

// Parses text first; a parse error is a DecodeError too.
Result<Json, DecodeError> parse_json(std::string_view text);

}  // namespace tasklane
