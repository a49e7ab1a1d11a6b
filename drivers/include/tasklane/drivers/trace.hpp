// Traces: a driver's (time, event) stream and the commands the kernel answered, one JSON object a
// line, so that any run replays exactly in a fresh kernel.
//
//   {"trace":"tasklane","version":1,"config":{...}}
//   {"at_us":1795612901817152,"event":{"type":"spawn","spec":{...}}}
//   {"command":{"type":"start","id":"bg_0",...}}
//
// RuntimeOptions::trace_file switches recording on in both real drivers; `tasklane replay TRACE`
// checks a trace with replay_trace().
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tasklane/kernel.hpp"

namespace tasklane::drivers {

Json config_to_json(const Config& c);
Result<Config, std::string> config_from_json(const Json& j);

class TraceWriter {
 public:
  // Truncates `file` and writes the header. Check ok() afterwards.
  TraceWriter(const std::filesystem::path& file, const Config& config);
  bool ok() const { return static_cast<bool>(out_); }
  void event(const TimedEvent& e);
  void command(const Command& c);
  void flush() { out_.flush(); }

 private:
  std::ofstream out_;
};

// Writes `events` (one kernel's life: from a fresh kernel, or from its Restore) with the commands a
// fresh kernel answers to each, as `tasklane replay` reads it: how a failing test case leaves a
// trace that reproduces it. False when the file cannot be written.
bool write_trace(const std::filesystem::path& file, const Config& config, const std::vector<TimedEvent>& events);

using TraceEntry = std::variant<TimedEvent, Command>;

struct Trace {
  Config config;
  std::vector<TraceEntry> entries;
};

// Reads a trace; the error names the line at fault.
Result<Trace, std::string> read_trace(const std::filesystem::path& file);

struct ReplayReport {
  std::size_t events = 0;
  std::size_t commands = 0;
  // Where replay first differs: the entry's index (0-based, after the header), what was recorded
  // and what the fresh kernel answered.
  std::optional<std::size_t> mismatch_at;
  std::string recorded;
  std::string replayed;
  bool ok() const { return !mismatch_at; }
};

ReplayReport replay_trace(const Trace& trace);

}  // namespace tasklane::drivers
