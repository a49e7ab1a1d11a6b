// The agent server's spawn body: {"kind": "sleep", "owner": "alice", "payload": {"ms": 2000},
// "priority": "high", "run_after_ms": 0, "timeout_ms": 5000, "key": {...}, "retry": {...},
// "dedup_key": "refresh", "dedup_mode": "keep_existing" | "replace_pending",
// "rate_limit": {"key": "openai", "starts": 60, "interval_ms": 60000}, "heartbeat_ms": 10000,
// "after": ["bg_3", "bg_4"], "after_mode": "all_succeeded" | "all_finished",
// "repeat": {"every_ms": 60000, "mode": "fixed_rate" | "fixed_delay", "times": 10}, ...}
// turned into a TaskSpec, with an error that names the field at fault.
#pragma once

#include <string>

#include "tasklane/result.hpp"
#include "tasklane/task_info.hpp"

namespace agent_server {

struct BadRequest {
  std::string message;
};

tasklane::Result<tasklane::TaskSpec, BadRequest> parse_spawn_request(const tasklane::Json& body);

// The task as the API shows it.
tasklane::Json task_json(const tasklane::TaskInfo& info);

}  // namespace agent_server
