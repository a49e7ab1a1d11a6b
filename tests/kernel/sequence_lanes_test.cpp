// SequenceLanes: only the head of a lane may start; lanes stay in spawn (id) order.
#include "../../core/src/sequence_lanes.hpp"

#include <gtest/gtest.h>

namespace tasklane {
namespace {

const SequenceKey facts{"agent", "actor", "facts"};
const SequenceKey relations{"agent", "actor", "relationship"};

TEST(SequenceLanes, OnlyTheFirstSpawnedIsHead) {
  detail::SequenceLanes lanes;
  lanes.push(facts, TaskId{0});
  lanes.push(facts, TaskId{1});
  EXPECT_TRUE(lanes.is_head(facts, TaskId{0}));
  EXPECT_FALSE(lanes.is_head(facts, TaskId{1}));
  EXPECT_FALSE(lanes.is_head(relations, TaskId{0}));
}

TEST(SequenceLanes, DifferentKeysAreIndependentLanes) {
  detail::SequenceLanes lanes;
  lanes.push(facts, TaskId{0});
  lanes.push(relations, TaskId{1});
  EXPECT_TRUE(lanes.is_head(facts, TaskId{0}));
  EXPECT_TRUE(lanes.is_head(relations, TaskId{1}));
  EXPECT_EQ(lanes.lane_count(), 2u);
}

TEST(SequenceLanes, RemovingTheHeadAnswersTheNextInSpawnOrder) {
  detail::SequenceLanes lanes;
  lanes.push(facts, TaskId{0});
  lanes.push(facts, TaskId{1});
  lanes.push(facts, TaskId{2});
  EXPECT_EQ(lanes.remove(facts, TaskId{0}), TaskId{1});
  EXPECT_TRUE(lanes.is_head(facts, TaskId{1}));
  EXPECT_EQ(lanes.remove(facts, TaskId{1}), TaskId{2});
  EXPECT_EQ(lanes.remove(facts, TaskId{2}), std::nullopt);
  EXPECT_EQ(lanes.lane_count(), 0u);  // an empty lane is dropped
}

TEST(SequenceLanes, RemovingAMemberBehindTheHeadChangesNoHead) {
  detail::SequenceLanes lanes;
  lanes.push(facts, TaskId{0});
  lanes.push(facts, TaskId{1});
  lanes.push(facts, TaskId{2});
  EXPECT_EQ(lanes.remove(facts, TaskId{1}), std::nullopt);
  EXPECT_TRUE(lanes.is_head(facts, TaskId{0}));
  EXPECT_EQ(lanes.remove(facts, TaskId{0}), TaskId{2});
}

TEST(SequenceLanes, RestoredOlderTasksGoBeforeNewerOnes) {
  detail::SequenceLanes lanes;
  lanes.push(facts, TaskId{9});
  lanes.push(facts, TaskId{4});  // restored after a newer spawn
  EXPECT_TRUE(lanes.is_head(facts, TaskId{4}));
  EXPECT_EQ(lanes.remove(facts, TaskId{4}), TaskId{9});
}

TEST(SequenceLanes, RemovingFromAnUnknownLaneIsHarmless) {
  detail::SequenceLanes lanes;
  EXPECT_EQ(lanes.remove(facts, TaskId{3}), std::nullopt);
  EXPECT_FALSE(lanes.is_head(facts, TaskId{3}));
}

}  // namespace
}  // namespace tasklane
