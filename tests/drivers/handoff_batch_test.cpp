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

// A batch handed back after use is where the next items go: its memory, not a new allocation (a
// burst of 100k spawns is megabytes, and fresh memory page-faulted every batch). A vector far over
// the batches seen is not kept: a burst's memory goes once the batches are small again.
TEST(HandoffBatch, ARecycledBatchHoldsTheNextItemsUnlessItIsFarOverTheBatchesSeen) {
  Batch batch;
  for (int i = 0; i < 1000; ++i) batch.add(i);
  auto first = batch.take();
  ASSERT_EQ(first.size(), 1000u);
  const int* memory = first.data();
  batch.recycle(std::move(first));  // the producers' vector after the next take
  batch.add(7);
  EXPECT_EQ(batch.take(), (std::vector<int>{7}));
  batch.add(8);
  auto third = batch.take();
  EXPECT_EQ(third, (std::vector<int>{8}));
  EXPECT_EQ(third.data(), memory) << "the recycled vector's memory held the batch after next";

  batch.recycle(std::move(third));  // capacity 1000 after batches of 1: far over them, dropped
  batch.add(9);
  EXPECT_EQ(batch.take(), (std::vector<int>{9}));
  batch.add(10);
  auto fifth = batch.take();
  EXPECT_EQ(fifth, (std::vector<int>{10}));
  EXPECT_LT(fifth.capacity(), 1000u) << "a burst's vector is not kept once batches are small";
}

// An item that counts its moves: a vector that grows moves every item it holds.
struct Moved {
  explicit Moved(int* counter) : moves(counter) {}
  Moved(Moved&& other) noexcept : moves(other.moves) { ++*moves; }
  Moved& operator=(Moved&&) = delete;
  int* moves;
};

// While producers outpace the consumer the batches grow (a burst of spawns): a batch up to four
// times the last one's size fills room made at the take, and no item moves after it is added.
TEST(HandoffBatch, ABatchUpToFourTimesTheLastOneMovesNoItemOnceAdded) {
  int moves = 0;
  HandoffBatch<Moved> batch;
  for (int i = 0; i < 100; ++i) batch.add(Moved(&moves));
  ASSERT_EQ(batch.take().size(), 100u);
  moves = 0;
  for (int i = 0; i < 400; ++i) batch.add(Moved(&moves));
  EXPECT_EQ(moves, 400) << "one move each, into its place";
  EXPECT_EQ(batch.take().size(), 400u);
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
