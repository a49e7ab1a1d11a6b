// IdFifo: first in, first out, across the moves that drop the part already read.
#include "../../core/src/id_fifo.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace tasklane {
namespace {

TEST(IdFifo, PopsInPushOrderThroughManyCompactions) {
  detail::IdFifo fifo;
  std::deque<TaskId> model;
  std::uint64_t next = 1;
  for (int round = 0; round < 50; ++round) {  // grows by 100 a round: the read part is moved down often
    for (int i = 0; i < 300; ++i) {
      fifo.push_back(TaskId{next});
      model.push_back(TaskId{next++});
    }
    for (int i = 0; i < 200; ++i) {
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
  EXPECT_EQ(fifo.pop_front(), TaskId{7});
}

}  // namespace
}  // namespace tasklane
