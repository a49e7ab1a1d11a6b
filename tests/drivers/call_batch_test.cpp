// run_call_batch: calls run in order; a call that throws hands the ones behind it back to run next,
// and the exception reaches the caller; a call that ends the consumer stops the batch.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tasklane/drivers/call_batch.hpp"

namespace tasklane::drivers {
namespace {

using Calls = std::vector<std::function<void()>>;

TEST(CallBatch, RunsEveryCallInOrder) {
  std::string seen;
  Calls batch{[&] { seen += 'a'; }, [&] { seen += 'b'; }, [&] { seen += 'c'; }};
  int kept = 0;
  run_call_batch(batch, [] { return true; }, [&](auto, auto) { ++kept; });
  EXPECT_EQ(seen, "abc");
  EXPECT_EQ(kept, 0);
}

TEST(CallBatch, ACallThatThrowsHandsTheRestBackAndPropagates) {
  std::string seen;
  Calls batch{[&] { seen += 'a'; }, [] { throw std::runtime_error("boom"); }, [&] { seen += 'c'; },
              [&] { seen += 'd'; }};
  Calls rest;
  EXPECT_THROW(run_call_batch(batch, [] { return true; },
                              [&](auto first, auto last) { rest.assign(first, last); }),
               std::runtime_error);
  EXPECT_EQ(seen, "a");
  ASSERT_EQ(rest.size(), 2u);
  for (auto& call : rest) call();
  EXPECT_EQ(seen, "acd");
}

TEST(CallBatch, ItemsThatAreNotCallablesRunThroughTheGivenRunner) {
  std::vector<int> batch{1, 2, 3, 4};
  std::vector<int> rest;
  int sum = 0;
  EXPECT_THROW(run_call_batch(
                   batch, [] { return true; }, [&](auto first, auto last) { rest.assign(first, last); },
                   [&](int item) {
                     if (item == 3) throw std::runtime_error("three");
                     sum += item;
                   }),
               std::runtime_error);
  EXPECT_EQ(sum, 3);
  EXPECT_EQ(rest, (std::vector<int>{4}));
}

TEST(CallBatch, TheLastCallThrowingHandsNothingBack) {
  Calls batch{[] {}, [] { throw 7; }};
  bool kept = false;
  EXPECT_THROW(run_call_batch(batch, [] { return true; }, [&](auto, auto) { kept = true; }), int);
  EXPECT_FALSE(kept);
}

TEST(CallBatch, ACallThatEndsTheConsumerStopsTheBatch) {
  bool alive = true;
  std::string seen;
  Calls batch{[&] { seen += 'a'; alive = false; }, [&] { seen += 'b'; }};
  run_call_batch(batch, [&] { return alive; }, [](auto, auto) {});
  EXPECT_EQ(seen, "a");
  // ... and a throw from the call that ended it hands nothing back to the dead consumer.
  alive = true;
  bool kept = false;
  Calls throwing{[&] { alive = false; throw 1; }, [&] { seen += 'c'; }};
  EXPECT_THROW(run_call_batch(throwing, [&] { return alive; }, [&](auto, auto) { kept = true; }), int);
  EXPECT_FALSE(kept);
  EXPECT_EQ(seen, "a");
}

}  // namespace
}  // namespace tasklane::drivers
