// `tasklane SUBCOMMAND ...`: picks the subcommand.
#include <ostream>

#include "command.hpp"
#include "options.hpp"

namespace tasklane::cli {
namespace {

const char* const usage =
    "usage: tasklane SUBCOMMAND [ARGS] (tasklane SUBCOMMAND --help for each)\n"
    "  inspect DIR [--owner O] [--status S] [--kind K] [--json]\n"
    "                               the tasks in a data directory's snapshot and journal\n"
    "  replay TRACE                 replay a recorded trace and check commands and invariants\n"
    "  trace TRACE -o OUT.json      a trace as Chrome trace events (Perfetto, chrome://tracing)\n"
    "  sim [--seed N] [--steps M] [--faults] [-o TRACE]\n"
    "                               a random agent workload in the simulation, invariants checked\n"
    "Every subcommand takes --progress (a progress bar on stderr even when it is not a terminal).\n";

}  // namespace

int run(const Args& argv, Console& console) {
  if (argv.empty()) return bad_usage(console, "", "needs a subcommand", usage);
  const std::string& command = argv[0];
  const Args args(argv.begin() + 1, argv.end());
  if (command == "replay") return replay_command(args, console);
  if (command == "inspect") return inspect_command(args, console);
  if (command == "trace") return trace_command(args, console);
  if (command == "sim") return sim_command(args, console);
  if (command == "--help" || command == "-h" || command == "help") return print_help(console, usage);
  console.err << "tasklane: unknown subcommand " << command << "\n" << usage;
  return exit_bad_usage;
}

}  // namespace tasklane::cli
