// HandoffBatch: one wake-up per batch, order kept, nothing lost between threads, nothing after close.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tasklane/drivers/handoff_batch.hpp"

namespace tasklane::drivers {
namespace {

using Batch = HandoffBatch<int>;

TEST(HandoffBatch, OnlyTheFirstItemAfterATakeWakesTheConsumer) {
  Batch batch;
  int wakes = 0;
  EXPECT_EQ(batch.add(1, [&] { ++wakes; }), Batch::Added::Wake);
  EXPECT_EQ(batch.add(2, [&] { ++wakes; }), Batch::Added::Queued);
  EXPECT_EQ(batch.add(3), Batch::Added::Queued);
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(batch.take(), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(batch.take().empty());
  EXPECT_EQ(batch.add(4, [&] { ++wakes; }), Batch::Added::Wake);
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(batch.take(), (std::vector<int>{4}));
}

TEST(HandoffBatch, CloseDropsWhatWaitsAndEverythingLater) {
  Batch batch;
  batch.add(1);
  batch.add(2);
  EXPECT_EQ(batch.close(), (std::vector<int>{1, 2}));
  int wakes = 0;
  EXPECT_EQ(batch.add(3, [&] { ++wakes; }), Batch::Added::Dropped);
  EXPECT_EQ(wakes, 0);
  EXPECT_TRUE(batch.take().empty());
}

// Producers on several threads, one consumer that takes only when woken: every item arrives once,
// each producer's items in its order, and there are never more wake-ups than takes.
TEST(HandoffBatch, EveryItemFromEveryThreadArrivesOnceAndInItsThreadsOrder) {
  constexpr int producers = 4, per_producer = 20000;
  Batch batch;
  std::atomic<int> wakes{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        if (batch.add(p * per_producer + i) == Batch::Added::Wake) ++wakes;
      }
    });
  }
  std::vector<int> next(producers, 0);
  int received = 0, takes = 0;
  while (received < producers * per_producer) {
    if (wakes.load() <= takes) {
      std::this_thread::yield();
      continue;
    }
    ++takes;
    for (const int item : batch.take()) {
      const int p = item / per_producer;
      ASSERT_EQ(item % per_producer, next[p]) << "producer " << p << " out of order";
      ++next[p];
      ++received;
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(batch.take().empty());
  EXPECT_EQ(received, producers * per_producer);
  EXPECT_LE(wakes.load(), takes + 1);
}

}  // namespace
}  // namespace tasklane::drivers
