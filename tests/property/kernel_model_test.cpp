// The model-based property of the kernel: rapidcheck drives a Kernel through random sequences of
// every input (spawn with every option, completions current/late/stale/unknown, ticks, pokes,
// aborts, flushes, sends, shutdown, restart) and KernelHarness checks the invariants of
// ARCHITECTURE.md after each one; at the end of a case everything runs to its end and each kernel
// lifetime's trace is replayed through apply() for the same commands.
//
// 2000 cases by default (RC_PARAMS="max_success=N" overrides; max_size is capped at 100, the
// rapidcheck snapshot shifts out of range above it). The seed is printed; RC_PARAMS="seed=S"
// replays a run; TASKLANE_MODEL_COVERAGE=1 prints how often each kernel path was reached. The last
// line is `model: N passed, M failed`.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <iostream>
#include <sstream>

#include "describe.hpp"
#include "kernel_steps.hpp"

namespace tasklane {
// How rapidcheck prints the drawn configuration in a counterexample.
inline void showValue(const Config& config, std::ostream& os) { os << property::describe(config); }
}  // namespace tasklane

namespace tasklane::property {
namespace {

// Small limits, so that the queue fills and the running slots are contended often.
Config draw_config() {
  Config c;
  c.capacity = *rc::gen::weightedElement<std::size_t>({{4, 8}, {1, 4}});
  c.max_running = *rc::gen::weightedElement<std::size_t>({{4, 2}, {1, 1}, {1, 3}});
  c.max_payload_bytes = 256;
  c.seed = *rc::gen::inRange<std::uint64_t>(0, 1u << 30);
  c.queued_work_runner = *rc::gen::inRange(0, 2) == 1;
  c.queued_work_poll = milliseconds(*rc::gen::element(50, 400));
  c.retained_terminal = *rc::gen::weightedElement<std::size_t>({{6, 4096}, {1, 2}, {1, 6}});
  c.max_dependencies = *rc::gen::weightedElement<std::size_t>({{3, 64}, {1, 2}});
  return c;
}

// Shrinking a long failing sequence replays it thousands of times. Past this budget every further
// candidate passes at once, so rapidcheck stops and reports the smallest failure found so far.
constexpr auto shrink_budget = std::chrono::seconds(60);
std::optional<std::chrono::steady_clock::time_point> first_failure;

void kernel_model_property() {
  if (first_failure && std::chrono::steady_clock::now() - *first_failure > shrink_budget) return;
  try {
    const Config config = *rc::gen::exec(&draw_config);
    KernelHarness harness(config);
    rc::state::check(Model{config, 0}, harness, &next_step);
    harness.finish_case();
  } catch (const rc::detail::CaseResult& result) {
    if (result.type == rc::detail::CaseResult::Type::Failure && !first_failure) {
      first_failure = std::chrono::steady_clock::now();
    }
    throw;
  }
}

// Paths a full run must reach, so that a change to the generator cannot quietly stop testing one.
constexpr const char* required_paths[] = {
    "spawn accepted", "spawn refused: empty_kind", "spawn refused: reserved_name", "spawn refused: duplicate_name",
    "spawn refused: invalid_timeout", "spawn refused: invalid_retry", "spawn refused: invalid_delay",
    "spawn refused: payload_too_large", "spawn refused: unknown_parent", "spawn refused: queue_full",
    "spawn refused: quota_exhausted", "spawn refused: single_flight_busy", "spawn refused: shutting_down",
    "spawn refused: invalid_dedup", "spawn deduplicated onto a pending task", "spawn deduplicated onto a running task",
    "spawn replaced a pending task", "spawn beside a running holder of its dedup key",
    "spawn refused: invalid_rate_limit", "rate-limited start", "rate-limited start while others of its key wait",
    "rate-limited task waits for a token",
    "spawn refused: invalid_heartbeat", "heartbeat moved its deadline", "heartbeat ignored",
    "heartbeat of a task without an interval", "cancel timed_out by a missed heartbeat", "retry after a missed heartbeat",
    "spawn refused: unknown_dependency", "spawn refused: dependency_cycle", "spawn refused: too_many_dependencies",
    "waiter waits", "start of a waiter", "waiter released by its last dependency", "waiter in a sequence lane released",
    "waiter ended by its dependency: failed", "waiter ended by its dependency: cancelled",
    "waiter ended at spawn by a dependency already over", "dependency retried while a waiter waits",
    "waiter takes the final outcome of a retried dependency", "dependency lost in a restart",
    "spawn refused: invalid_repeat", "spawn refused: invalid_priority", "spawn refused: invalid_dependency_mode",
    "next run at a fixed rate", "next run after a fixed delay",
    "fixed-rate slots skipped", "next run after a failed run", "series ended by a cancel", "series ran its times",
    "series cut", "repeating task under a cooldown", "next run of a run orphaned at restore",
    "pause held some", "pause held none", "resume released some", "spawn paused by a rule", "start after a resume",
    "paused task holds its sequence lane", "paused retry",
    "start", "start of a retry", "start after its lane's earlier task", "start while other ready tasks wait",
    "start with messages waiting", "completion applied", "completion ignored", "completion after its deadline",
    "retry after a failure", "retry after a timeout", "re-queued at restore", "orphaned at restore",
    "attempt quota used up at start", "cancel requested", "cancel timed_out", "cancel shutdown",
    "notify completed", "notify failed", "notify cancelled", "notify timed_out", "abort cancelled some",
    "abort cancelled none", "abort of a tree with descendants", "flush done at once", "flush done with its last task",
    "flush done with an error", "a record keeps an error for the next flush", "a flush takes an error kept across a restart", "a record keeps messages for the start", "a forgotten record drops its error mark", "deliver", "send delivered at once", "send kept for the start",
    "send refused: task_not_found", "send refused: not_owner", "send refused: task_terminated",
    "send refused: no_inbox", "send refused: inbox_closed", "shutdown drain", "shutdown cancel", "persist snapshot",
    "restart with running attempts", "restart with nothing running", "finished task forgotten",
    "run queued work: startup", "run queued work: poll", "run queued work: new_message",
    "queued-work answer accepted", "queued-work answer ignored",
};

rc::detail::TestParams model_params() {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  const char* env = std::getenv("RC_PARAMS");
  if (env == nullptr || std::string(env).find("max_success") == std::string::npos) params.maxSuccess = 2000;
  params.maxSize = std::min(params.maxSize, 100);
  return params;
}

}  // namespace

TEST(KernelModel, KeepsEveryInvariantUnderRandomInputs) {
  const rc::detail::TestParams params = model_params();
  std::cout << "model: rapidcheck seed " << params.seed << " (RC_PARAMS=\"seed=" << params.seed
            << "\" replays this run), " << params.maxSuccess << " cases, max_size " << params.maxSize << std::endl;
  rc::detail::TestMetadata metadata;
  metadata.id = "KernelModel/KeepsEveryInvariantUnderRandomInputs";
  metadata.description = "kernel model";
  const rc::detail::TestResult result = rc::detail::checkTestable(&kernel_model_property, metadata, params);

  int passed = 0;
  int failed = 0;
  if (result.is<rc::detail::SuccessResult>()) {
    passed = result.get<rc::detail::SuccessResult>().numSuccess;
  } else if (result.is<rc::detail::FailureResult>()) {
    passed = result.get<rc::detail::FailureResult>().numSuccess;
    failed = 1;
  } else {
    failed = 1;
  }
  if (std::getenv("TASKLANE_MODEL_COVERAGE") != nullptr) {
    std::cout << "model coverage (times each path was reached):\n";
    for (const auto& [path, count] : Coverage::instance().counts()) std::cout << "  " << path << ": " << count << "\n";
  }
  std::ostringstream report;
  rc::detail::printResultMessage(result, report);
  EXPECT_TRUE(result.is<rc::detail::SuccessResult>()) << report.str();
  if (failed == 0 && passed >= 1000) {  // the generator still reaches every path the checks guard
    for (const char* path : required_paths) {
      EXPECT_GT(Coverage::instance().counts().count(path), 0u) << "no case reached: " << path;
    }
  }
  std::cout << "model: " << passed << " passed, " << failed << " failed" << std::endl;
}

}  // namespace tasklane::property
