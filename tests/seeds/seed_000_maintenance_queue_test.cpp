// Seed 000 (ai_agents_runtime maintenance.rs): the bounded background maintenance queue. Its two
// tests, ported to the sans-IO kernel: a finished task frees capacity yet its error surfaces at the
// next flush; a scope+purpose flush keeps unmatched tasks queued for a later flush_all.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::flush_dones;
using testkit::Harness;
using testkit::ms;
using testkit::started_ids;
using testkit::task;

// BackgroundMaintenanceQueue::new(n): capacity counts unfinished tasks.
Config queue_of(std::size_t max_tasks) {
  Config c;
  c.capacity = max_tasks;
  return c;
}

TaskSpec maintenance(std::optional<SequenceKey> key = std::nullopt) {
  TaskSpec spec = task("maintenance", "agent");
  spec.key = std::move(key);
  return spec;
}

TEST(Seed000MaintenanceQueue, FinishedTaskErrorSurfacesOnFlushAfterCapacityCheck) {
  Harness h(queue_of(1));
  const TaskId failing = h.spawn(maintenance(), ms(0));
  EXPECT_EQ(h.refuse(maintenance(), ms(1)).message, "queue is full (limit 1)") << "is_full while it runs";

  h.fail(failing, 1, ms(10), "background failed");
  EXPECT_LT(h.kernel.unfinished(), h.kernel.config().capacity) << "!queue.is_full(): a finished task frees room";

  const FlushId flush = h.kernel.flush(flush_selector::All{}, ms(11));
  const auto done = flush_dones(h.drain());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].flush, flush);
  ASSERT_TRUE(done[0].error.has_value());
  EXPECT_NE(done[0].error->find("background failed"), std::string::npos);
}

TEST(Seed000MaintenanceQueue, AFinishedTaskFreesRoomForTheNextSpawn) {
  Harness h(queue_of(1));
  const TaskId first = h.spawn(maintenance(), ms(0));
  h.fail(first, 1, ms(10), "background failed");
  const TaskId second = h.spawn(maintenance(), ms(11));  // accepted: the failed task is finished
  EXPECT_EQ(h.status(second), TaskStatus::Running);
  h.succeed(second, 1, ms(12));
  h.kernel.flush(flush_selector::All{}, ms(13));
  const auto done = flush_dones(h.drain());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error, "background failed") << "the error outlives the room it freed";
}

TEST(Seed000MaintenanceQueue, FlushScopePurposeKeepsUnmatchedTasks) {
  Harness h(queue_of(2));
  const TaskId facts = h.spawn(maintenance(testkit::key("actor", "PostTurnFacts")), ms(0));
  const TaskId relationship = h.spawn(maintenance(testkit::key("actor", "PostTurnRelationship")), ms(0));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{facts, relationship})) << "different keys overlap";

  const FlushId scoped = h.kernel.flush(flush_selector::ScopePurpose{"actor", "PostTurnFacts"}, ms(1));
  EXPECT_TRUE(flush_dones(h.drain()).empty());
  h.succeed(facts, 1, ms(2));  // async { Ok(()) }
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{scoped, std::nullopt}}));
  // queue.len() == 1: the relationship task is still tracked and still waiting for its release.
  EXPECT_EQ(h.kernel.unfinished(), 1u);
  EXPECT_EQ(h.status(relationship), TaskStatus::Running);

  const FlushId all = h.kernel.flush(flush_selector::All{}, ms(3));
  EXPECT_TRUE(flush_dones(h.drain()).empty()) << "flush_all waits for the kept task";
  h.succeed(relationship, 1, ms(4));  // release_tx.send(())
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{all, std::nullopt}}));

  // queue.is_empty(): nothing is left to wait for.
  EXPECT_EQ(h.kernel.unfinished(), 0u);
  const FlushId empty = h.kernel.flush(flush_selector::All{}, ms(5));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{empty, std::nullopt}}));
}

TEST(Seed000MaintenanceQueue, SameKeyRunsInSpawnOrderUnderTheSeedsLock) {
  Harness h(queue_of(4));
  const SequenceKey k = testkit::key("actor", "PostTurnFacts");
  const TaskId first = h.spawn(maintenance(k), ms(0));
  const TaskId second = h.spawn(maintenance(k), ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  h.succeed(first, 1, ms(1));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second});
}

TEST(Seed000MaintenanceQueue, FlushScopeAndFlushPurposeReportTheFirstError) {
  Harness h(queue_of(8));
  const TaskId a = h.spawn(maintenance(testkit::key("actor", "PostTurnFacts")), ms(0));
  const TaskId b = h.spawn(maintenance(testkit::key("actor", "PostTurnCompression")), ms(0));
  const TaskId c = h.spawn(maintenance(testkit::key("other", "PostTurnFacts")), ms(0));
  const FlushId scope = h.kernel.flush(flush_selector::Scope{"actor"}, ms(1));
  h.fail(b, 1, ms(2), "compression failed");
  h.fail(a, 1, ms(3), "facts failed");
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{scope, std::string("facts failed")}}));
  const FlushId purpose = h.kernel.flush(flush_selector::Purpose{"PostTurnFacts"}, ms(4));
  h.succeed(c, 1, ms(5));
  EXPECT_EQ(flush_dones(h.drain()), (std::vector<command::FlushDone>{{purpose, std::nullopt}}));
}

}  // namespace
}  // namespace tasklane
