// The agent server's built-in task kinds, each behaving like real agent work:
//   sleep        payload {"ms": N}: waits N ms in steps, reporting progress and heartbeats; honours
//                cancellation. {"stuck": true}: hangs without a heartbeat until cancelled
//   flaky        payload {"failures": N, "ms": M}: fails its first N attempts, then succeeds
//   compact      payload {"ms": N}: memory compaction; by default a per-owner quota with a 1 s
//                cooldown and a 3 s timeout (a slow compaction is cut off and retried)
//   sub_agent    an inbox; answers every message until it gets "stop" or payload.ms passes
//   maintenance  keyed post-turn maintenance (give it a "key"): payload {"ms": N}
#pragma once

#include "tasklane/drivers/handler_registry.hpp"

namespace agent_server {

tasklane::drivers::HandlerRegistry demo_kinds();

// Defaults that make a kind behave as described when the request body leaves them out.
void apply_kind_defaults(tasklane::TaskSpec& spec, const tasklane::Json& body);

}  // namespace agent_server
