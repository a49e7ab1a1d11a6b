// FlushTracker: a flush takes the unflushed tasks it selects, waits for the live ones and reports
// the first error; an error of a task no flush took yet surfaces at the next matching flush.
#include "../../core/src/flush_tracker.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace tasklane {
namespace {

const SequenceKey actor_facts{"agent", "actor", "facts"};
const SequenceKey actor_relations{"agent", "actor", "relationship"};
const SequenceKey other_facts{"agent", "other", "facts"};

std::vector<command::FlushDone> done(std::deque<Command>& out) {
  std::vector<command::FlushDone> d;
  for (auto& c : out) {
    if (auto* f = std::get_if<command::FlushDone>(&c)) d.push_back(*f);
  }
  out.clear();
  return d;
}

TEST(FlushTracker, CompletesAtOnceWhenNothingIsLive) {
  detail::FlushTracker t;
  std::deque<Command> out;
  const FlushId id = t.flush(flush_selector::All{}, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{id, std::nullopt}}));
  EXPECT_EQ(t.active(), 0u);
}

TEST(FlushTracker, WaitsForEverySelectedTaskThenReportsTheLowestIdError) {
  detail::FlushTracker t;
  std::deque<Command> out;
  t.on_accepted(TaskId{0}, nullptr);
  t.on_accepted(TaskId{1}, nullptr);
  t.on_accepted(TaskId{2}, nullptr);
  const FlushId id = t.flush(flush_selector::All{}, out);
  EXPECT_TRUE(done(out).empty());
  t.on_terminal(TaskId{2}, std::string("late error"), out);
  t.on_terminal(TaskId{1}, std::string("early error"), out);
  EXPECT_TRUE(done(out).empty());
  t.on_terminal(TaskId{0}, std::nullopt, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{id, std::string("early error")}}));
}

TEST(FlushTracker, AnErrorBeforeAnyFlushSurfacesAtTheNextMatchingFlushOnly) {
  detail::FlushTracker t;
  std::deque<Command> out;
  t.on_accepted(TaskId{0}, nullptr);
  t.on_terminal(TaskId{0}, std::string("background failed"), out);
  const FlushId first = t.flush(flush_selector::All{}, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{first, std::string("background failed")}}));
  const FlushId second = t.flush(flush_selector::All{}, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{second, std::nullopt}}));
}

TEST(FlushTracker, ASuccessBeforeAnyFlushLeavesNothingBehind) {
  detail::FlushTracker t;
  std::deque<Command> out;
  t.on_accepted(TaskId{0}, &actor_facts);
  t.on_terminal(TaskId{0}, std::nullopt, out);
  EXPECT_EQ(t.unflushed(), 0u);
}

TEST(FlushTracker, SelectorsMatchScopePurposeOrBothAndKeylessOnlyMatchesAll) {
  detail::FlushTracker t;
  std::deque<Command> out;
  t.on_accepted(TaskId{0}, &actor_facts);
  t.on_accepted(TaskId{1}, &actor_relations);
  t.on_accepted(TaskId{2}, &other_facts);
  t.on_accepted(TaskId{3}, nullptr);

  t.flush(flush_selector::ScopePurpose{"actor", "facts"}, out);  // takes 0
  EXPECT_EQ(t.unflushed(), 3u);
  t.flush(flush_selector::Purpose{"facts"}, out);  // takes 2
  EXPECT_EQ(t.unflushed(), 2u);
  t.flush(flush_selector::Scope{"actor"}, out);  // takes 1
  EXPECT_EQ(t.unflushed(), 1u);
  t.flush(flush_selector::Scope{"nobody"}, out);
  EXPECT_EQ(t.unflushed(), 1u);  // the keyless task is left for All
  t.flush(flush_selector::All{}, out);
  EXPECT_EQ(t.unflushed(), 0u);
  EXPECT_EQ(t.active(), 4u);  // four flushes wait, the one for "nobody" is done
  EXPECT_EQ(done(out).size(), 1u);
}

TEST(FlushTracker, ATaskTakenByOneFlushIsNotWaitedForByTheNext) {
  detail::FlushTracker t;
  std::deque<Command> out;
  t.on_accepted(TaskId{0}, &actor_facts);
  const FlushId first = t.flush(flush_selector::Scope{"actor"}, out);
  const FlushId second = t.flush(flush_selector::All{}, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{second, std::nullopt}}));
  t.on_terminal(TaskId{0}, std::string("boom"), out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{first, std::string("boom")}}));
}

TEST(FlushTracker, FlushIdsStartAtOneAndGrow) {
  detail::FlushTracker t;
  std::deque<Command> out;
  EXPECT_EQ(t.flush(flush_selector::All{}, out), 1u);
  EXPECT_EQ(t.flush(flush_selector::All{}, out), 2u);
}

}  // namespace
}  // namespace tasklane
