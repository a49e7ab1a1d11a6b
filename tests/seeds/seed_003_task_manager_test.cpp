// Seed 003 (awaken BackgroundTaskManager): background tasks and sub-agents of an owner thread.
// The seed ships no tests of its own; these scenarios follow its documented behaviour: bg_N ids,
// reserved and duplicate names, parent context, the cancel family, list/get/has_running, typed
// send errors, terminal events to the owner, persisted metadata, and restore after a restart.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::cancels;
using testkit::delivers;
using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::persisted_snapshots;
using testkit::persists;
using testkit::task;

TaskSpec background(std::string owner, std::optional<std::string> name = std::nullopt) {
  TaskSpec spec = task("shell", std::move(owner));
  spec.name = std::move(name);
  spec.description = "a background task";
  spec.durable = true;  // the seed commits metadata for every task
  return spec;
}

TaskSpec sub_agent(std::string owner, std::optional<std::string> name = std::nullopt) {
  TaskSpec spec = background(std::move(owner), std::move(name));
  spec.kind = "sub_agent";
  spec.inbox = true;
  return spec;
}

Config roomy() {
  Config c;
  c.max_running = 16;
  return c;
}

TEST(Seed003TaskManager, IdsAreBgNInSpawnOrder) {
  Harness h(roomy());
  EXPECT_EQ(to_string(h.spawn(background("thread-1"), ms(0))), "bg_0");
  EXPECT_EQ(to_string(h.spawn(sub_agent("thread-1"), ms(0))), "bg_1");
  EXPECT_EQ(to_string(h.spawn(background("thread-2"), ms(0))), "bg_2");
}

TEST(Seed003TaskManager, ReservedNamesAreRefused) {
  Harness h(roomy());
  for (const char* name : {"parent", "self", "all", "broadcast"}) {
    const SpawnError e = h.refuse(sub_agent("thread-1", name), ms(0));
    EXPECT_EQ(e.code, SpawnErrorCode::ReservedName);
    EXPECT_EQ(e.message, std::string("'") + name + "' is a reserved name");
  }
}

TEST(Seed003TaskManager, NoTwoLiveTasksOfOneOwnerShareAName) {
  Harness h(roomy());
  const TaskId first = h.spawn(sub_agent("thread-1", "researcher"), ms(0));
  const SpawnError e = h.refuse(sub_agent("thread-1", "researcher"), ms(1));
  EXPECT_EQ(e.code, SpawnErrorCode::DuplicateName);
  EXPECT_EQ(e.message, "a running task named 'researcher' already exists");
  h.spawn(sub_agent("thread-2", "researcher"), ms(1));  // another owner
  h.fail(first, 1, ms(2), "gave up");
  h.spawn(sub_agent("thread-1", "researcher"), ms(3));  // the first is terminal now
}

TEST(Seed003TaskManager, ParentContextIsRecordedOnTheTask) {
  Harness h(roomy());
  const TaskId parent = h.spawn(sub_agent("thread-1"), ms(0));
  TaskSpec spec = background("thread-1");
  spec.parent = ParentContext{parent, std::string("run-7"), std::string("call-3"), std::string("planner")};
  const TaskId child = h.spawn(spec, ms(1));
  const std::optional<TaskInfo> info = h.kernel.get(child);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->spec.parent.task, parent);
  EXPECT_EQ(info->spec.parent.run, "run-7");
  EXPECT_EQ(info->spec.parent.call, "call-3");
  EXPECT_EQ(info->spec.parent.agent, "planner");
}

TEST(Seed003TaskManager, TerminalEventsReachTheOwnerWithStatusResultAndError) {
  Harness h(roomy());
  const TaskId ok = h.spawn(background("thread-1"), ms(0));
  const TaskId bad = h.spawn(background("thread-1"), ms(0));
  const TaskId stopped = h.spawn(background("thread-2"), ms(0));
  h.drain();
  h.succeed(ok, 1, ms(1), Json{{"exit", 0}});
  h.fail(bad, 1, ms(2), "exit status 1");
  EXPECT_TRUE(h.kernel.cancel(stopped, ms(3)));
  h.succeed(stopped, 1, ms(4));
  EXPECT_EQ(notifies(h.drain()), (std::vector<command::Notify>{
                                     {"thread-1", ok, TaskStatus::Completed, Json{{"exit", 0}}, std::nullopt, std::nullopt},
                                     {"thread-1", bad, TaskStatus::Failed, nullptr, std::string("exit status 1"), std::nullopt},
                                     {"thread-2", stopped, TaskStatus::Cancelled, nullptr, std::nullopt, std::nullopt},
                                 }));
}

TEST(Seed003TaskManager, MetadataIsPersistedAtSpawnAndAtCompletion) {
  Harness h(roomy());
  const TaskId id = h.spawn(background("thread-1", "builder"), ms(0));
  h.succeed(id, 1, ms(9), Json{{"artifact", "a.out"}});
  h.drain();
  const auto records = persists(h.log);
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records.front().record.spec.name, "builder");
  EXPECT_EQ(records.front().record.spec.description, "a background task");
  EXPECT_EQ(records.front().record.created_at, ms(0));
  EXPECT_EQ(records.back().record.status, TaskStatus::Completed);
  EXPECT_EQ(records.back().record.finished_at, ms(9));
  EXPECT_EQ(records.back().record.result, (Json{{"artifact", "a.out"}}));
}

TEST(Seed003TaskManager, CancelIsTrueOnceAndFalseOnATerminalTask) {
  Harness h(roomy());
  const TaskId id = h.spawn(background("thread-1"), ms(0));
  EXPECT_TRUE(h.kernel.cancel(id, ms(1)));
  h.succeed(id, 1, ms(2));
  EXPECT_FALSE(h.kernel.cancel(id, ms(3)));
  EXPECT_FALSE(h.kernel.cancel(TaskId{100}, ms(3)));
}

TEST(Seed003TaskManager, CancelTreeCountsTheLiveTasksOfTheTree) {
  Harness h(roomy());
  const TaskId root = h.spawn(sub_agent("thread-1"), ms(0));
  TaskSpec child = sub_agent("thread-1");
  child.parent.task = root;
  const TaskId c1 = h.spawn(child, ms(0));
  const TaskId c2 = h.spawn(child, ms(0));
  TaskSpec grandchild = background("thread-1");
  grandchild.parent.task = c1;
  h.spawn(grandchild, ms(0));
  h.succeed(c2, 1, ms(1));
  EXPECT_EQ(h.kernel.abort(abort_selector::Tree{root}, ms(2)), 3u);
}

TEST(Seed003TaskManager, CancelAllCountsTheOwnersLiveTasks) {
  Harness h(roomy());
  h.spawn(background("thread-1"), ms(0));
  h.spawn(sub_agent("thread-1"), ms(0));
  const TaskId done = h.spawn(background("thread-1"), ms(0));
  h.spawn(background("thread-2"), ms(0));
  h.succeed(done, 1, ms(1));
  EXPECT_EQ(h.kernel.abort(abort_selector::Owner{"thread-1"}, ms(2)), 2u);
  EXPECT_TRUE(h.kernel.has_running("thread-2"));
}

TEST(Seed003TaskManager, CancelDescendantsForRunCancelsTheTreesItsToolsSpawned) {
  Harness h(roomy());
  TaskSpec from_run = sub_agent("thread-1");
  from_run.parent.run = "run-1";
  const TaskId root = h.spawn(from_run, ms(0));
  TaskSpec nested = background("thread-1");
  nested.parent.task = root;
  h.spawn(nested, ms(0));
  TaskSpec elsewhere = sub_agent("thread-1");
  elsewhere.parent.run = "run-2";
  const TaskId other = h.spawn(elsewhere, ms(0));
  EXPECT_EQ(h.kernel.abort(abort_selector::Run{"run-1"}, ms(1)), 2u);
  EXPECT_FALSE(h.kernel.get(other)->cancel_requested);
}

TEST(Seed003TaskManager, ListGetAndHasRunning) {
  Harness h(roomy());
  const TaskId a = h.spawn(background("thread-1"), ms(0));
  const TaskId b = h.spawn(background("thread-1"), ms(0));
  h.spawn(background("thread-2"), ms(0));
  EXPECT_EQ(h.kernel.list("thread-1").size(), 2u);
  EXPECT_EQ(h.kernel.get(a)->spec.kind, "shell");
  EXPECT_TRUE(h.kernel.has_running("thread-1"));
  h.succeed(a, 1, ms(1));
  h.succeed(b, 1, ms(1));
  EXPECT_FALSE(h.kernel.has_running("thread-1"));
  EXPECT_EQ(h.kernel.list("thread-1").size(), 2u);
  EXPECT_EQ(h.kernel.list("thread-1")[0].status, TaskStatus::Completed);
}

TEST(Seed003TaskManager, SendErrorsFollowTheSeedsChecks) {
  Harness h(roomy());
  auto code = [&](TaskId to, std::string from) {
    const auto r = h.kernel.send(to, std::move(from), Json{{"from", "planner"}, {"content", "hi"}}, ms(10));
    EXPECT_FALSE(r.has_value());
    return r ? SendErrorCode::TaskNotFound : r.error().code;
  };
  const TaskId agent = h.spawn(sub_agent("thread-1"), ms(0));
  const TaskId shell = h.spawn(background("thread-1"), ms(0));
  EXPECT_EQ(code(TaskId{50}, "thread-1"), SendErrorCode::TaskNotFound);
  EXPECT_EQ(code(agent, "thread-2"), SendErrorCode::NotOwner);
  EXPECT_EQ(code(shell, "thread-1"), SendErrorCode::NoInbox);
  EXPECT_TRUE(h.kernel.cancel(agent, ms(5)));
  EXPECT_EQ(code(agent, "thread-1"), SendErrorCode::InboxClosed);
  h.succeed(agent, 1, ms(6));
  EXPECT_EQ(code(agent, "thread-1"), SendErrorCode::TaskTerminated);
}

TEST(Seed003TaskManager, AMessageReachesTheSubAgent) {
  Harness h(roomy());
  const TaskId agent = h.spawn(sub_agent("thread-1", "worker"), ms(0));
  h.drain();
  const Json message{{"from", "planner"}, {"content", "check the logs"}};
  ASSERT_TRUE(h.kernel.send(agent, "thread-1", message, ms(1)).has_value());
  EXPECT_EQ(delivers(h.drain()), (std::vector<command::Deliver>{{agent, 1, "thread-1", message}}));
}

TEST(Seed003TaskManager, RestoreMarksRunningTasksOrphanedAndMovesTheCounterPast) {
  Harness before(roomy());
  const TaskId running = before.spawn(sub_agent("thread-1", "worker"), ms(0));
  const TaskId finished = before.spawn(background("thread-1"), ms(0));
  before.succeed(finished, 1, ms(1), "ok");
  const Snapshot crashed = before.kernel.snapshot();  // the runtime dies here

  Harness after(roomy());
  after.kernel.restore(crashed, ms(100));
  after.drain();
  EXPECT_EQ(after.status(running), TaskStatus::Failed);
  EXPECT_EQ(after.kernel.get(running)->error, "task orphaned: runtime restarted while running");
  EXPECT_EQ(after.status(finished), TaskStatus::Completed);
  EXPECT_EQ(after.kernel.get(finished)->result, "ok");
  EXPECT_FALSE(after.kernel.has_running("thread-1"));
  const TaskId next = after.spawn(sub_agent("thread-1", "worker"), ms(101));  // the name is free again
  EXPECT_EQ(next, TaskId{2});
  EXPECT_EQ(cancels(after.log).size(), 0u);
  EXPECT_EQ(persisted_snapshots(after.log).size(), 0u);
}

}  // namespace
}  // namespace tasklane
