// CommandQueue: first in, first out, across drains that empty it and refills; a Persist, boxed
// while queued, comes out whole.
#include "../../core/src/command_queue.hpp"

#include <gtest/gtest.h>

namespace tasklane {
namespace {

Command take(detail::CommandQueue& q) {
  std::optional<Command> c = q.take_front();
  EXPECT_TRUE(c.has_value());
  return std::move(*c);
}

TEST(CommandQueue, IsFirstInFirstOutAcrossRefills) {
  detail::CommandQueue q;
  EXPECT_TRUE(q.empty());
  for (int round = 0; round < 3; ++round) {
    q.emplace_back(command::FlushDone{1, std::nullopt});
    q.emplace_back(command::FlushDone{2, std::string("boom")});
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(std::get<command::FlushDone>(take(q)).flush, 1u);
    q.emplace_back(command::Stopped{});  // pushed while partly drained
    EXPECT_EQ(std::get<command::FlushDone>(take(q)).error, std::optional<std::string>("boom"));
    EXPECT_TRUE(std::holds_alternative<command::Stopped>(take(q)));
    EXPECT_TRUE(q.empty());
  }
}

TEST(CommandQueue, APersistComesOutEqualToTheRecordItWasMadeOf) {
  TaskInfo record;
  record.id = TaskId{7};
  record.spec.kind = "compact";
  record.spec.owner = "agent-1";
  record.spec.payload = Json{{"turn", 3}};
  record.error = "boom";
  detail::CommandQueue q;
  q.persist(TaskInfo(record));
  q.emplace_back(command::Persist{record});  // the generic path boxes it too
  q.emplace_back(command::Notify{"agent-1", TaskId{7}, TaskStatus::Failed, Json(), std::string("boom"), std::nullopt});
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(take(q), Command(command::Persist{record}));
  EXPECT_EQ(take(q), Command(command::Persist{record}));
  EXPECT_EQ(std::get<command::Notify>(take(q)).owner, "agent-1");
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace tasklane
