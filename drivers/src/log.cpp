#include "tasklane/drivers/log.hpp"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>

namespace tasklane::drivers {

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
  }
  return "info";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel l : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error}) {
    if (text == to_string(l)) return l;
  }
  return std::nullopt;
}

namespace {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(us / 1000000 - (us % 1000000 < 0 ? 1 : 0));
  const long fraction = static_cast<long>(((us % 1000000) + 1000000) % 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
  return text;
}

}  // namespace

std::string to_json_line(const LogRecord& record) {
  nlohmann::ordered_json line;
  line["time"] = rfc3339(record.time);
  line["level"] = to_string(record.level);
  line["event"] = record.event;
  line["fields"] = record.fields.is_null() ? Json::object() : record.fields;
  return line.dump(-1, ' ', false, Json::error_handler_t::replace);
}

LogSink json_lines_sink(std::ostream& out, LogLevel min_level) {
  struct Shared {
    std::mutex mutex;
    std::uint64_t dropped = 0;  // lines a failed write lost since the last one that got through
  };
  auto shared = std::make_shared<Shared>();
  return [&out, min_level, shared](const LogRecord& record) {
    if (record.level < min_level) return;
    const std::string line = to_json_line(record);
    std::lock_guard lock(shared->mutex);
    // A failed write (disk full, closed pipe) sets the stream's error state, after which every
    // write would be a silent no-op: clear it, so logging resumes once the device takes bytes again.
    if (!out) out.clear();
    if (shared->dropped > 0) {
      const std::string notice = to_json_line(LogRecord{LogLevel::Warn, record.time, "log_lines_dropped",
                                                        Json{{"count", shared->dropped}}});
      out << notice << '\n';
      out.flush();
      if (!out) {
        out.clear();
        ++shared->dropped;
        return;
      }
      shared->dropped = 0;
    }
    out << line << '\n';
    out.flush();
    if (!out) {
      out.clear();
      ++shared->dropped;
    }
  };
}

Result<LogSink, std::string> json_lines_file_sink(const std::filesystem::path& file, LogLevel min_level) {
  auto out = std::make_shared<std::ofstream>(file, std::ios::app);
  if (!*out) return Failure{"cannot open the log file " + file.string()};
  auto write = json_lines_sink(*out, min_level);
  return LogSink([out, write = std::move(write)](const LogRecord& record) { write(record); });
}

}  // namespace tasklane::drivers
