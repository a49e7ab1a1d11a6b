#include "tasklane/drivers/trace.hpp"

#include <deque>

#include "tasklane/json.hpp"

namespace tasklane::drivers {

Json config_to_json(const Config& c) {
  return Json{{"capacity", c.capacity},
              {"max_running", c.max_running},
              {"max_payload_bytes", c.max_payload_bytes},
              {"seed", c.seed},
              {"retained_terminal", c.retained_terminal},
              {"max_dependencies", c.max_dependencies},
              {"queued_work_runner", c.queued_work_runner},
              {"queued_work_poll_us", c.queued_work_poll.count()}};
}

Result<Config, std::string> config_from_json(const Json& j) {
  if (!j.is_object()) return Failure{std::string("config: expected an object")};
  Config c;
  try {
    c.capacity = j.at("capacity").get<std::size_t>();
    c.max_running = j.at("max_running").get<std::size_t>();
    c.max_payload_bytes = j.at("max_payload_bytes").get<std::size_t>();
    c.seed = j.at("seed").get<std::uint64_t>();
    c.retained_terminal = j.at("retained_terminal").get<std::size_t>();
    if (j.contains("max_dependencies")) c.max_dependencies = j.at("max_dependencies").get<std::size_t>();  // older traces: the default
    c.queued_work_runner = j.at("queued_work_runner").get<bool>();
    c.queued_work_poll = Duration{j.at("queued_work_poll_us").get<std::int64_t>()};
  } catch (const std::exception& e) {
    return Failure{std::string("config: ") + e.what()};
  }
  return c;
}

namespace {
std::string line_of(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }
}  // namespace

TraceWriter::TraceWriter(const std::filesystem::path& file, const Config& config) : out_(file, std::ios::trunc) {
  out_ << line_of(Json{{"trace", "tasklane"}, {"version", 1}, {"config", config_to_json(config)}}) << '\n';
}

void TraceWriter::event(const TimedEvent& e) { out_ << line_of(to_json(e)) << '\n'; }

void TraceWriter::command(const Command& c) { out_ << line_of(Json{{"command", to_json(c)}}) << '\n'; }

void TraceWriter::restart() { out_ << line_of(Json{{"restart", true}}) << '\n'; }

bool write_trace(const std::filesystem::path& file, const Config& config, const std::vector<TimedEvent>& events) {
  return write_trace(file, config, events, {});
}

Result<Trace, std::string> read_trace(const std::filesystem::path& file, const TraceProgress& progress) {
  std::ifstream in(file);
  if (!in) return Failure{"cannot open " + file.string()};
  std::error_code size_error;
  const std::uint64_t size = progress ? std::filesystem::file_size(file, size_error) : 0;
  std::uint64_t bytes_read = 0;
  Trace trace;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    bytes_read += line.size() + 1;
    if (progress && number % 256 == 0) progress(bytes_read, size);
    if (line.empty()) continue;
    const auto json = parse_json(line);
    const std::string where = file.string() + ":" + std::to_string(number) + ": ";
    if (!json) return Failure{where + json.error().message};
    const Json& j = json.value();
    if (number == 1) {
      if (!j.is_object() || j.value("trace", "") != "tasklane") return Failure{where + "not a tasklane trace (no header)"};
      auto config = config_from_json(j.contains("config") ? j.at("config") : Json());
      if (!config) return Failure{where + config.error()};
      trace.config = config.value();
      continue;
    }
    if (j.is_object() && j.contains("restart")) {
      trace.entries.emplace_back(TraceRestart{});
    } else if (j.is_object() && j.contains("command")) {
      auto c = command_from_json(j.at("command"));
      if (!c) return Failure{where + c.error().message};
      trace.entries.emplace_back(std::move(c).value());
    } else {
      auto e = timed_event_from_json(j);
      if (!e) return Failure{where + e.error().message};
      trace.entries.emplace_back(std::move(e).value());
    }
  }
  if (number == 0) return Failure{file.string() + ": empty trace"};
  return trace;
}

ReplayReport replay_trace(const Trace& trace, const TraceProgress& progress) {
  ReplayReport report;
  Kernel kernel(trace.config);
  auto describe = [](const Command& c) { return line_of(to_json(c)); };
  for (std::size_t i = 0; i < trace.entries.size(); ++i) {
    if (progress && i % 256 == 0) progress(i, trace.entries.size());
    if (const auto* e = std::get_if<TimedEvent>(&trace.entries[i])) {
      ++report.events;
      apply(kernel, *e);
      continue;
    }
    if (std::holds_alternative<TraceRestart>(trace.entries[i])) {
      if (auto extra = kernel.poll()) {
        report.mismatch_at = i;
        report.recorded = "a restart";
        report.replayed = describe(*extra);
        return report;
      }
      kernel = Kernel(trace.config);
      continue;
    }
    const Command& recorded = std::get<Command>(trace.entries[i]);
    ++report.commands;
    auto replayed = kernel.poll();
    if (!replayed || !(*replayed == recorded)) {
      report.mismatch_at = i;
      report.recorded = describe(recorded);
      report.replayed = replayed ? describe(*replayed) : "nothing";
      return report;
    }
  }
  if (auto extra = kernel.poll()) {
    report.mismatch_at = trace.entries.size();
    report.recorded = "nothing";
    report.replayed = describe(*extra);
  }
  return report;
}

bool write_trace(const std::filesystem::path& file, const Config& config, const std::vector<TimedEvent>& events,
                 const std::vector<std::size_t>& restarts) {
  TraceWriter writer(file, config);
  if (!writer.ok()) return false;
  Kernel kernel(config);
  std::size_t next_restart = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    while (next_restart < restarts.size() && restarts[next_restart] == i) {
      writer.restart();
      kernel = Kernel(config);
      ++next_restart;
    }
    writer.event(events[i]);
    apply(kernel, events[i]);
    while (auto c = kernel.poll()) writer.command(*c);
  }
  for (; next_restart < restarts.size(); ++next_restart) writer.restart();  // a crash with nothing after it
  writer.flush();
  return writer.ok();
}

}  // namespace tasklane::drivers
