// Retries: backoff (initial, multiplier, ceiling), jitter from the kernel's seeded generator,
// non-retryable failures, and exhaustion ending Failed with the last error.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/src/rng.hpp"
#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::starts;
using testkit::task;
using testkit::us;

TaskSpec retried(std::uint32_t attempts, Duration initial, double multiplier, Duration ceiling, double jitter = 0) {
  TaskSpec spec = task();
  spec.retry.max_attempts = attempts;
  spec.retry.initial_backoff = initial;
  spec.retry.multiplier = multiplier;
  spec.retry.max_backoff = ceiling;
  spec.retry.jitter = jitter;
  return spec;
}

// Fails every attempt at once and records the wait before the next one (due - failure time),
// checking that nothing starts before the wait is over.
std::vector<Duration> backoffs_of(Config config, const TaskSpec& spec) {
  Harness h(config);
  const TaskId id = h.spawn(spec, ms(0));
  h.drain();
  std::vector<Duration> waits;
  Time now = ms(0);
  for (std::uint32_t attempt = 1; attempt < spec.retry.max_attempts; ++attempt) {
    now += ms(1);
    h.fail(id, attempt, now, "attempt " + std::to_string(attempt) + " failed");
    EXPECT_TRUE(starts(h.drain()).empty());
    EXPECT_EQ(h.status(id), TaskStatus::Pending);
    const auto due = h.kernel.next_deadline();
    EXPECT_TRUE(due.has_value());
    if (!due) return waits;
    EXPECT_EQ(*due, h.kernel.get(id)->due);
    waits.push_back(*due - now);
    if (*due > now) {
      h.tick(*due - us(1));
      EXPECT_TRUE(starts(h.drain()).empty()) << "attempt " << attempt + 1 << " started early";
    }
    now = *due;
    h.tick(now);
    const auto started = starts(h.drain());
    EXPECT_EQ(started.size(), 1u);
    if (started.size() == 1) {
      EXPECT_EQ(started[0].attempt, attempt + 1);
    }
  }
  return waits;
}

TEST(KernelRetry, BackoffGrowsByTheMultiplierUpToTheCeiling) {
  const auto waits = backoffs_of(Config{}, retried(6, ms(100), 2.0, ms(500)));
  EXPECT_EQ(waits, (std::vector<Duration>{ms(100), ms(200), ms(400), ms(500), ms(500)}));
}

TEST(KernelRetry, MultiplierOneGivesAConstantBackoff) {
  const auto waits = backoffs_of(Config{}, retried(4, ms(250), 1.0, seconds(60)));
  EXPECT_EQ(waits, (std::vector<Duration>{ms(250), ms(250), ms(250)}));
}

TEST(KernelRetry, AHugeMultiplierIsCappedNotOverflowed) {
  const auto waits = backoffs_of(Config{}, retried(4, seconds(1), 1e300, seconds(30)));
  EXPECT_EQ(waits, (std::vector<Duration>{seconds(1), seconds(30), seconds(30)}));
}

TEST(KernelRetry, JitterStaysWithinItsBoundsAndMatchesTheSeededGenerator) {
  Config config;
  config.seed = 12345;
  const TaskSpec spec = retried(6, ms(1000), 2.0, ms(3000), 0.5);
  const auto waits = backoffs_of(config, spec);
  ASSERT_EQ(waits.size(), 5u);

  const std::vector<double> full{1000e3, 2000e3, 3000e3, 3000e3, 3000e3};  // microseconds
  detail::SplitMix64 rng(config.seed);
  for (std::size_t i = 0; i < waits.size(); ++i) {
    const auto wait = static_cast<double>(waits[i].count());
    EXPECT_LE(wait, full[i]) << "retry " << i + 1;
    EXPECT_GE(wait, full[i] * (1 - spec.retry.jitter)) << "retry " << i + 1;
    const double expected = full[i] - full[i] * spec.retry.jitter * rng.unit();
    EXPECT_EQ(waits[i], Duration{static_cast<Duration::rep>(expected)}) << "retry " << i + 1;
  }
}

TEST(KernelRetry, JitterIsDeterministicForASeedAndChangesWithIt) {
  Config a;
  a.seed = 7;
  Config b;
  b.seed = 8;
  const TaskSpec spec = retried(5, seconds(2), 3.0, seconds(60), 1.0);
  const auto first = backoffs_of(a, spec);
  EXPECT_EQ(backoffs_of(a, spec), first);
  EXPECT_NE(backoffs_of(b, spec), first);
}

TEST(KernelRetry, ExhaustedRetriesFailWithTheLastError) {
  Harness h;
  const TaskId id = h.spawn(retried(3, Duration{0}, 1.0, Duration{0}), ms(0));
  h.drain();
  h.fail(id, 1, ms(1), "first");
  h.fail(id, 2, ms(2), "second");
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  EXPECT_EQ(h.kernel.get(id)->error, "second") << "the retry keeps the previous attempt's error until it ends";
  h.fail(id, 3, ms(3), "third");
  const auto out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Failed);
  EXPECT_EQ(notifies(out)[0].error, "third");
  EXPECT_EQ(h.kernel.get(id)->attempt, 3u);
  EXPECT_EQ(h.kernel.get(id)->error, "third");
  EXPECT_EQ(h.kernel.stats().retried, 2u);
  EXPECT_EQ(h.kernel.stats().failed, 1u);
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
}

TEST(KernelRetry, NotRetryableOutcomeFailsAtOnce) {
  Harness h;
  const TaskId id = h.spawn(retried(5, ms(10), 2.0, seconds(1)), ms(0));
  h.drain();
  h.fail(id, 1, ms(1), "bad request", /*retryable=*/false);
  const auto out = h.drain();
  EXPECT_TRUE(starts(out).empty());
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Failed);
  EXPECT_EQ(notifies(out)[0].error, "bad request");
  EXPECT_EQ(h.kernel.stats().retried, 0u);
}

TEST(KernelRetry, ErrorTypeListedAsNonRetryableFailsAtOnce) {
  Harness h;
  TaskSpec spec = retried(5, ms(10), 2.0, seconds(1));
  spec.retry.non_retryable_errors = {"auth", "quota"};
  const TaskId listed = h.spawn(spec, ms(0));
  const TaskId unlisted = h.spawn(spec, ms(0));
  h.drain();
  h.fail(listed, 1, ms(1), "token expired", true, "quota");
  h.fail(unlisted, 1, ms(1), "socket reset", true, "network");
  EXPECT_EQ(h.status(listed), TaskStatus::Failed);
  EXPECT_EQ(h.kernel.get(listed)->error, "token expired");
  EXPECT_EQ(h.status(unlisted), TaskStatus::Pending) << "an unlisted error type is retried";
  EXPECT_EQ(h.kernel.get(unlisted)->due, ms(11));
}

TEST(KernelRetry, ASuccessAfterFailuresClearsTheError) {
  Harness h;
  const TaskId id = h.spawn(retried(3, Duration{0}, 1.0, Duration{0}), ms(0));
  h.drain();
  h.fail(id, 1, ms(1), "flaky");
  h.succeed(id, 2, ms(2), Json{{"ok", true}});
  const auto out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Completed);
  EXPECT_EQ(notifies(out)[0].error, std::nullopt);
  EXPECT_EQ(notifies(out)[0].result, (Json{{"ok", true}}));
  EXPECT_EQ(h.kernel.get(id)->error, std::nullopt);
  EXPECT_EQ(h.kernel.get(id)->result, (Json{{"ok", true}}));
}

TEST(KernelRetry, ACompletionForAnOlderAttemptIsIgnored) {
  Harness h;
  const TaskId id = h.spawn(retried(3, Duration{0}, 1.0, Duration{0}), ms(0));
  h.drain();
  h.fail(id, 1, ms(1), "flaky");
  h.drain();
  h.succeed(id, 1, ms(2));  // attempt 1 again: stale
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  EXPECT_EQ(h.kernel.get(id)->attempt, 2u);
  EXPECT_EQ(h.kernel.stats().ignored_completions, 1u);
}

}  // namespace
}  // namespace tasklane
