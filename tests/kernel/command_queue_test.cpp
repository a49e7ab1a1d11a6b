// CommandQueue: first in, first out, across drains that empty it and refills.
#include "../../core/src/command_queue.hpp"

#include <gtest/gtest.h>

namespace tasklane {
namespace {

TEST(CommandQueue, IsFirstInFirstOutAcrossRefills) {
  detail::CommandQueue q;
  EXPECT_TRUE(q.empty());
  for (int round = 0; round < 3; ++round) {
    q.emplace_back(command::FlushDone{1, std::nullopt});
    q.emplace_back(command::FlushDone{2, std::string("boom")});
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(std::get<command::FlushDone>(q.front()).flush, 1u);
    q.pop_front();
    q.emplace_back(command::Stopped{});  // pushed while partly drained
    EXPECT_EQ(std::get<command::FlushDone>(q.front()).error, std::optional<std::string>("boom"));
    q.pop_front();
    EXPECT_TRUE(std::holds_alternative<command::Stopped>(q.front()));
    q.pop_front();
    EXPECT_TRUE(q.empty());
  }
}

}  // namespace
}  // namespace tasklane
