// The tasklane command-line tool: one function per subcommand, each in its own file, so that the
// tests call them with their own streams and the binary (main.cpp) only dispatches.
//
// Exit codes, the same for every subcommand:
//   0  success (--help included)
//   1  the check found a problem: replay differs, the data directory is damaged, the simulation
//      broke an invariant
//   2  bad usage (unknown option, missing argument), input that cannot be read, or an output
//      that cannot be written
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

namespace tasklane::cli {

enum ExitCode : int { exit_ok = 0, exit_check_failed = 1, exit_bad_usage = 2 };

using Args = std::vector<std::string>;  // after the subcommand's name

// Where a subcommand writes, and whether it may draw a progress bar on `err`.
struct Console {
  std::ostream& out;
  std::ostream& err;
  bool err_is_tty = false;                                        // progress bars by default
  std::chrono::milliseconds progress_after{1000};                 // nothing quicker gets a bar
};

int replay_command(const Args& args, Console& console);
int inspect_command(const Args& args, Console& console);
int trace_command(const Args& args, Console& console);
int sim_command(const Args& args, Console& console);

// The whole tool: `tasklane SUBCOMMAND ARGS...` (argv without the program name).
int run(const Args& argv, Console& console);

extern const char* const exit_codes_help;  // the exit-code paragraph every --help ends with

}  // namespace tasklane::cli
