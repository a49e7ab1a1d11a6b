// tasklane replay TRACE: replays a recorded trace in a fresh kernel and checks the commands match.
#include <ostream>

#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "tasklane/drivers/trace.hpp"
#include "trace_check.hpp"

namespace tasklane::cli {
namespace {

const char* const usage =
    "usage: tasklane replay TRACE [--progress]\n"
    "  Replays a trace (RuntimeOptions::trace_file, or tasklane sim -o) in a fresh kernel and checks\n"
    "  that every command matches the recorded one; prints where they first differ. A trace that\n"
    "  matches is then judged by the kernel invariants (drivers/invariants.hpp): each broken one is\n"
    "  printed, and the exit code is 1.\n"
    "  --progress  draw a progress bar on stderr even when it is not a terminal\n";

}  // namespace

int replay_command(const Args& args, Console& console) {
  std::string problem;
  const auto options = parse_options(args, {}, problem);
  if (!options) return bad_usage(console, "replay", problem, usage);
  if (options->help) return print_help(console, usage);
  if (options->positional.size() != 1) return bad_usage(console, "replay", "needs exactly one trace file", usage);

  auto read = read_trace_file(console, options->progress, options->positional[0], "replay");
  if (!read) return exit_bad_usage;
  const drivers::Trace trace = std::move(*read);
  drivers::ReplayReport report;
  {
    ProgressBar bar(console, options->progress, "replaying", trace.entries.size());
    report = drivers::replay_trace(trace, [&](std::uint64_t done, std::uint64_t) { bar.update(done); });
  }
  if (report.ok()) {
    console.out << "replay: " << report.events << " events, " << report.commands << " commands, all match\n";
    const InvariantReport judged = check_trace_invariants(trace);
    for (const auto& v : judged.violations) console.out << "  violation: " << v << "\n";
    if (judged.violation_count > judged.violations.size()) {
      console.out << "  ... and " << judged.violation_count - judged.violations.size() << " more\n";
    }
    console.out << "invariants: " << judged.violation_count << (judged.violation_count == 1 ? " violation\n" : " violations\n");
    return judged.violation_count == 0 ? exit_ok : exit_check_failed;
  }
  console.out << "replay: differs at entry " << *report.mismatch_at << " (after " << report.events << " events)\n"
              << "  recorded: " << report.recorded << "\n"
              << "  replayed: " << report.replayed << "\n";
  return exit_check_failed;
}

}  // namespace tasklane::cli
