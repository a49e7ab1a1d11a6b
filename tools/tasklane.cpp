// tasklane: the command-line tool for people who run agents.
//
//   tasklane replay TRACE            replays a recorded trace in a fresh kernel and checks that the
//                                    commands match; prints where they first differ
//   tasklane inspect DIR [--owner O] [--status S] [--kind K] [--json]
//                                    reads a data directory's snapshot and journal without changing
//                                    them and prints the tasks
// Exit codes: 0 success; 1 the check failed (replay differs, the data directory is damaged);
// 2 bad usage or unreadable input.
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/drivers/trace.hpp"
#include "tasklane/json.hpp"

namespace {

using namespace tasklane;

int usage(const std::string& problem = {}) {
  if (!problem.empty()) std::cerr << "tasklane: " << problem << "\n";
  std::cerr << "usage:\n"
               "  tasklane replay TRACE\n"
               "  tasklane inspect DIR [--owner O] [--status S] [--kind K] [--json]\n"
               "exit codes: 0 ok, 1 check failed (replay differs, damaged data), 2 bad usage or unreadable input\n";
  return 2;
}

int replay(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] == "--help") return usage(args.empty() ? "replay needs a trace file" : "");
  const auto trace = drivers::read_trace(args[0]);
  if (!trace) {
    std::cerr << "tasklane replay: " << trace.error() << "\n";
    return 2;
  }
  const auto report = drivers::replay_trace(trace.value());
  if (report.ok()) {
    std::cout << "replay: " << report.events << " events, " << report.commands << " commands, all match\n";
    return 0;
  }
  std::cout << "replay: differs at entry " << *report.mismatch_at << " (after " << report.events << " events)\n"
            << "  recorded: " << report.recorded << "\n"
            << "  replayed: " << report.replayed << "\n";
  return 1;
}

std::string ms_text(Time t) { return std::to_string(t.count() / 1000); }

int inspect(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help") return usage(args.empty() ? "inspect needs a data directory" : "");
  std::map<std::string, std::string> filters;
  bool as_json = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--json") {
      as_json = true;
    } else if ((args[i] == "--owner" || args[i] == "--status" || args[i] == "--kind") && i + 1 < args.size()) {
      filters[args[i].substr(2)] = args[i + 1];
      ++i;
    } else {
      return usage("unknown option " + args[i]);
    }
  }
  drivers::PosixFileSystem posix;
  const auto recovery = drivers::read_data_dir(args[0], posix);
  if (!recovery) {
    std::cerr << "tasklane inspect: " << recovery.error().message << "\n";
    return recovery.error().kind == drivers::JournalError::Kind::Corrupt ? 1 : 2;
  }
  const auto& r = recovery.value();
  Json rows = Json::array();
  std::vector<const TaskInfo*> shown;
  for (const auto& t : r.snapshot.tasks) {
    if (filters.count("owner") && t.spec.owner != filters["owner"]) continue;
    if (filters.count("status") && to_string(t.status) != filters["status"]) continue;
    if (filters.count("kind") && t.spec.kind != filters["kind"]) continue;
    shown.push_back(&t);
    rows.push_back(to_json(t));
  }
  if (as_json) {
    std::cout << Json{{"tasks", rows}, {"records_replayed", r.records_replayed}, {"torn_tail_at", r.torn_tail_at ? Json(*r.torn_tail_at) : Json()}}.dump(2) << "\n";
    return 0;
  }
  std::printf("%-8s %-14s %-10s %-14s %-10s %7s %15s  %s\n", "ID", "KIND", "OWNER", "NAME", "STATUS", "ATTEMPT", "DUE_MS", "LAST ERROR");
  for (const TaskInfo* t : shown) {
    std::printf("%-8s %-14s %-10s %-14s %-10s %7u %15s  %s\n", to_string(t->id).c_str(), t->spec.kind.c_str(), t->spec.owner.c_str(),
                t->spec.name.value_or("-").c_str(), to_string(t->status), t->attempt, ms_text(t->due).c_str(),
                t->error.value_or("").c_str());
  }
  std::printf("%zu of %zu tasks; %llu journal records replayed", shown.size(), r.snapshot.tasks.size(),
              static_cast<unsigned long long>(r.records_replayed));
  if (r.torn_tail_at) std::printf("; torn tail at offset %llu (%llu bytes)", static_cast<unsigned long long>(*r.torn_tail_at), static_cast<unsigned long long>(r.torn_bytes));
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "replay") return replay(args);
  if (command == "inspect") return inspect(args);
  if (command == "--help" || command == "help") {
    usage();
    return 0;
  }
  return usage("unknown command " + command);
}
