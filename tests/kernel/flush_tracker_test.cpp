// FlushTracker: a flush takes the unflushed tasks it selects, waits for the live ones and reports
// the first error; an error of a task no flush took yet surfaces at the next matching flush.
#include "../../core/src/flush_tracker.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>

namespace tasklane {
namespace {

const SequenceKey actor_facts{"agent", "actor", "facts"};
const SequenceKey actor_relations{"agent", "actor", "relationship"};
const SequenceKey other_facts{"agent", "other", "facts"};

// What the kernel's table answers: the keys of the live keyed tasks.
struct Keys {
  std::map<TaskId, SequenceKey> live;
  const SequenceKey* operator()(TaskId id) const {
    const auto it = live.find(id);
    return it == live.end() ? nullptr : &it->second;
  }
};

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
  Keys keys;
  const FlushId id = t.flush(flush_selector::All{}, keys, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{id, std::nullopt}}));
  EXPECT_EQ(t.active(), 0u);
}

TEST(FlushTracker, WaitsForEverySelectedTaskThenReportsTheLowestIdError) {
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  t.on_accepted(TaskId{0}, nullptr);
  t.on_accepted(TaskId{1}, nullptr);
  t.on_accepted(TaskId{2}, nullptr);
  const FlushId id = t.flush(flush_selector::All{}, keys, out);
  EXPECT_TRUE(done(out).empty());
  t.on_terminal(TaskId{2}, std::string("late error"), keys(TaskId{2}), out);
  t.on_terminal(TaskId{1}, std::string("early error"), keys(TaskId{1}), out);
  EXPECT_TRUE(done(out).empty());
  t.on_terminal(TaskId{0}, std::nullopt, keys(TaskId{0}), out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{id, std::string("early error")}}));
}

TEST(FlushTracker, AnErrorBeforeAnyFlushSurfacesAtTheNextMatchingFlushOnly) {
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  t.on_accepted(TaskId{0}, nullptr);
  t.on_terminal(TaskId{0}, std::string("background failed"), keys(TaskId{0}), out);
  const FlushId first = t.flush(flush_selector::All{}, keys, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{first, std::string("background failed")}}));
  const FlushId second = t.flush(flush_selector::All{}, keys, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{second, std::nullopt}}));
}

TEST(FlushTracker, ASuccessBeforeAnyFlushLeavesNothingBehind) {
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  keys.live[TaskId{0}] = actor_facts;
  t.on_accepted(TaskId{0}, &actor_facts);
  t.on_terminal(TaskId{0}, std::nullopt, keys(TaskId{0}), out);
  EXPECT_EQ(t.unflushed(), 0u);
}

TEST(FlushTracker, SelectorsMatchScopePurposeOrBothAndKeylessOnlyMatchesAll) {
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  keys.live[TaskId{0}] = actor_facts;
  t.on_accepted(TaskId{0}, &actor_facts);
  keys.live[TaskId{1}] = actor_relations;
  t.on_accepted(TaskId{1}, &actor_relations);
  keys.live[TaskId{2}] = other_facts;
  t.on_accepted(TaskId{2}, &other_facts);
  t.on_accepted(TaskId{3}, nullptr);

  t.flush(flush_selector::ScopePurpose{"actor", "facts"}, keys, out);  // takes 0
  EXPECT_EQ(t.unflushed(), 3u);
  t.flush(flush_selector::Purpose{"facts"}, keys, out);  // takes 2
  EXPECT_EQ(t.unflushed(), 2u);
  t.flush(flush_selector::Scope{"actor"}, keys, out);  // takes 1
  EXPECT_EQ(t.unflushed(), 1u);
  t.flush(flush_selector::Scope{"nobody"}, keys, out);
  EXPECT_EQ(t.unflushed(), 1u);  // the keyless task is left for All
  t.flush(flush_selector::All{}, keys, out);
  EXPECT_EQ(t.unflushed(), 0u);
  EXPECT_EQ(t.active(), 4u);  // four flushes wait, the one for "nobody" is done
  EXPECT_EQ(done(out).size(), 1u);
}

TEST(FlushTracker, ATaskTakenByOneFlushIsNotWaitedForByTheNext) {
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  keys.live[TaskId{0}] = actor_facts;
  t.on_accepted(TaskId{0}, &actor_facts);
  const FlushId first = t.flush(flush_selector::Scope{"actor"}, keys, out);
  const FlushId second = t.flush(flush_selector::All{}, keys, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{second, std::nullopt}}));
  t.on_terminal(TaskId{0}, std::string("boom"), keys(TaskId{0}), out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{first, std::string("boom")}}));
}

TEST(FlushTracker, AKeyedTaskFailedBeforeAnyFlushSurfacesByItsKeyAfterItsRecordIsGone) {
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  keys.live[TaskId{0}] = actor_facts;
  t.on_accepted(TaskId{0}, &actor_facts);
  t.on_terminal(TaskId{0}, std::string("compaction failed"), keys(TaskId{0}), out);
  keys.live.erase(TaskId{0});  // the kernel forgot the terminal record (retained_terminal)
  const FlushId other = t.flush(flush_selector::Scope{"other"}, keys, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{other, std::nullopt}})) << "another scope's flush leaves it";
  const FlushId mine = t.flush(flush_selector::ScopePurpose{"actor", "facts"}, keys, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{mine, std::string("compaction failed")}}));
  EXPECT_EQ(t.unflushed(), 0u);
}

TEST(FlushTracker, ATaskAcceptedAgainWithoutAKeyIsOnlyTakenByAll) {
  // restore() accepts a task again; its key may be gone (a record written before the key existed).
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  keys.live[TaskId{0}] = actor_facts;
  t.on_accepted(TaskId{0}, &actor_facts);
  keys.live.erase(TaskId{0});
  t.on_accepted(TaskId{0}, nullptr);
  EXPECT_EQ(t.unflushed(), 1u) << "one task, not one per acceptance";
  const FlushId scoped = t.flush(flush_selector::Scope{"actor"}, keys, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{scoped, std::nullopt}}));
  const FlushId all = t.flush(flush_selector::All{}, keys, out);
  EXPECT_TRUE(done(out).empty()) << "All waits for it";
  t.on_terminal(TaskId{0}, std::nullopt, nullptr, out);
  EXPECT_EQ(done(out), (std::vector<command::FlushDone>{{all, std::nullopt}}));
}

TEST(FlushTracker, FlushIdsStartAtOneAndGrow) {
  detail::FlushTracker t;
  std::deque<Command> out;
  Keys keys;
  EXPECT_EQ(t.flush(flush_selector::All{}, keys, out), 1u);
  EXPECT_EQ(t.flush(flush_selector::All{}, keys, out), 2u);
}

}  // namespace
}  // namespace tasklane
