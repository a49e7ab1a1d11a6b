// Structured logs: what a runtime has to say (a journal it recovered, a commit that failed, a task
// that ended) as records with a level, the wall-clock time, an event name and fields. The runtime
// hands every record to the sink in RuntimeOptions::log; json_lines_sink() writes them one JSON
// object a line:
//
//   {"time":"2026-11-25T16:20:01.123456Z","level":"warn","event":"task_finished","fields":{"id":"bg_3",...}}
//
//   options.log = tasklane::drivers::json_lines_sink(std::cerr);
//
// Nothing in core/ logs: the kernel answers values and the drivers decide what to say.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "tasklane/result.hpp"
#include "tasklane/task_spec.hpp"

namespace tasklane::drivers {

enum class LogLevel : std::uint8_t { Debug, Info, Warn, Error };
const char* to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);

struct LogRecord {
  LogLevel level = LogLevel::Info;
  std::chrono::system_clock::time_point time;
  std::string event;  // snake_case name of what happened: "journal_commit_failed"
  Json fields = Json::object();
};

// Called on the runtime's owner (strand or thread); a sink shared between runtimes must lock.
using LogSink = std::function<void(const LogRecord&)>;

// {"time": RFC 3339 UTC with microseconds, "level", "event", "fields"}, in that order, one line.
std::string to_json_line(const LogRecord& record);

// Writes each record at `min_level` or above as one line and flushes it; thread-safe. `out` must
// outlive the sink. A line the stream fails to take is counted, not retried; the first line that
// gets through afterwards is preceded by {"event":"log_lines_dropped","fields":{"count":N}}.
LogSink json_lines_sink(std::ostream& out, LogLevel min_level = LogLevel::Info);
// The same into a file it appends to (kept open by the sink); the error names the file.
Result<LogSink, std::string> json_lines_file_sink(const std::filesystem::path& file, LogLevel min_level = LogLevel::Info);

}  // namespace tasklane::drivers
