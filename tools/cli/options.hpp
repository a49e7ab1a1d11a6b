// A small option parser for the subcommands: positional arguments, flags, and options with one
// value (`--seed 7` or `--seed=7`). Every subcommand understands --help and --progress.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "command.hpp"

namespace tasklane::cli {

struct OptionSpec {
  std::set<std::string> flags;        // without a value, e.g. "--json"
  std::set<std::string> with_value;   // with one value, e.g. "--owner"
};

struct Options {
  std::vector<std::string> positional;
  std::set<std::string> flags;
  std::map<std::string, std::string> values;
  bool help = false;
  bool progress = false;  // --progress: draw the bar even when stderr is not a terminal

  bool has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::optional<std::string> value(const std::string& name) const;
};

// Parses `args`; on a mistake returns nullopt and sets `problem` to a sentence saying what is wrong.
std::optional<Options> parse_options(const Args& args, const OptionSpec& spec, std::string& problem);

// An unsigned number option; nullopt and `problem` set when it is present and not a number.
std::optional<std::uint64_t> number_option(const Options& o, const std::string& name, std::uint64_t fallback,
                                           std::string& problem);

// Prints `problem` and the subcommand's usage to err; returns exit_bad_usage.
int bad_usage(Console& console, const std::string& subcommand, const std::string& problem, const char* usage);
// Prints the usage (and the exit codes) to out; returns exit_ok.
int print_help(Console& console, const char* usage);

}  // namespace tasklane::cli
