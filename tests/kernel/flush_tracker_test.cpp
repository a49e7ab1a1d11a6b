// FlushTracker: a flush takes the unflushed tasks it selects, waits for the live ones and reports
// the first error; an error of a task no flush took yet surfaces at the next matching flush.
#include "../../core/src/flush_tracker.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

namespace tasklane {
namespace {

const SequenceKey actor_facts{"agent", "actor", "facts"};
const SequenceKey actor_relations{"agent", "actor", "relationship"};
const SequenceKey other_facts{"agent", "other", "facts"};

// The tracker with the kernel's side of it: the outbox, the live tasks, and the keys of the tasks
// (live or terminal, until forgotten), which flush() reads back and on_terminal() is handed (as
// Kernel::State passes its entry's key).
struct Tracker {
  detail::FlushTracker t;
  std::deque<Command> out;
  std::set<TaskId> live;
  std::map<TaskId, SequenceKey> keys;
  std::map<TaskId, detail::FlushClaim> claims;  // what the kernel keeps in a live task's entry
  std::uint64_t next_id = 0;  // the kernel's: above every id accepted so far
  std::vector<TaskId> taken;  // the kept errors the flushes took, in order

  void accept(TaskId id, const SequenceKey* key = nullptr) {
    if (key) {
      keys[id] = *key;
    } else {
      keys.erase(id);
    }
    live.insert(id);
    next_id = std::max(next_id, id.value + 1);
    t.on_accepted(id, key_of(id));
  }
  bool end(TaskId id, std::optional<std::string> error = std::nullopt) {  // true: its error is kept
    live.erase(id);
    const detail::FlushClaim claim = claims.count(id) ? claims[id] : 0;
    claims.erase(id);
    return t.on_terminal(id, std::move(error), key_of(id), claim, out);
  }
  void forget(TaskId id) { keys.erase(id); }  // the kernel dropped the terminal record
  FlushId flush(const FlushSelector& which) {
    const auto key = [this](TaskId id) { return key_of(id); };
    const auto claim = [this](TaskId id, detail::FlushClaim c) {
      EXPECT_TRUE(live.count(id)) << "only a live task is claimed";
      claims[id] = c;
    };
    const auto each_live_keyless = [this](const auto& f) {
      for (const TaskId id : live) {
        if (keys.count(id)) continue;
        if (const detail::FlushClaim c = f(id)) claims[id] = c;
      }
    };
    return t.flush(which, detail::FlushTasks{key, claim, each_live_keyless, TaskId{next_id}},
                   [this](TaskId id) { taken.push_back(id); }, out);
  }
  // The flush that waits for live task `id`, if one does.
  std::optional<FlushId> claimed_by(TaskId id) const {
    const auto it = claims.find(id);
    if (it == claims.end() || it->second == 0) return std::nullopt;
    return t.flush_of(it->second);
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
    const auto it = keys.find(id);
    return it == keys.end() ? nullptr : &it->second;
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
  EXPECT_EQ(k.t.kept_errors(), 0u);
  const FlushId after = k.flush(flush_selector::Scope{"actor"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{after, std::nullopt}})) << "nothing to wait for";
}

TEST(FlushTracker, SelectorsMatchScopePurposeOrBothAndKeylessOnlyMatchesAll) {
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  k.accept(TaskId{1}, &actor_relations);
  k.accept(TaskId{2}, &other_facts);
  k.accept(TaskId{3});

  const FlushId both = k.flush(flush_selector::ScopePurpose{"actor", "facts"});
  const FlushId purpose = k.flush(flush_selector::Purpose{"facts"});
  const FlushId scope = k.flush(flush_selector::Scope{"actor"});
  const FlushId nobody = k.flush(flush_selector::Scope{"nobody"});
  const FlushId all = k.flush(flush_selector::All{});
  EXPECT_EQ(k.claimed_by(TaskId{0}), both);
  EXPECT_EQ(k.claimed_by(TaskId{2}), purpose);
  EXPECT_EQ(k.claimed_by(TaskId{1}), scope);
  EXPECT_EQ(k.claimed_by(TaskId{3}), all) << "the keyless task is left for All";
  EXPECT_EQ(k.t.active(), 4u);  // four flushes wait, the one for "nobody" is done
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{nobody, std::nullopt}}));
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
  EXPECT_EQ(k.t.kept_errors(), 0u);
}

TEST(FlushTracker, ATaskAcceptedAgainWithoutAKeyIsOnlyTakenByAll) {
  // restore() accepts a task again; its key may be gone (a record written before the key existed).
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  k.accept(TaskId{0});  // now without its key
  const FlushId scoped = k.flush(flush_selector::Scope{"actor"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{scoped, std::nullopt}}));
  const FlushId all = k.flush(flush_selector::All{});
  EXPECT_TRUE(k.done().empty()) << "All waits for it";
  k.end(TaskId{0});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{all, std::nullopt}}));
}

TEST(FlushTracker, AKeylessTaskTakenByOneAllIsNotWaitedForByTheNextButOneSpawnedBetweenIs) {
  Tracker k;
  k.accept(TaskId{0});
  const FlushId first = k.flush(flush_selector::All{});
  k.accept(TaskId{1});
  const FlushId second = k.flush(flush_selector::All{});
  EXPECT_EQ(k.claimed_by(TaskId{0}), first);
  EXPECT_EQ(k.claimed_by(TaskId{1}), second);
  k.end(TaskId{1}, "second's");
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{second, std::string("second's")}}));
  k.end(TaskId{0});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{first, std::nullopt}}));
  k.accept(TaskId{2});
  EXPECT_TRUE(k.end(TaskId{2}, "after both")) << "spawned after every flush: unflushed, its error kept";
}

TEST(FlushTracker, AKeylessTaskRestoredBelowTheLastAllsIdsIsUnflushed) {
  // restore() brings back records with old ids, after flushes that took every id below them.
  Tracker k;
  k.accept(TaskId{10});
  k.end(TaskId{10});
  const FlushId all = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{all, std::nullopt}}));
  k.accept(TaskId{3});  // restored
  k.accept(TaskId{4});  // restored
  EXPECT_TRUE(k.end(TaskId{3}, "restored and failed")) << "no flush took it: the error is kept";
  const FlushId next = k.flush(flush_selector::All{});
  EXPECT_EQ(k.claimed_by(TaskId{4}), next);
  EXPECT_EQ(k.taken, (std::vector<TaskId>{TaskId{3}}));
  k.end(TaskId{4});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{next, std::string("restored and failed")}}));
  const FlushId last = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{last, std::nullopt}})) << "taken once";
}

TEST(FlushTracker, AKeylessTaskRestoredBelowTheLastAllsIdsAndAcceptedAgainWithAKeyIsKeyed) {
  Tracker k;
  k.accept(TaskId{10});
  k.end(TaskId{10});
  k.flush(flush_selector::All{});
  k.done();
  k.accept(TaskId{3});
  k.accept(TaskId{3}, &actor_facts);  // accepted again, now with its key
  const FlushId other = k.flush(flush_selector::Scope{"other"});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{other, std::nullopt}}));
  const FlushId actor = k.flush(flush_selector::Scope{"actor"});
  EXPECT_EQ(k.claimed_by(TaskId{3}), actor);
  const FlushId all = k.flush(flush_selector::All{});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{all, std::nullopt}})) << "taken by its scope's flush";
}

// A claim names a flush by its slot, which a later flush takes over once the flush that held it
// ended: a claim made before still names its own flush.
TEST(FlushTracker, AFlushSlotTakenOverByALaterFlushLeavesEarlierClaimsWithTheirOwnFlush) {
  const SequenceKey third{"agent", "third", "facts"};
  Tracker k;
  k.accept(TaskId{0}, &actor_facts);
  k.accept(TaskId{1}, &other_facts);
  const FlushId actor = k.flush(flush_selector::Scope{"actor"});
  const FlushId other = k.flush(flush_selector::Scope{"other"});
  k.end(TaskId{1}, "other failed");
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{other, std::string("other failed")}}));
  k.accept(TaskId{2}, &third);
  const FlushId later = k.flush(flush_selector::Scope{"third"});  // takes the slot `other` held
  EXPECT_EQ(k.claimed_by(TaskId{0}), actor);
  EXPECT_EQ(k.claimed_by(TaskId{2}), later);
  k.end(TaskId{0});
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{actor, std::nullopt}}));
  EXPECT_EQ(k.t.active(), 1u);
  k.end(TaskId{2}, "third failed");
  EXPECT_EQ(k.done(), (std::vector<command::FlushDone>{{later, std::string("third failed")}}));
  EXPECT_EQ(k.t.active(), 0u);
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
