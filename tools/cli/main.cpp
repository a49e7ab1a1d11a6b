// tasklane: the command-line tool for people who run agents. See run.cpp and docs/cli.md.
#include <unistd.h>

#include <iostream>

#include "command.hpp"

int main(int argc, char** argv) {
  tasklane::cli::Console console{std::cout, std::cerr, isatty(STDERR_FILENO) == 1};
  return tasklane::cli::run(tasklane::cli::Args(argv + 1, argv + argc), console);
}
