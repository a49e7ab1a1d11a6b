// Persistence across real crashes, for each real driver: a child process runs the shared crash
// workload (durable_workload.hpp) on one data directory; it is killed with SIGKILL at a random
// moment, over and over (TASKLANE_KILL9_ITERATIONS, default 200): half of the kills 10-150 ms after
// the fork, half 10-150 ms after the child says it started. After every kill the journal is
// read back and must hold:
//   acknowledged ⊆ recovered   every spawn any run acknowledged is there (none lost);
//   recovered ⊆ submitted      nothing that was never submitted (no phantom), counted by the
//                              task numbers the children put in the payloads;
//   no task completes twice    within one run no task finishes twice, and a task the journal
//                              once recovered as finished never starts or finishes again later,
//                              nor comes back with another status.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
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
  std::map<int, int> submitted_of;  // per task number n (the payload), spawns begun
  bool started = false;
  std::map<std::uint64_t, int> finishes;  // per task, how many "finish" lines
  std::set<std::uint64_t> starts;
};

std::uint64_t task_number(const std::string& line, std::size_t at) { return std::stoull(line.substr(at)); }

void read_line(const std::string& line, ChildRun& run) {
  if (line == "started") run.started = true;
  if (line.rfind("submit ", 0) == 0) {
    const int n = std::stoi(line.substr(7));
    const int spawns = n % 2 == 0 ? 2 : 1;
    run.submitted += spawns;
    run.submitted_of[n] += spawns;
  }
  if (line.rfind("ack bg_", 0) == 0) run.acknowledged.insert(task_number(line, 7));
  if (line.rfind("start bg_", 0) == 0) run.starts.insert(task_number(line, 9));
  if (line.rfind("finish bg_", 0) == 0) ++run.finishes[task_number(line, 10)];
}

// Runs `child` on `dir`, reads its reports for `run_for` (counted from the fork, or from the
// child's "started" line when `after_start`), then SIGKILLs it.
ChildRun run_and_kill(const char* child, const fs::path& dir, std::chrono::milliseconds run_for, bool after_start) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(child, child, dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::atomic<bool> started{false};
  std::thread killer([pid, run_for, after_start, &started] {
    // A sanitizer build's child on a loaded machine may take longer to start than a whole
    // run_for: a kill counted from the start still lands while the runtime works.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (after_start && !started && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
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
      read_line(line, run);
      if (run.started) started = true;
      line.clear();
    }
  }
  started = true;  // the child is gone (its pipe closed): the killer waits no longer
  killer.join();
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return run;
}

// The kill loop for one driver's child; prints "NAME: N passed, M failed".
void kill_loop(const char* child, const std::string& name) {
  const int iterations = std::getenv("TASKLANE_KILL9_ITERATIONS") ? std::atoi(std::getenv("TASKLANE_KILL9_ITERATIONS")) : 200;
  const auto seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::mt19937_64 random(seed);
  const fs::path dir = fs::temp_directory_path() / ("tasklane-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::set<std::uint64_t> acknowledged_ever;
  std::map<std::uint64_t, tasklane::TaskStatus> finished_for_good;  // recovered terminal
  std::uint64_t submitted_ever = 0;
  std::map<int, int> submitted_of_ever;
  int passed = 0, failed = 0, runs_started = 0;
  std::uint64_t recovered_total = 0, finishes_total = 0;
  for (int i = 0; i < iterations; ++i) {
    // Every other kill counts from the fork (it may land in the child's start and recovery), the
    // rest from the child's start (so that the runtime's work is hit even when starting is slow).
    const ChildRun run = run_and_kill(child, dir, std::chrono::milliseconds(10 + random() % 140), i % 2 == 1);
    runs_started += run.started ? 1 : 0;
    acknowledged_ever.insert(run.acknowledged.begin(), run.acknowledged.end());
    submitted_ever += static_cast<std::uint64_t>(run.submitted);
    for (const auto& [n, spawns] : run.submitted_of) submitted_of_ever[n] += spawns;
    tasklane::drivers::PosixFileSystem posix;
    const auto recovery = tasklane::drivers::read_data_dir(dir, posix);
    ASSERT_TRUE(recovery) << name << " iteration " << i << ": " << recovery.error().message << " (seed " << seed << ")";
    bool ok = true;
    auto fail = [&](const std::string& what) {
      ADD_FAILURE() << name << " iteration " << i << ": " << what << " (seed " << seed << ")";
      ok = false;
    };
    std::map<std::uint64_t, tasklane::TaskStatus> recovered;
    for (const auto& t : recovery.value().snapshot.tasks) recovered.emplace(t.id.value, t.status);
    for (const auto id : acknowledged_ever) {
      if (!recovered.count(id)) fail("acknowledged bg_" + std::to_string(id) + " was lost");
    }
    // recovered ⊆ submitted, as multisets of task numbers: ids are not dense (the runtime reserves
    // them a block ahead, and skips the rest of a block at a crash), the payloads are.
    std::map<int, int> recovered_of;
    for (const auto& t : recovery.value().snapshot.tasks) {
      const int n = t.spec.payload.is_object() ? t.spec.payload.value("n", -1) : -1;
      if (++recovered_of[n] > submitted_of_ever[n]) {
        fail("phantom task " + tasklane::to_string(t.id) + " (task number " + std::to_string(n) + " recovered " +
             std::to_string(recovered_of[n]) + " times, submitted " + std::to_string(submitted_of_ever[n]) + ")");
      }
    }
    for (const auto& [id, n] : run.finishes) {
      finishes_total += static_cast<std::uint64_t>(n);
      if (n > 1) fail("bg_" + std::to_string(id) + " finished " + std::to_string(n) + " times in one run");
      if (finished_for_good.count(id)) fail("bg_" + std::to_string(id) + " finished again after a restart had it finished");
    }
    for (const auto id : run.starts) {
      if (finished_for_good.count(id)) fail("bg_" + std::to_string(id) + " started again after a restart had it finished");
    }
    for (const auto& [id, status] : finished_for_good) {
      const auto it = recovered.find(id);
      if (it == recovered.end() || it->second != status) fail("finished bg_" + std::to_string(id) + " came back changed");
    }
    for (const auto& [id, status] : recovered) {
      if (tasklane::is_terminal(status)) finished_for_good.emplace(id, status);
    }
    recovered_total = recovered.size();
    (ok ? passed : failed)++;
  }
  fs::remove_all(dir);
  std::printf("%s: %d passed, %d failed\n", name.c_str(), passed, failed);
  std::printf("%s: %zu acknowledged, %llu recovered (%zu finished for good, %llu finish reports) after %d kills; "
              "%d runs got as far as starting (seed %llu)\n",
              name.c_str(), acknowledged_ever.size(), static_cast<unsigned long long>(recovered_total),
              finished_for_good.size(), static_cast<unsigned long long>(finishes_total), iterations, runs_started,
              static_cast<unsigned long long>(seed));
  EXPECT_GT(acknowledged_ever.size(), 0u) << "the child never acknowledged anything: the test proved nothing";
  EXPECT_GT(finished_for_good.size(), 0u) << "no task ever finished: 'completes twice' was never put to the test";
  EXPECT_EQ(failed, 0);
}

TEST(KillNine, AsioEveryAcknowledgedSpawnSurvivesASigkillAtARandomMoment) {
  kill_loop(TASKLANE_DURABLE_CHILD, "kill9-asio");
}

#ifdef TASKLANE_QT_DURABLE_CHILD
TEST(KillNine, QtEveryAcknowledgedSpawnSurvivesASigkillAtARandomMoment) {
  kill_loop(TASKLANE_QT_DURABLE_CHILD, "kill9-qt");
}
#endif

}  // namespace
