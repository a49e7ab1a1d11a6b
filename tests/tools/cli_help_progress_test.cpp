// Every subcommand answers --help with its usage and the exit codes; progress bars appear only on
// a terminal or with --progress, and only for work that outlasts Console::progress_after.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sys/wait.h>

#include "real_run.hpp"

namespace tasklane::tools_test {
namespace {

TEST(CliHelp, EverySubcommandHasHelpWithTheExitCodes) {
  for (const char* sub : {"replay", "inspect", "trace", "sim"}) {
    const auto r = tasklane_cli({sub, "--help"});
    EXPECT_EQ(r.exit_code, cli::exit_ok) << sub;
    EXPECT_NE(r.out.find(std::string("usage: tasklane ") + sub), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("exit codes:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2  bad usage"), std::string::npos) << r.out;
  }
  const auto top = tasklane_cli({"--help"});
  EXPECT_EQ(top.exit_code, cli::exit_ok);
  for (const char* sub : {"replay", "inspect", "trace", "sim"}) EXPECT_NE(top.out.find(sub), std::string::npos);
}

TEST(CliHelp, UnknownSubcommandsAndNoneAreBadUsage) {
  EXPECT_EQ(tasklane_cli({}).exit_code, cli::exit_bad_usage);
  const auto r = tasklane_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, cli::exit_bad_usage);
  EXPECT_NE(r.err.find("unknown subcommand frobnicate"), std::string::npos);
}

TEST(CliHelp, TheBinaryExitsWithTheDocumentedCodes) {
  const std::string tool = TASKLANE_CLI;
  auto code = [](const std::string& command) { return WEXITSTATUS(std::system((command + " >/dev/null 2>&1").c_str())); };
  EXPECT_EQ(code(tool + " sim --help"), 0);
  EXPECT_EQ(code(tool + " sim --steps 50"), 0);
  EXPECT_EQ(code(tool + " replay /nonexistent/trace"), 2);
  EXPECT_EQ(code(tool + " bogus"), 2);
}

TEST(CliProgress, ABarIsDrawnWithProgressOrOnATerminalOnly) {
  const std::vector<std::string> args{"sim", "--steps", "300"};
  const auto quiet = tasklane_cli(args, /*err_is_tty=*/false, std::chrono::milliseconds(0));
  EXPECT_EQ(quiet.err, "") << "stderr is not a terminal and --progress was not given";
  const auto terminal = tasklane_cli(args, /*err_is_tty=*/true, std::chrono::milliseconds(0));
  EXPECT_NE(terminal.err.find("simulating ["), std::string::npos) << terminal.err;
  EXPECT_NE(terminal.err.find("%"), std::string::npos);
  std::vector<std::string> forced = args;
  forced.push_back("--progress");
  const auto asked = tasklane_cli(forced, /*err_is_tty=*/false, std::chrono::milliseconds(0));
  EXPECT_NE(asked.err.find("simulating ["), std::string::npos) << asked.err;
  EXPECT_EQ(asked.out, quiet.out) << "the bar goes to stderr only";
}

TEST(CliProgress, ReplayTraceAndInspectDrawOneToo) {
  TempDir dir("tasklane-cli-progress");
  record_real_run(dir.path / "data", dir.path / "run.trace");
  const std::string trace = (dir.path / "run.trace").string();
  const std::vector<std::vector<std::string>> runs{
      {"replay", trace, "--progress"},
      {"trace", trace, "-o", (dir.path / "out.json").string(), "--progress"},
      {"inspect", (dir.path / "data").string(), "--progress"}};
  for (const auto& args : runs) {
    const auto r = tasklane_cli(args, /*err_is_tty=*/false, std::chrono::milliseconds(0));
    EXPECT_EQ(r.exit_code, cli::exit_ok) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("] "), std::string::npos) << args[0] << " drew no bar: " << r.err;
    EXPECT_EQ(r.err.back(), '\r') << args[0] << ": the bar's line is cleared when it ends";
  }
}

TEST(CliProgress, QuickWorkGetsNoBarEvenOnATerminal) {
  const auto r = tasklane_cli({"sim", "--steps", "20"}, /*err_is_tty=*/true, std::chrono::milliseconds(60'000));
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace tasklane::tools_test
