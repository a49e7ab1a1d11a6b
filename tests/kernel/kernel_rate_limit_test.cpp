// Rate limits: a token bucket per limiter key; tasks over the limit wait for a token and start in
// priority order; next_deadline() wakes the driver for the next token.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::started_ids;
using testkit::task;

TaskSpec limited(std::uint32_t starts, Duration interval, Priority priority = Priority::Normal) {
  TaskSpec spec = task("call_model");
  spec.priority = priority;
  spec.rate_limit = RateLimit{"openai", starts, interval};
  return spec;
}

Config wide() {
  Config config;
  config.max_running = 16;
  return config;
}

TEST(KernelRateLimit, AtMostNStartAtOnceAndTheRestWaitForTokens) {
  Harness h(wide());
  std::vector<TaskId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h.spawn(limited(2, ms(100)), ms(0)));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{ids[0], ids[1]})) << "a full bucket: a burst of 2";
  EXPECT_EQ(h.kernel.next_deadline(), ms(50)) << "one token every 100 ms / 2";
  h.tick(ms(49));
  EXPECT_TRUE(started_ids(h.drain()).empty());
  h.tick(ms(50));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{ids[2]});
  h.tick(ms(100));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{ids[3]});
  h.tick(ms(149));
  EXPECT_TRUE(started_ids(h.drain()).empty());
  h.tick(ms(150));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{ids[4]});
  EXPECT_EQ(h.kernel.next_deadline(), std::nullopt);
}

TEST(KernelRateLimit, WaitingTasksTakeTheNextTokenInPriorityOrder) {
  Harness h(wide());
  const TaskId first = h.spawn(limited(1, ms(10)), ms(0));
  const TaskId low = h.spawn(limited(1, ms(10), Priority::Low), ms(1));
  const TaskId high = h.spawn(limited(1, ms(10), Priority::High), ms(2));
  const TaskId normal = h.spawn(limited(1, ms(10), Priority::Normal), ms(3));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.tick(ms(10));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{high});
  h.tick(ms(20));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{normal});
  h.tick(ms(30));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{low});
}

TEST(KernelRateLimit, TokensRefillUpToTheBurstOnly) {
  Harness h(wide());
  h.spawn(limited(2, ms(100)), ms(0));
  h.drain();
  std::vector<TaskId> later;
  for (int i = 0; i < 3; ++i) later.push_back(h.spawn(limited(2, ms(100)), ms(1000)));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{later[0], later[1]})) << "an idle second refills 2, not 20";
}

TEST(KernelRateLimit, KeysAreIndependentAndRetriesTakeATokenToo) {
  Harness h(wide());
  TaskSpec retried = limited(1, ms(100));
  retried.retry.max_attempts = 2;
  retried.retry.initial_backoff = Duration{0};
  const TaskId a = h.spawn(retried, ms(0));
  TaskSpec other = limited(1, ms(100));
  other.rate_limit->key = "anthropic";
  const TaskId b = h.spawn(other, ms(0));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{a, b}));
  h.fail(a, 1, ms(5), "429");
  EXPECT_TRUE(started_ids(h.drain()).empty()) << "the retry waits for the key's next token";
  EXPECT_EQ(h.kernel.next_deadline(), ms(100));
  h.tick(ms(100));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{a});
}

TEST(KernelRateLimit, ARateLimitedTaskInASequenceLaneWaitsForBoth) {
  Harness h(wide());
  TaskSpec spec = limited(1, ms(50));
  spec.key = testkit::key("s", "p");
  const TaskId first = h.spawn(spec, ms(0));
  const TaskId second = h.spawn(spec, ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.succeed(first, 1, ms(10));
  EXPECT_TRUE(started_ids(h.drain()).empty()) << "head of its lane, but no token before 50 ms";
  h.tick(ms(50));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
}

TEST(KernelRateLimit, BucketsSurviveSnapshotAndRestore) {
  Harness h(wide());
  TaskSpec spec = limited(1, ms(100));
  spec.durable = true;
  h.spawn(spec, ms(0));
  const TaskId waiting = h.spawn(spec, ms(0));
  h.drain();
  const Snapshot snapshot = h.kernel.snapshot();
  ASSERT_EQ(snapshot.rate_limits.size(), 1u);
  EXPECT_EQ(snapshot.rate_limits[0], (RateLimitUsage{"openai", 0, ms(0)}));
  Kernel restored(wide());
  restored.restore(snapshot, ms(1));
  EXPECT_EQ(restored.snapshot().rate_limits, snapshot.rate_limits);
  EXPECT_TRUE(started_ids(testkit::drain(restored)).empty()) << "the restored bucket is empty until 100 ms";
  EXPECT_EQ(restored.next_deadline(), ms(100));
  restored.tick(ms(100));
  EXPECT_EQ(started_ids(testkit::drain(restored)), std::vector<TaskId>{waiting});
}

TEST(KernelRateLimit, BadLimitsAreRefused) {
  Harness h;
  TaskSpec spec = limited(0, ms(100));
  EXPECT_EQ(h.refuse(spec, ms(0)).code, SpawnErrorCode::InvalidRateLimit);
  spec = limited(1, Duration{0});
  EXPECT_EQ(h.refuse(spec, ms(0)).code, SpawnErrorCode::InvalidRateLimit);
  spec = limited(1, ms(1));
  spec.rate_limit->key.clear();
  EXPECT_EQ(h.refuse(spec, ms(0)).code, SpawnErrorCode::InvalidRateLimit);
}

}  // namespace
}  // namespace tasklane
