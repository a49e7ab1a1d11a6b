// A TaskSpec and a TaskInfo with something other than the default in every field: the codecs'
// round-trip tests (the JSON codec in core, the binary record codec in drivers) share them, so a
// field added to TaskSpec or TaskInfo is added here once and both codecs are tested with it.
#pragma once

#include "tasklane/task_info.hpp"

namespace tasklane::testkit {

inline TaskSpec full_spec() {
  TaskSpec spec;
  spec.kind = "summarize";
  spec.payload = Json{{"turn", 12}, {"text", "h\u00e9llo \"quoted\" \u2713 \U0001F600"}, {"list", {1, 2.5, nullptr, true}}};
  spec.owner = "alice";
  spec.name = "nightly";
  spec.description = "summarize the thread";
  spec.priority = Priority::High;
  spec.key = SequenceKey{"agent-1", "session-7", "facts"};
  spec.run_after = milliseconds(250);
  spec.timeout = seconds(30);
  spec.heartbeat = milliseconds(1500);
  spec.retry.max_attempts = 5;
  spec.retry.initial_backoff = milliseconds(10);
  spec.retry.multiplier = 1.1;                  // not exactly representable: must still round-trip
  spec.retry.max_backoff = Duration{123'456'789};
  spec.retry.jitter = 0.1 + 0.2;                // 0.30000000000000004
  spec.retry.non_retryable_errors = {"bad_request", "forbidden"};
  spec.retry.requeue_on_restart = true;
  spec.quota = QuotaSpec{"session-7/compaction", seconds(5), 3, true};
  spec.dedup = DedupSpec{"refresh-index", DedupMode::ReplacePending};
  spec.rate_limit = RateLimit{"openai", 60, seconds(60)};
  spec.after = {TaskId{3}, TaskId{7}};
  spec.after_mode = DependencyMode::AllFinished;
  spec.repeat = Repeat{seconds(300), RepeatMode::FixedDelay, 12};
  spec.parent = ParentContext{TaskId{1}, "run-9", "call-4", "planner"};
  spec.inbox = true;
  spec.durable = true;
  return spec;
}

inline TaskInfo full_info() {
  TaskInfo info;
  info.id = TaskId{42};
  info.spec = full_spec();
  info.status = TaskStatus::TimedOut;
  info.attempt = 3;
  info.created_at = Time{1'700'000'000'000'000};
  info.due = Time{1'700'000'000'250'000};
  info.finished_at = Time{1'700'000'031'000'000};
  info.error = "timed out";
  info.result = Json{{"partial", true}};
  info.cancel_requested = true;
  info.waiting_for = {TaskId{7}};
  info.paused = true;
  info.error_unflushed = true;
  info.series = TaskId{40};
  info.run = 3;
  info.series_end = "series ended: runtime is shutting down";
  info.undelivered = std::vector<InboxMessage>{{"alice", Json{{"content", "hi"}}}, {"alice", "second"}};
  return info;
}

}  // namespace tasklane::testkit
