// check_spawn: every SpawnErrorCode, each with the message that says what to fix, checked both on
// the pure function and through Kernel::spawn (which also counts refusals and consumes no id).
#include "../../core/src/spawn_checks.hpp"

#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::task;

struct Case {
  const char* what;
  TaskSpec spec;
  SpawnErrorCode code;
  std::string message;
};

std::vector<Case> invalid_specs() {
  std::vector<Case> cases;
  auto add = [&](const char* what, auto edit, SpawnErrorCode code, std::string message) {
    TaskSpec spec = task();
    edit(spec);
    cases.push_back(Case{what, std::move(spec), code, std::move(message)});
  };
  add("empty kind", [](TaskSpec& s) { s.kind.clear(); }, SpawnErrorCode::EmptyKind, "task kind must not be empty");
  for (const char* reserved : {"parent", "self", "all", "broadcast"}) {
    add("reserved name", [&](TaskSpec& s) { s.name = reserved; }, SpawnErrorCode::ReservedName,
        std::string("'") + reserved + "' is a reserved name");
  }
  add("empty name", [](TaskSpec& s) { s.name = ""; }, SpawnErrorCode::ReservedName,
      "task name must not be empty (leave it out instead)");
  add("zero timeout", [](TaskSpec& s) { s.timeout = Duration{0}; }, SpawnErrorCode::InvalidTimeout,
      "timeout must be positive (got 0 us); leave it out for none");
  add("negative timeout", [](TaskSpec& s) { s.timeout = Duration{-5}; }, SpawnErrorCode::InvalidTimeout,
      "timeout must be positive (got -5 us); leave it out for none");
  add("timeout over ten years", [](TaskSpec& s) { s.timeout = Duration::max(); }, SpawnErrorCode::InvalidTimeout,
      "timeout must be at most ten years");
  add("no attempts", [](TaskSpec& s) { s.retry.max_attempts = 0; }, SpawnErrorCode::InvalidRetry,
      "retry.max_attempts must be at least 1");
  add("negative backoff", [](TaskSpec& s) { s.retry.initial_backoff = Duration{-1}; }, SpawnErrorCode::InvalidRetry,
      "retry backoffs must not be negative");
  add("negative ceiling", [](TaskSpec& s) { s.retry.max_backoff = Duration{-1}; }, SpawnErrorCode::InvalidRetry,
      "retry backoffs must not be negative");
  add("multiplier below one", [](TaskSpec& s) { s.retry.multiplier = 0.5; }, SpawnErrorCode::InvalidRetry,
      "retry.multiplier must be a finite number of at least 1");
  add("infinite multiplier", [](TaskSpec& s) { s.retry.multiplier = std::numeric_limits<double>::infinity(); },
      SpawnErrorCode::InvalidRetry, "retry.multiplier must be a finite number of at least 1");
  add("nan multiplier", [](TaskSpec& s) { s.retry.multiplier = std::numeric_limits<double>::quiet_NaN(); },
      SpawnErrorCode::InvalidRetry, "retry.multiplier must be a finite number of at least 1");
  add("jitter above one", [](TaskSpec& s) { s.retry.jitter = 1.5; }, SpawnErrorCode::InvalidRetry,
      "retry.jitter must be between 0 and 1");
  add("negative jitter", [](TaskSpec& s) { s.retry.jitter = -0.1; }, SpawnErrorCode::InvalidRetry,
      "retry.jitter must be between 0 and 1");
  add("negative run_after", [](TaskSpec& s) { s.run_after = Duration{-1}; }, SpawnErrorCode::InvalidDelay,
      "run_after must not be negative");
  add("negative cooldown", [](TaskSpec& s) { s.quota = QuotaSpec{"k", Duration{-1}, 0, false}; },
      SpawnErrorCode::InvalidDelay, "quota.cooldown must not be negative");
  add("empty quota key", [](TaskSpec& s) { s.quota = QuotaSpec{"", Duration{0}, 0, false}; },
      SpawnErrorCode::InvalidQuotaKey, "quota.key must not be empty");
  add("empty dedup key", [](TaskSpec& s) { s.dedup = DedupSpec{"", DedupMode::ReplacePending}; },
      SpawnErrorCode::InvalidDedup, "dedup.key must not be empty (leave dedup out instead)");
  add("rate limit without a key", [](TaskSpec& s) { s.rate_limit = RateLimit{"", 1, seconds(1)}; },
      SpawnErrorCode::InvalidRateLimit, "rate_limit.key must not be empty");
  add("rate limit of no starts", [](TaskSpec& s) { s.rate_limit = RateLimit{"k", 0, seconds(1)}; },
      SpawnErrorCode::InvalidRateLimit, "rate_limit.starts must be at least 1");
  add("rate limit over no time", [](TaskSpec& s) { s.rate_limit = RateLimit{"k", 1, Duration{0}}; },
      SpawnErrorCode::InvalidRateLimit, "rate_limit.interval must be positive");
  add("rate limit over centuries", [](TaskSpec& s) { s.rate_limit = RateLimit{"k", 1, std::chrono::hours(24 * 365 * 100)}; },
      SpawnErrorCode::InvalidRateLimit, "rate_limit.interval must be at most ten years");
  add("zero heartbeat", [](TaskSpec& s) { s.heartbeat = Duration{0}; }, SpawnErrorCode::InvalidHeartbeat,
      "heartbeat must be positive (got 0 us); leave it out for none");
  add("heartbeat over centuries", [](TaskSpec& s) { s.heartbeat = std::chrono::hours(24 * 365 * 100); },
      SpawnErrorCode::InvalidHeartbeat, "heartbeat must be at most ten years");
  add("unknown parent", [](TaskSpec& s) { s.parent.task = TaskId{9}; }, SpawnErrorCode::UnknownParent,
      "parent task bg_9 does not exist");
  add("dependency on itself", [](TaskSpec& s) { s.after = {TaskId{0}}; }, SpawnErrorCode::DependencyCycle,
      "a task cannot depend on itself (bg_0 is the id this spawn would get)");
  add("dependency on a later task", [](TaskSpec& s) { s.after = {TaskId{4}}; }, SpawnErrorCode::DependencyCycle,
      "dependency bg_4 does not exist yet: dependencies must already exist, so that no cycle can form");
  add("too many dependencies", [](TaskSpec& s) { for (std::uint64_t i = 0; i < 65; ++i) s.after.push_back(TaskId{i}); },
      SpawnErrorCode::TooManyDependencies, "a task may wait for at most 64 dependencies (got 65)");
  return cases;
}

TEST(SpawnChecks, EveryInvalidSpecIsRefusedWithItsCodeAndMessage) {
  const Config config;
  const detail::QuotaBook quotas;
  const auto no_name_is_live = [](const std::string&, const std::string&) { return false; };
  const auto nothing_known = [](TaskId) { return false; };
  const auto quota_held = [&](const QuotaSpec& q) { return quotas.held(q); };
  const detail::SpawnContext context{config, 0, 0, false, no_name_is_live, nothing_known, quotas, quota_held, nothing_known};
  for (const Case& c : invalid_specs()) {
    const auto refusal = detail::check_spawn(c.spec, context);
    ASSERT_TRUE(refusal.has_value()) << c.what;
    EXPECT_EQ(refusal->code, c.code) << c.what;
    EXPECT_EQ(refusal->message, c.message) << c.what;
  }
}

TEST(SpawnChecks, TheKernelAnswersTheSameRefusalsCountsThemAndConsumesNoId) {
  Harness h;
  const auto cases = invalid_specs();
  for (const Case& c : cases) {
    const SpawnError e = h.refuse(c.spec, ms(1));
    EXPECT_EQ(e, (SpawnError{c.code, c.message})) << c.what;
  }
  EXPECT_EQ(h.kernel.stats().refused, cases.size());
  EXPECT_EQ(h.kernel.stats().spawned, 0u);
  EXPECT_TRUE(h.drain().empty()) << "a refused spawn emits nothing";
  EXPECT_EQ(h.spawn(task(), ms(2)), TaskId{0}) << "refusals consume no id";
}

TEST(SpawnChecks, AValidDefaultSpecIsAccepted) {
  const Config config;
  const detail::QuotaBook quotas;
  const auto no_name_is_live = [](const std::string&, const std::string&) { return false; };
  const auto nothing_known = [](TaskId) { return false; };
  const auto quota_held = [&](const QuotaSpec& q) { return quotas.held(q); };
  const detail::SpawnContext context{config, 0, 0, false, no_name_is_live, nothing_known, quotas, quota_held, nothing_known};
  EXPECT_EQ(detail::check_spawn(task(), context), std::nullopt);
  TaskSpec edge = task();
  edge.retry.multiplier = 1.0;
  edge.retry.jitter = 1.0;
  edge.timeout = Duration{1};
  edge.quota = QuotaSpec{"k", Duration{0}, 0, true};
  EXPECT_EQ(detail::check_spawn(edge, context), std::nullopt) << "bounds are inclusive";
}

TEST(SpawnChecks, PayloadTooLargeNamesBothSizes) {
  Config config;
  config.max_payload_bytes = 10;
  Harness h(config);
  TaskSpec spec = task();
  spec.payload = "0123456789";  // 12 bytes once quoted
  EXPECT_EQ(h.refuse(spec, ms(0)), (SpawnError{SpawnErrorCode::PayloadTooLarge, "payload is 12 bytes; the limit is 10"}));
  spec.payload = "01234567";  // exactly 10
  h.spawn(spec, ms(0));
}

TEST(SpawnChecks, QueueFullNamesTheLimit) {
  Config config;
  config.capacity = 2;
  Harness h(config);
  h.spawn(task(), ms(0));
  h.spawn(task(), ms(0));
  EXPECT_EQ(h.refuse(task(), ms(0)), (SpawnError{SpawnErrorCode::QueueFull, "queue is full (limit 2)"}));
}

TEST(SpawnChecks, DuplicateNameNamesTheTask) {
  Harness h;
  TaskSpec spec = task();
  spec.name = "researcher";
  h.spawn(spec, ms(0));
  EXPECT_EQ(h.refuse(spec, ms(0)),
            (SpawnError{SpawnErrorCode::DuplicateName, "a running task named 'researcher' already exists"}));
}

TEST(SpawnChecks, QuotaExhaustedAndSingleFlightBusyNameTheKey) {
  Harness h;
  TaskSpec spec = task();
  spec.quota = QuotaSpec{"s1/compaction", Duration{0}, 2, true};
  const TaskId first = h.spawn(spec, ms(0));
  EXPECT_EQ(h.refuse(spec, ms(1)),
            (SpawnError{SpawnErrorCode::SingleFlightBusy, "a task with single-flight key 's1/compaction' is already pending"}));
  h.succeed(first, 1, ms(2));
  const TaskId second = h.spawn(spec, ms(3));
  h.succeed(second, 1, ms(4));
  EXPECT_EQ(h.refuse(spec, ms(5)),
            (SpawnError{SpawnErrorCode::QuotaExhausted, "attempt quota for 's1/compaction' is used up (limit 2)"}));
}

TEST(SpawnChecks, ShuttingDownIsCheckedFirst) {
  Harness h;
  h.kernel.shutdown(ShutdownMode::Drain, ms(0));
  TaskSpec spec = task();
  spec.kind.clear();  // also invalid: the shutdown still answers first
  EXPECT_EQ(h.refuse(spec, ms(1)),
            (SpawnError{SpawnErrorCode::ShuttingDown, "runtime is shutting down: no new tasks are accepted"}));
}

}  // namespace
}  // namespace tasklane
