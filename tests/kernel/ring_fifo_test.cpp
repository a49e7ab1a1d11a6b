// RingFifo: first in, first out, across wrap-arounds and growth.
#include "../../core/src/ring_fifo.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "tasklane/task_id.hpp"

namespace tasklane {
namespace {

TEST(RingFifo, PopsInPushOrderThroughWrapsAndGrowth) {
  detail::RingFifo<TaskId> fifo;
  std::deque<TaskId> model;
  std::uint64_t next = 1;
  for (int round = 0; round < 50; ++round) {  // grows by 100 a round: the ring wraps and doubles often
    for (int i = 0; i < 300; ++i) {
      fifo.push_back(TaskId{next});
      model.push_back(TaskId{next++});
      ASSERT_EQ(fifo.back(), model.back());
    }
    for (int i = 0; i < 200; ++i) {
      ASSERT_EQ(fifo.front(), model.front());
      ASSERT_EQ(fifo.pop_front(), model.front());
      model.pop_front();
    }
    ASSERT_EQ(fifo.size(), model.size());
  }
  while (!model.empty()) {
    ASSERT_EQ(fifo.pop_front(), model.front());
    model.pop_front();
  }
  EXPECT_TRUE(fifo.empty());
  fifo.push_back(TaskId{7});  // reusable once emptied
  EXPECT_EQ(fifo.front(), TaskId{7});
  EXPECT_EQ(fifo.back(), TaskId{7});
  EXPECT_EQ(fifo.pop_front(), TaskId{7});
}

// A ring that is as full as its slots, with its head part way round, grows keeping the order.
TEST(RingFifo, GrowsInOrderWhenFullAndWrapped) {
  detail::RingFifo<int> fifo;
  for (int i = 0; i < 16; ++i) fifo.push_back(i);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(fifo.pop_front(), i);
  for (int i = 16; i < 26; ++i) fifo.push_back(i);  // fills the 16 slots, wrapped
  ASSERT_EQ(fifo.size(), 16u);
  fifo.push_back(26);  // grows
  for (int i = 10; i <= 26; ++i) ASSERT_EQ(fifo.pop_front(), i);
  EXPECT_TRUE(fifo.empty());
}

// Indexing counts from the front, across the wrap; clear() empties and keeps working.
TEST(RingFifo, IndexesFromTheFrontAndClearEmpties) {
  detail::RingFifo<int> fifo;
  for (int i = 0; i < 12; ++i) fifo.push_back(i);
  for (int i = 0; i < 8; ++i) fifo.pop_front();
  for (int i = 12; i < 20; ++i) fifo.push_back(i);  // wraps round the 16 slots
  ASSERT_EQ(fifo.size(), 12u);
  for (std::size_t i = 0; i < fifo.size(); ++i) EXPECT_EQ(fifo[i], static_cast<int>(8 + i));
  fifo.reserve(100);  // keeps what is queued
  ASSERT_EQ(fifo.size(), 12u);
  for (std::size_t i = 0; i < fifo.size(); ++i) EXPECT_EQ(fifo[i], static_cast<int>(8 + i));
  fifo.clear();
  EXPECT_TRUE(fifo.empty());
  fifo.push_back(42);
  EXPECT_EQ(fifo[0], 42);
  EXPECT_EQ(fifo.pop_front(), 42);
}

}  // namespace
}  // namespace tasklane
