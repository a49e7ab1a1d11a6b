// tasklane trace TRACE -o OUT.json: a recorded trace as Chrome trace events (see chrome_trace.hpp).
#include <fstream>
#include <ostream>

#include "chrome_trace.hpp"
#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "trace_check.hpp"

namespace tasklane::cli {
namespace {

const char* const usage =
    "usage: tasklane trace TRACE -o OUT.json [--progress]\n"
    "  Writes a recorded trace in the Chrome trace event format; open OUT.json in\n"
    "  https://ui.perfetto.dev or chrome://tracing. Tracks: one per worker slot (each attempt a\n"
    "  slice named after its kind, with its outcome and the task's status), one per sequence lane,\n"
    "  runtime events and flushes (spans from flush to its end). Retries, timeouts, cancellations\n"
    "  and inbox deliveries are instant events on the worker's track.\n"
    "  -o, --output FILE  where to write (\"-\" for stdout)\n"
    "  --progress         draw a progress bar on stderr even when it is not a terminal\n";

}  // namespace

int trace_command(const Args& args, Console& console) {
  std::string problem;
  const auto options = parse_options(args, {{}, {"--output"}}, problem);
  if (!options) return bad_usage(console, "trace", problem, usage);
  if (options->help) return print_help(console, usage);
  if (options->positional.size() != 1) return bad_usage(console, "trace", "needs exactly one trace file", usage);
  const auto output = options->value("--output");
  if (!output) return bad_usage(console, "trace", "needs -o OUT.json", usage);

  auto read = read_trace_file(console, options->progress, options->positional[0], "trace");
  if (!read) return exit_bad_usage;
  const drivers::Trace trace = std::move(*read);
  ChromeTraceSummary summary;
  Json chrome;
  {
    ProgressBar bar(console, options->progress, "converting", trace.entries.size());
    chrome = chrome_trace(trace, summary, [&](std::uint64_t done, std::uint64_t) { bar.update(done); });
  }
  const std::string text = chrome.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (*output == "-") {
    console.out << text << "\n";
    return exit_ok;
  }
  std::ofstream out(*output, std::ios::trunc);
  out << text << "\n";
  out.close();
  if (!out) {
    console.err << "tasklane trace: cannot write " << *output << "\n";
    return exit_bad_usage;
  }
  console.out << "trace: " << summary.events << " trace events (" << summary.attempts << " attempts on "
              << summary.workers << " workers, " << summary.lanes << " sequence lanes, " << summary.flushes
              << " flushes) written to " << *output << "\n";
  return exit_ok;
}

}  // namespace tasklane::cli
