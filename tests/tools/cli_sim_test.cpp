// tasklane sim: a seeded agent workload in the simulation, judged by the invariant checker; the
// trace it writes replays exactly and draws as a Chrome trace.
#include <gtest/gtest.h>

#include "chrome_trace_shape.hpp"
#include "real_run.hpp"
#include "tasklane/json.hpp"

namespace tasklane::tools_test {
namespace {

TEST(CliSim, SeededRunsWithFaultsBreakNoInvariantAndTheirTracesReplay) {
  TempDir dir("tasklane-cli-sim");
  int passed = 0;
  int failed = 0;
  for (int seed = 1; seed <= 6; ++seed) {
    const fs::path trace = dir.path / ("sim-" + std::to_string(seed) + ".trace");
    const auto r = tasklane_cli({"sim", "--seed", std::to_string(seed), "--steps", "1500", "--faults", "-o", trace.string()});
    const bool ok = r.exit_code == cli::exit_ok && r.out.find("replays exactly") != std::string::npos;
    EXPECT_TRUE(ok) << "seed " << seed << ":\n" << r.out << r.err;
    (ok ? passed : failed) += 1;
    const auto replayed = tasklane_cli({"replay", trace.string()});
    EXPECT_EQ(replayed.exit_code, cli::exit_ok) << replayed.out;
  }
  std::printf("tasklane sim --faults: %d passed, %d failed\n", passed, failed);
}

TEST(CliSim, TheSameSeedGivesTheSameRun) {
  const auto a = tasklane_cli({"sim", "--seed", "42", "--steps", "800", "--faults"});
  const auto b = tasklane_cli({"sim", "--seed", "42", "--steps", "800", "--faults"});
  const auto c = tasklane_cli({"sim", "--seed", "43", "--steps", "800", "--faults"});
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
}

TEST(CliSim, FaultsShowUpAsFailuresRetriesTimeoutsAndRestarts) {
  TempDir dir("tasklane-cli-sim-faults");
  const fs::path trace = dir.path / "f.trace";
  const auto r = tasklane_cli({"sim", "--seed", "9", "--steps", "3000", "--faults", "-o", trace.string()});
  ASSERT_EQ(r.exit_code, cli::exit_ok) << r.out;
  EXPECT_EQ(r.out.find(" 0 restarts"), std::string::npos) << "--faults crashes the process now and then: " << r.out;
  const fs::path json = dir.path / "f.json";
  ASSERT_EQ(tasklane_cli({"trace", trace.string(), "-o", json.string()}).exit_code, cli::exit_ok);
  const ShapeReport shape = check_chrome_trace_shape(Json::parse(read_file(json)));
  EXPECT_TRUE(shape.problems.empty()) << shape.problems.front();
  EXPECT_GT(shape.instants.count("retry"), 0u);
  EXPECT_GT(shape.instants.count("timeout"), 0u);
  EXPECT_GT(shape.instants.count("cancel"), 0u);
  EXPECT_GT(shape.instants.count("restart"), 0u);
  EXPECT_GT(shape.lane_slices, 0u);
  EXPECT_GT(shape.async_spans, 0u);

  const auto calm = tasklane_cli({"sim", "--seed", "9", "--steps", "3000"});
  ASSERT_EQ(calm.exit_code, cli::exit_ok) << calm.out;
  EXPECT_NE(calm.out.find(" 0 failed, "), std::string::npos) << "without faults nothing fails: " << calm.out;
  EXPECT_NE(calm.out.find(" 0 restarts"), std::string::npos) << calm.out;
}

TEST(CliSim, BadNumbersAreBadUsage) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"sim", "--seed", "x"}, {"sim", "--steps", "-3"}, {"sim", "--max-running", "0"}, {"sim", "file.trace"}, {"sim", "--seed"}}) {
    const auto r = tasklane_cli(args);
    EXPECT_EQ(r.exit_code, cli::exit_bad_usage) << args.back() << ": " << r.out;
    EXPECT_FALSE(r.err.empty());
  }
}

}  // namespace
}  // namespace tasklane::tools_test
