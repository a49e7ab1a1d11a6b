// CommandQueue: first in, first out, across drains that empty it and refills; a Persist, boxed
// while queued, comes out whole. Lending (Kernel::drain) hands out the same commands in the same
// order, in place, also when the one lent to queues, lends or takes more, or throws.
#include "../../core/src/command_queue.hpp"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <vector>

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

// Queues FlushDone 1, 2, ..., `last`: commands told apart by tag().
void queue_flushes(detail::CommandQueue& q, std::uint64_t last) {
  for (std::uint64_t f = 1; f <= last; ++f) q.emplace_back(command::FlushDone{f, std::nullopt});
}

// What a lent command is, for comparing: the flush id of a FlushDone, -1 for a Stopped, -2 else.
long tag(CommandRef c) {
  if (auto* const* f = std::get_if<command::FlushDone*>(&c)) return static_cast<long>((*f)->flush);
  return std::holds_alternative<command::Stopped*>(c) ? -1 : -2;
}

TEST(CommandQueue, LendsEveryCommandInPlaceInOrderWithThoseQueuedMeanwhileBehind) {
  detail::CommandQueue q;
  for (int round = 0; round < 3; ++round) {  // the batch and the queue swap their vectors each round
    q.emplace_back(command::FlushDone{1, std::nullopt});
    q.emplace_back(command::FlushDone{2, std::nullopt});
    EXPECT_EQ(std::get<command::FlushDone>(take(q)).flush, 1u);  // a partly taken queue lends the rest
    q.emplace_back(command::FlushDone{3, std::nullopt});
    std::vector<long> seen;
    std::vector<std::size_t> left;  // still queued while each is lent
    q.lend([&](CommandRef c) {
      seen.push_back(tag(c));
      if (tag(c) == 2) q.emplace_back(command::Stopped{});  // queued while 3 waits to be lent
      left.push_back(q.size());
    });
    EXPECT_EQ(seen, (std::vector<long>{2, 3, -1}));
    EXPECT_EQ(left, (std::vector<std::size_t>{2, 1, 0}));
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.size(), 0u);
  }
}

TEST(CommandQueue, LendsAPersistUnboxedAndTheLentOneMayBeMovedFrom) {
  TaskInfo record;
  record.id = TaskId{7};
  record.spec.payload = Json{{"turn", 3}};
  detail::CommandQueue q;
  q.persist(TaskInfo(record));
  std::vector<Command> got;
  q.lend([&](CommandRef c) {
    ASSERT_TRUE(std::holds_alternative<command::Persist*>(c));
    got.emplace_back(std::move(*std::get<command::Persist*>(c)));
  });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], Command(command::Persist{record}));
}

TEST(CommandQueue, WhatALendThrowsOnIsHandedOutAndTheRestWaitsForTheNextTake) {
  detail::CommandQueue q;
  queue_flushes(q, 3);
  std::vector<long> seen;
  EXPECT_THROW(q.lend([&](CommandRef c) {
    seen.push_back(tag(c));
    if (tag(c) == 1) throw std::runtime_error("driver failed");
  }),
               std::runtime_error);
  EXPECT_EQ(seen, std::vector<long>{1});
  EXPECT_EQ(q.size(), 2u);
  q.emplace_back(command::Stopped{});
  EXPECT_EQ(std::get<command::FlushDone>(take(q)).flush, 2u);  // the rest of the batch first
  q.lend([&](CommandRef c) { seen.push_back(tag(c)); });
  EXPECT_EQ(seen, (std::vector<long>{1, 3, -1}));
  EXPECT_TRUE(q.empty());
}

TEST(CommandQueue, AfterALendThrewTakingTheRestEmptiesItAndTheNextLendStartsAfresh) {
  detail::CommandQueue q;
  queue_flushes(q, 3);
  EXPECT_THROW(q.lend([&](CommandRef c) {
    if (tag(c) == 3) {
      q.emplace_back(command::Stopped{});  // queued behind the batch, then the last one throws
      throw std::runtime_error("driver failed");
    }
  }),
               std::runtime_error);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<command::Stopped>(take(q)));
  EXPECT_TRUE(q.empty());
  q.emplace_back(command::FlushDone{4, std::nullopt});
  std::vector<long> seen;
  q.lend([&](CommandRef c) { seen.push_back(tag(c)); });
  EXPECT_EQ(seen, std::vector<long>{4});
}

TEST(CommandQueue, AThrowInsideANestedLendLeavesWhatNeitherHandedOut) {
  detail::CommandQueue q;
  queue_flushes(q, 4);
  std::vector<long> seen;
  EXPECT_THROW(q.lend([&](CommandRef c) {
    seen.push_back(tag(c));
    if (tag(c) == 1) {
      q.lend([&](CommandRef inner) {
        seen.push_back(100 + tag(inner));
        if (tag(inner) == 2) throw std::runtime_error("driver failed");
      });
    }
  }),
               std::runtime_error);
  EXPECT_EQ(seen, (std::vector<long>{1, 102}));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(std::get<command::FlushDone>(take(q)).flush, 3u);
  EXPECT_EQ(std::get<command::FlushDone>(take(q)).flush, 4u);
  EXPECT_TRUE(q.empty());
}

TEST(CommandQueue, AnAddWhoseFillThrowsLeavesNoHalfBuiltCommand) {
  detail::CommandQueue q;
  q.emplace_back(command::Stopped{});
  EXPECT_THROW(q.add<command::Notify>([](command::Notify& n) {
    n.owner = "agent";
    throw std::bad_alloc();
  }),
               std::bad_alloc);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<command::Stopped>(take(q)));
  q.add<command::Notify>([](command::Notify& n) { n.owner = "agent"; });
  EXPECT_EQ(std::get<command::Notify>(take(q)).owner, "agent");
}

TEST(CommandQueue, ALendOrTakeInsideALendGoesOnWithTheOuterBatchFirst) {
  detail::CommandQueue q;
  queue_flushes(q, 4);
  std::vector<long> seen;
  q.lend([&](CommandRef c) {
    seen.push_back(tag(c));
    if (tag(c) == 1) {
      q.emplace_back(command::FlushDone{5, std::nullopt});
      EXPECT_EQ(std::get<command::FlushDone>(take(q)).flush, 2u);  // taken, not lent: not in `seen`
      q.lend([&](CommandRef inner) {
        seen.push_back(100 + tag(inner));
        if (tag(inner) == 3) q.emplace_back(command::Stopped{});
      });
      EXPECT_TRUE(q.empty());
      q.emplace_back(command::FlushDone{6, std::nullopt});  // left to the outer lend
    }
  });
  EXPECT_EQ(seen, (std::vector<long>{1, 103, 104, 105, 99, 6}));
  EXPECT_TRUE(q.empty());
}

// A handed-out command's slot is reused for the next command: whatever the last one held (a
// payload, a deadline, an error, a result, even moved-from fields) the next one starts default, but
// for a Start's kind and a Notify's owner, which keep the spent command's text for refill(): it
// copies only a different text (here the kind differs, the owner is the same unless moved from).
TEST(CommandQueue, ACommandBuiltInASpentSlotStartsAsADefaultOne) {
  const std::string next_kind = "another kind, also longer than the small string buffer";
  const std::string owner = "agent";
  detail::CommandQueue q;
  for (int round = 0; round < 3; ++round) {
    q.add<command::Start>([](command::Start& s) {
      s.id = TaskId{1};
      s.attempt = 2;
      s.kind = "a kind longer than the small string buffer";
      s.payload = Json{{"turn", 3}};
      s.deadline = Time{50};
      s.inbox = true;
    });
    q.add<command::Notify>([&](command::Notify& n) {
      n.owner = owner;
      n.id = TaskId{1};
      n.status = TaskStatus::Failed;
      n.result = Json::array({1, 2});
      n.error = "boom";
      n.next_run = TaskId{2};
    });
    std::vector<Command> moved;
    q.lend([&](CommandRef c) {  // the driver moves out of some: the slots hold moved-from fields
      if (auto* const* s = std::get_if<command::Start*>(&c); s && round == 1) moved.emplace_back(std::move(**s));
      if (auto* const* n = std::get_if<command::Notify*>(&c); n && round == 2) moved.emplace_back(std::move(**n));
    });
    q.add<command::Start>([&](command::Start& s) {
      s.id = TaskId{5};
      detail::refill(s.kind, next_kind);
    });
    q.add<command::Notify>([&](command::Notify& n) {
      n.id = TaskId{5};
      detail::refill(n.owner, owner);
    });
    q.emplace_back(command::FlushDone{9, std::string("late")});  // a slot of another type
    command::Start start_expected;
    start_expected.id = TaskId{5};
    start_expected.kind = next_kind;
    command::Notify notify_expected;
    notify_expected.id = TaskId{5};
    notify_expected.owner = owner;
    EXPECT_EQ(take(q), Command(start_expected)) << "round " << round;
    EXPECT_EQ(take(q), Command(notify_expected)) << "round " << round;
    EXPECT_EQ(take(q), Command(command::FlushDone{9, std::string("late")}));
    EXPECT_TRUE(q.empty());
  }
}

// A fill that throws part way leaves its slot spent; the next command built there is default.
TEST(CommandQueue, ASlotAFillThrewInStartsDefaultForTheNextCommand) {
  detail::CommandQueue q;
  EXPECT_THROW(q.add<command::Start>([](command::Start& s) {
    s.payload = Json{{"half", "built"}};
    s.deadline = Time{7};
    throw std::bad_alloc();
  }),
               std::bad_alloc);
  EXPECT_TRUE(q.empty());
  q.add<command::Start>([](command::Start& s) { s.kind = "k"; });
  command::Start expected;
  expected.kind = "k";
  EXPECT_EQ(take(q), Command(expected));
}

// A batch larger than the spent slots kept: every command comes out in order, round after round.
TEST(CommandQueue, LargeBatchesComeOutWholeRoundAfterRound) {
  detail::CommandQueue q;
  for (int round = 0; round < 3; ++round) {
    for (std::uint64_t i = 0; i < 500; ++i) {
      q.add<command::Notify>([&](command::Notify& n) {
        n.id = TaskId{i};
        if (i % 2) n.result = Json{{"i", i}};
      });
    }
    std::uint64_t next = 0;
    q.lend([&](CommandRef c) {
      const command::Notify& n = *std::get<command::Notify*>(c);
      EXPECT_EQ(n.id, TaskId{next});
      EXPECT_EQ(n.result.is_null(), next % 2 == 0);
      ++next;
    });
    EXPECT_EQ(next, 500u);
    EXPECT_TRUE(q.empty());
  }
}

}  // namespace
}  // namespace tasklane
