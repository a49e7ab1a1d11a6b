// A recorded trace as the Chrome trace event format, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open:
//
//   {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}
//
// Process 1 "workers": one thread per worker slot (an attempt takes the lowest free slot from its
//   Start until its work returns, which for a timed-out attempt is after the timeout). Each attempt
//   is a B/E slice named after the task's kind; E's args hold the outcome and the task's status after it.
// Process 2 "sequence lanes": one thread per SequenceKey; each attempt of a keyed task is an X
//   slice from its Start until the kernel counts it over (completion, timeout).
// Process 3 "runtime": thread 1 "events" (instants: shutdown, stopped, tasks that ended without
//   running), thread 2 "flushes" (each flush a b/e async span from Flush to FlushDone).
// Instant events (ph "i", scope thread) on the worker's thread: "retry" (a Start of attempt > 1),
//   "timeout" (Cancel{TimedOut}), "cancel" (Cancel{Requested|Shutdown}), "inbox" (Deliver).
// Every event has ph, ts, pid, tid and name; ts is in microseconds from the trace's first event.
// Slices still open at the end are closed at the last time seen with args.unfinished = true.
#pragma once

#include <cstdint>
#include <functional>

#include "tasklane/drivers/trace.hpp"
#include "tasklane/json.hpp"

namespace tasklane::cli {

struct ChromeTraceSummary {
  std::size_t events = 0;       // trace events written
  std::size_t attempts = 0;     // worker slices
  std::size_t workers = 0;      // worker threads used
  std::size_t lanes = 0;        // sequence lane threads
  std::size_t flushes = 0;      // flush spans
};

Json chrome_trace(const drivers::Trace& trace, ChromeTraceSummary& summary,
                  const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {});

}  // namespace tasklane::cli
