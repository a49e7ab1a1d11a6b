// Persistence across real crashes: a child process spawns durable work and reports each
// acknowledgement; it is killed with SIGKILL at a random moment; recovery must hold every
// acknowledged task (none lost), and nothing that was never submitted (no phantom).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "tasklane/drivers/file_journal.hpp"

namespace {

namespace fs = std::filesystem;

struct ChildRun {
  std::set<std::uint64_t> acknowledged;
  int submitted = 0;  // spawns the child began, counting twins
  bool started = false;
};

// Runs the child on `dir`, reads its reports for `run_for`, then SIGKILLs it.
ChildRun run_and_kill(const fs::path& dir, std::chrono::milliseconds run_for) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(TASKLANE_DURABLE_CHILD, TASKLANE_DURABLE_CHILD, dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::thread killer([pid, run_for] {
    std::this_thread::sleep_for(run_for);
    kill(pid, SIGKILL);
  });
  ChildRun run;
  std::string line;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] != '\n') {
        line += buffer[i];
        continue;
      }
      if (line == "started") run.started = true;
      if (line.rfind("submit ", 0) == 0) run.submitted += std::stoi(line.substr(7)) % 2 == 0 ? 2 : 1;
      if (line.rfind("ack bg_", 0) == 0) run.acknowledged.insert(std::stoull(line.substr(7)));
      line.clear();
    }
  }
  killer.join();
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return run;
}

TEST(KillNine, EveryAcknowledgedSpawnSurvivesASigkillAtARandomMoment) {
  const int iterations = std::getenv("TASKLANE_KILL9_ITERATIONS") ? std::atoi(std::getenv("TASKLANE_KILL9_ITERATIONS")) : 200;
  const auto seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::mt19937_64 random(seed);
  const fs::path dir = fs::temp_directory_path() / ("tasklane-kill9-" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::set<std::uint64_t> acknowledged_ever;
  std::uint64_t submitted_ever = 0;
  int passed = 0, failed = 0;
  std::uint64_t recovered_total = 0;
  for (int i = 0; i < iterations; ++i) {
    const ChildRun run = run_and_kill(dir, std::chrono::milliseconds(5 + random() % 60));
    acknowledged_ever.insert(run.acknowledged.begin(), run.acknowledged.end());
    submitted_ever += static_cast<std::uint64_t>(run.submitted);
    tasklane::drivers::PosixFileSystem posix;
    const auto recovery = tasklane::drivers::read_data_dir(dir, posix);
    ASSERT_TRUE(recovery) << "iteration " << i << ": " << recovery.error().message << " (seed " << seed << ")";
    std::set<std::uint64_t> recovered;
    for (const auto& t : recovery.value().snapshot.tasks) recovered.insert(t.id.value);
    bool ok = true;
    for (const auto id : acknowledged_ever) {
      if (!recovered.count(id)) {
        ADD_FAILURE() << "iteration " << i << ": acknowledged bg_" << id << " was lost (seed " << seed << ")";
        ok = false;
      }
    }
    // Ids are dense from 0, so "recovered ⊆ submitted" means fewer recovered ids than submissions.
    if (!recovered.empty() && *recovered.rbegin() >= submitted_ever) {
      ADD_FAILURE() << "iteration " << i << ": phantom task bg_" << *recovered.rbegin() << " (only " << submitted_ever
                    << " submitted; seed " << seed << ")";
      ok = false;
    }
    recovered_total = recovered.size();
    (ok ? passed : failed)++;
  }
  fs::remove_all(dir);
  std::printf("kill9: %d passed, %d failed\n", passed, failed);
  std::printf("kill9: %zu acknowledged, %llu recovered after %d kills (seed %llu)\n", acknowledged_ever.size(),
              static_cast<unsigned long long>(recovered_total), iterations, static_cast<unsigned long long>(seed));
  EXPECT_GT(acknowledged_ever.size(), 0u) << "the child never acknowledged anything: the test proved nothing";
  EXPECT_EQ(failed, 0);
}

}  // namespace
