// tasklane inspect DIR: a data directory's tasks, read without changing or locking anything.
#include <filesystem>
#include <ostream>

#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/json.hpp"

namespace tasklane::cli {
namespace {

const char* const usage =
    "usage: tasklane inspect DIR [--owner O] [--status S] [--kind K] [--json] [--progress]\n"
    "  Reads the snapshot and journal of a data directory without changing them and prints the\n"
    "  tasks (id, kind, owner, name, status, attempt, due, last error; a repeating task's run and\n"
    "  series). A damaged journal is reported with its file and offset (exit 1); a torn tail is\n"
    "  shown and is not an error.\n"
    "  --owner O   only tasks of this owner\n"
    "  --status S  only tasks in this status: pending, running, completed, failed, cancelled, timed_out\n"
    "  --kind K    only tasks of this kind\n"
    "  --json      one JSON object: {\"tasks\": [...], \"records_replayed\": N, \"torn_tail_at\": offset or null}\n"
    "  --progress  draw a progress bar on stderr even when it is not a terminal\n";

std::string ms_text(Time t) { return std::to_string(t.count() / 1000); }

// One table cell: padded to `width` (right-aligned for numbers), never cut, so a long error or
// name is shown whole and only pushes the rest of its row to the right.
std::string cell(const std::string& text, std::size_t width, bool right = false) {
  if (text.size() >= width) return text;
  const std::string pad(width - text.size(), ' ');
  return right ? pad + text : text + pad;
}

// A last error may hold line breaks; a table row must stay one line.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// The status, and why a pending task is not ready: "pending, paused", "pending, after bg_3 bg_4";
// a run of a repeating task names its series: "pending, run 3 of bg_0".
std::string status_text(const TaskInfo& t) {
  std::string text = to_string(t.status);
  if (t.series) text += ", run " + std::to_string(t.run) + " of " + to_string(*t.series);
  if (t.paused) text += ", paused";
  if (!t.waiting_for.empty()) {
    text += ", after";
    for (const TaskId id : t.waiting_for) text += ' ' + to_string(id);
  }
  return text;
}

// The last error, and why a series ended early (TaskInfo::series_end).
std::string error_text(const TaskInfo& t) {
  std::string text = t.error.value_or("");
  if (t.series_end) text += (text.empty() ? "" : "; ") + ("series ended: " + *t.series_end);
  return text;
}

std::string row(const std::string& id, const std::string& kind, const std::string& owner, const std::string& name,
                const std::string& status, const std::string& attempt, const std::string& due, const std::string& error) {
  return cell(id, 8) + ' ' + cell(kind, 14) + ' ' + cell(owner, 10) + ' ' + cell(name, 14) + ' ' + cell(status, 10) + ' ' +
         cell(attempt, 7, true) + ' ' + cell(due, 15, true) + "  " + one_line(error) + '\n';
}

}  // namespace

int inspect_command(const Args& args, Console& console) {
  std::string problem;
  const auto options = parse_options(args, {{"--json"}, {"--owner", "--status", "--kind"}}, problem);
  if (!options) return bad_usage(console, "inspect", problem, usage);
  if (options->help) return print_help(console, usage);
  if (options->positional.size() != 1) return bad_usage(console, "inspect", "needs exactly one data directory", usage);
  const auto status_filter = options->value("--status");
  if (status_filter && !parse_task_status(*status_filter)) {
    return bad_usage(console, "inspect", "no status '" + *status_filter + "'", usage);
  }

  const std::filesystem::path dir = options->positional[0];
  if (!std::filesystem::is_directory(dir)) {
    console.err << "tasklane inspect: no data directory at " << dir.string() << "\n";
    return exit_bad_usage;
  }
  drivers::PosixFileSystem posix;
  Result<drivers::JournalRecovery, drivers::JournalError> recovery = Failure{drivers::JournalError{}};
  {
    ProgressBar bar(console, options->progress, "reading journal", 0);
    recovery = drivers::read_data_dir(dir, posix, [&](std::uint64_t done, std::uint64_t total) {
      bar.set_total(total);
      bar.update(done);
    });
  }
  if (!recovery) {
    const auto& error = recovery.error();
    console.err << "tasklane inspect: " << error.message << "\n";  // a Corrupt one names the file and offset
    return error.kind == drivers::JournalError::Kind::Corrupt ? exit_check_failed : exit_bad_usage;
  }
  const auto& r = recovery.value();
  const auto owner = options->value("--owner");
  const auto kind = options->value("--kind");
  Json rows = Json::array();
  std::vector<const TaskInfo*> shown;
  for (const auto& t : r.snapshot.tasks) {
    if (owner && t.spec.owner != *owner) continue;
    if (status_filter && to_string(t.status) != *status_filter) continue;
    if (kind && t.spec.kind != *kind) continue;
    shown.push_back(&t);
    rows.push_back(to_json(t));
  }
  if (options->has("--json")) {
    console.out << Json{{"tasks", rows},
                        {"records_replayed", r.records_replayed},
                        {"torn_tail_at", r.torn_tail_at ? Json(*r.torn_tail_at) : Json()}}
                       .dump(2, ' ', false, Json::error_handler_t::replace)  // binary records keep any bytes
                << "\n";
    return exit_ok;
  }
  console.out << row("ID", "KIND", "OWNER", "NAME", "STATUS", "ATTEMPT", "DUE_MS", "LAST ERROR");
  for (const TaskInfo* t : shown) {
    console.out << row(to_string(t->id), t->spec.kind, t->spec.owner, t->spec.name.value_or("-"), status_text(*t),
                       std::to_string(t->attempt), ms_text(t->due), error_text(*t));
  }
  console.out << shown.size() << " of " << r.snapshot.tasks.size() << " tasks; " << r.records_replayed
              << " journal records replayed";
  if (r.torn_tail_at) console.out << "; torn tail at offset " << *r.torn_tail_at << " (" << r.torn_bytes << " bytes)";
  console.out << "\n";
  return exit_ok;
}

}  // namespace tasklane::cli
