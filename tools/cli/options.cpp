#include "options.hpp"

#include <ostream>

namespace tasklane::cli {

const char* const exit_codes_help =
    "exit codes:\n"
    "  0  success\n"
    "  1  the check found a problem (replay differs, damaged data directory, invariant violations)\n"
    "  2  bad usage, input that cannot be read, or output that cannot be written\n";

std::optional<std::string> Options::value(const std::string& name) const {
  const auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::optional<Options> parse_options(const Args& args, const OptionSpec& spec, std::string& problem) {
  Options o;
  static const std::string output_option = "--output";
  for (std::size_t i = 0; i < args.size(); ++i) {
    // -o is short for --output, for the commands that write one.
    const std::string& a = args[i] == "-o" && spec.with_value.count(output_option) ? output_option : args[i];
    if (a == "--help" || a == "-h") {
      o.help = true;
      continue;
    }
    if (a == "--progress") {
      o.progress = true;
      continue;
    }
    if (a.size() < 2 || a.rfind("--", 0) != 0) {
      if (!a.empty() && a[0] == '-' && a != "-") {
        problem = "unknown option " + a;
        return std::nullopt;
      }
      o.positional.push_back(a);
      continue;
    }
    const auto eq = a.find('=');
    const std::string name = a.substr(0, eq);
    if (spec.flags.count(name)) {
      if (eq != std::string::npos) {
        problem = name + " takes no value";
        return std::nullopt;
      }
      o.flags.insert(name);
    } else if (spec.with_value.count(name)) {
      if (eq != std::string::npos) {
        o.values[name] = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        o.values[name] = args[++i];
      } else {
        problem = name + " needs a value";
        return std::nullopt;
      }
    } else {
      problem = "unknown option " + name;
      return std::nullopt;
    }
  }
  return o;
}

std::optional<std::uint64_t> number_option(const Options& o, const std::string& name, std::uint64_t fallback,
                                           std::string& problem) {
  const auto text = o.value(name);
  if (!text) return fallback;
  std::size_t used = 0;
  try {
    if (!text->empty() && (*text)[0] != '-') {
      const unsigned long long n = std::stoull(*text, &used, 10);
      if (used == text->size()) return n;
    }
  } catch (const std::exception&) {
  }
  problem = name + " must be a whole number, not '" + *text + "'";
  return std::nullopt;
}

int bad_usage(Console& console, const std::string& subcommand, const std::string& problem, const char* usage) {
  const std::string name = subcommand.empty() ? std::string("tasklane") : "tasklane " + subcommand;
  console.err << name << ": " << problem << "\n" << usage << "(" << name << " --help says more)\n";
  return exit_bad_usage;
}

int print_help(Console& console, const char* usage) {
  console.out << usage << exit_codes_help;
  return exit_ok;
}

}  // namespace tasklane::cli
