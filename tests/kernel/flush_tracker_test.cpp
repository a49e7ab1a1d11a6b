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

// The tracker with the kernel's side of it: the outbox, and the keys of the live keyed tasks, which
// flush() reads back and on_terminal() is handed (as Kernel::State passes its entry's key).
struct Tracker {
  detail::FlushTracker t;
  std::deque<Command> out;
  std::map<TaskId, SequenceKey> live_keys;
  std::vector<TaskId> taken;  // the kept errors the flushes took, in order

  void accept(TaskId id, const SequenceKey* key = nullptr) {
    if (key) {
      live_keys[id] = *key;
    } else {
      live_keys.erase(id);
    }
    t.on_accepted(id, key_of(id));
  }
  bool end(TaskId id, std::optional<std::string> error = std::nullopt) {  // true: its error is kept
    return t.on_terminal(id, std::move(error), key_of(id), out);
  }
  void forget(TaskId id) { live_keys.erase(id); }  // the kernel dropped the terminal record
  FlushId flush(const FlushSelector& which) {
    return t.flush(
        which, [this](TaskId id) { return key_of(id); }, [this](TaskId id) { taken.push_back(id); }, out);
  }
  // The FlushDone commands emitted since the last call.
  std::vector<command::FlushDone> done() {
    std::vector<command::FlushDone> d;
    for (auto& c : out) {
      if (auto* f = std::get_if<command::FlushDone>(&c)) d.push_back(*f);
    }
    out.clear();
    return d;
  }
  const SequenceKey* key_of(TaskId id) const {
    const auto it = live_keys.find(id);
    return it == live_keys.end() ? nullptr : &it->second;
  }
};

TEST(FlushTracker, CompletesAtOnceWhenNothingIsLive) {
  Tracker k;
  const FlushId id = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{id, std::nullopt}}));
  EXPECT_EQ(k.t.active(), 0u);
}

TEST(FlushTracker, WaitsForEverySelectedTaskThenReportsTheLowestIdError) {
  Tracker k;
  k.accept(TaskId{0});
  k.accept(TaskId{1});
  k.accept(TaskId{2});
  const FlushId id = k.flush(flush_selector::All{});
  EXPECT_TRUE(k.done().empty());
  k.end(TaskId{2}, "late error");
  k.end(TaskId{1}, "early error");
  EXPECT_TRUE(k.done().empty());
  k.end(TaskId{0});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{id, std::string("early error")}}));
}

TEST(FlushTracker, AnErrorBeforeAnyFlushSurfacesAtTheNextMatchingFlushOnly) {
  Tracker k;
  k.accept(TaskId{0});
  k.end(TaskId{0}, "background failed");
  const FlushId first = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{first, std::string("background failed")}}));
  const FlushId second = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{second, std::nullopt}}));
}

TEST(FlushTracker, ASuccessBeforeAnyFlushLeavesNothingBehind) {
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  k.end(TaskId{0});
  EXPECT_EQ(k.t.unflushed(), 0u);
}

TEST(FlushTracker, SelectorsMatchScopePurposeOrBothAndKeylessOnlyMatchesAll) {
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  k.accept(TaskId{1}, &actor_relations);
  k.accept(TaskId{2}, &other_facts);
  k.accept(TaskId{3});

  k.flush(flush_selector::ScopePurpose{"actor", "facts"});  // takes 0
  EXPECT_EQ(k.t.unflushed(), 3u);
  k.flush(flush_selector::Purpose{"facts"});  // takes 2
  EXPECT_EQ(k.t.unflushed(), 2u);
  k.flush(flush_selector::Scope{"actor"});  // takes 1
  EXPECT_EQ(k.t.unflushed(), 1u);
  k.flush(flush_selector::Scope{"nobody"});
  EXPECT_EQ(k.t.unflushed(), 1u);  // the keyless task is left for All
  k.flush(flush_selector::All{});
  EXPECT_EQ(k.t.unflushed(), 0u);
  EXPECT_EQ(k.t.active(), 4u);  // four flushes wait, the one for "nobody" is done
  EXPECT_EQ(k.done().size(), 1u);
}

TEST(FlushTracker, ATaskTakenByOneFlushIsNotWaitedForByTheNext) {
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  const FlushId first = k.flush(flush_selector::Scope{"actor"});
  const FlushId second = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{second, std::nullopt}}));
  k.end(TaskId{0}, "boom");
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{first, std::string("boom")}}));
}

TEST(FlushTracker, AKeyedTaskFailedBeforeAnyFlushSurfacesByItsKeyAfterItsRecordIsGone) {
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  k.end(TaskId{0}, "compaction failed");
  k.forget(TaskId{0});  // retained_terminal
  const FlushId other = k.flush(flush_selector::Scope{"other"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{other, std::nullopt}})) << "another scope's flush leaves it";
  const FlushId mine = k.flush(flush_selector::ScopePurpose{"actor", "facts"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{mine, std::string("compaction failed")}}));
  EXPECT_EQ(k.t.unflushed(), 0u);
}

TEST(FlushTracker, ATaskAcceptedAgainWithoutAKeyIsOnlyTakenByAll) {
  // restore() accepts a task again; its key may be gone (a record written before the key existed).
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  k.accept(TaskId{0});  // now without its key
  EXPECT_EQ(k.t.unflushed(), 1u) << "one task, not one per acceptance";
  const FlushId scoped = k.flush(flush_selector::Scope{"actor"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{scoped, std::nullopt}}));
  const FlushId all = k.flush(flush_selector::All{});
  EXPECT_TRUE(k.done().empty()) << "All waits for it";
  k.end(TaskId{0});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{all, std::nullopt}}));
}

TEST(FlushTracker, FlushIdsStartAtOneAndGrow) {
  Tracker k;
  EXPECT_EQ(k.flush(flush_selector::All{}), 1u);
  EXPECT_EQ(k.flush(flush_selector::All{}), 2u);
}

// The kernel marks a record whose error is kept (TaskInfo::error_unflushed) from on_terminal's
// answer, and clears the mark for each error a flush takes: the tracker says both.
TEST(FlushTracker, SaysWhichErrorsItKeepsAndWhichAFlushTakes) {
  Tracker k;
  k.accept(TaskId{1}, &actor_facts);
  k.accept(TaskId{2}, &other_facts);
  k.accept(TaskId{3});
  k.accept(TaskId{4});
  EXPECT_TRUE(k.end(TaskId{1}, "one failed"));
  EXPECT_TRUE(k.end(TaskId{2}, "two failed"));
  EXPECT_FALSE(k.end(TaskId{3})) << "no error: nothing to keep";
  const FlushId waits = k.flush(flush_selector::Scope{"actor"});
  EXPECT_EQ(k.taken, (std::vector<TaskId>{TaskId{1}}));
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{waits, std::string("one failed")}}));
  const FlushId all = k.flush(flush_selector::All{});  // claims 4
  EXPECT_EQ(k.taken, (std::vector<TaskId>{TaskId{1}, TaskId{2}}));
  EXPECT_FALSE(k.end(TaskId{4}, "four failed")) << "a flush waited for it: its error went there";
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{all, std::string("two failed")}}));
}

TEST(FlushTracker, ARestoredErrorSurfacesAtTheNextMatchingFlushOnce) {
  Tracker k;
  k.t.restore_error(TaskId{7}, &actor_facts, "failed before the restart");
  const FlushId other = k.flush(flush_selector::Scope{"other"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{other, std::nullopt}}));
  const FlushId facts = k.flush(flush_selector::Purpose{"facts"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{facts, std::string("failed before the restart")}}));
  EXPECT_EQ(k.taken, (std::vector<TaskId>{TaskId{7}}));
  const FlushId again = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{again, std::nullopt}}));
}

}  // namespace
}  // namespace tasklane
