// A task's life through the kernel: ids, names, parent context, the Start/Notify/Persist commands,
// and the reads (get, list, has_running).
#include <gtest/gtest.h>

#include <map>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::persists;
using testkit::starts;
using testkit::task;

TEST(KernelLifecycle, IdsAreBgNumbersInSpawnOrder) {
  Harness h;
  EXPECT_EQ(to_string(h.spawn(task(), ms(0))), "bg_0");
  EXPECT_EQ(to_string(h.spawn(task(), ms(0))), "bg_1");
  EXPECT_EQ(to_string(h.spawn(task("other", "bob"), ms(0))), "bg_2");
  EXPECT_EQ(parse_task_id("bg_2"), TaskId{2});
  EXPECT_EQ(parse_task_id("bg_02"), std::nullopt);
  EXPECT_EQ(parse_task_id("task_2"), std::nullopt);
}

TEST(KernelLifecycle, StartCarriesKindPayloadAttemptAndInbox) {
  Harness h;
  TaskSpec spec = task("summarize");
  spec.payload = Json{{"turn", 12}};
  spec.inbox = true;
  const TaskId id = h.spawn(spec, ms(3));
  const auto out = h.drain();
  ASSERT_EQ(out.size(), 1u) << "a non-durable spawn emits only its Start";
  EXPECT_EQ(std::get<command::Start>(out[0]),
            (command::Start{id, 1, "summarize", Json{{"turn", 12}}, std::nullopt, true}));
  const std::optional<TaskInfo> info = h.kernel.get(id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, TaskStatus::Running);
  EXPECT_EQ(info->attempt, 1u);
  EXPECT_EQ(info->created_at, ms(3));
  EXPECT_EQ(h.kernel.stats().started, 1u);
}

// glance() reads what get() would copy, for the fields a driver follows per command.
TEST(KernelLifecycle, AGlanceAgreesWithTheRecordThroughATasksLife) {
  Harness h;
  EXPECT_FALSE(h.kernel.glance(TaskId{0}).has_value());
  TaskSpec spec = task("summarize", "alice");
  spec.priority = Priority::High;
  spec.run_after = ms(5);
  spec.heartbeat = ms(50);
  const TaskId id = h.spawn(spec, ms(1));
  const auto same = [&] {
    const auto g = h.kernel.glance(id);
    const auto info = h.kernel.get(id);
    ASSERT_TRUE(g.has_value());
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(g->kind, info->spec.kind);
    EXPECT_EQ(g->owner, info->spec.owner);
    EXPECT_EQ(g->status, info->status);
    EXPECT_EQ(g->priority, info->spec.priority);
    EXPECT_EQ(g->attempt, info->attempt);
    EXPECT_EQ(g->due, info->due);
    EXPECT_EQ(g->heartbeat, info->spec.heartbeat);
  };
  same();
  EXPECT_EQ(h.kernel.glance(id)->status, TaskStatus::Pending);
  EXPECT_EQ(h.kernel.glance(id)->due, ms(6));
  h.tick(ms(6));
  same();
  EXPECT_EQ(h.kernel.glance(id)->status, TaskStatus::Running);
  EXPECT_EQ(h.kernel.glance(id)->attempt, 1u);
  h.succeed(id, 1, ms(7));
  same();
  EXPECT_EQ(h.kernel.glance(id)->status, TaskStatus::Completed);
}

TEST(KernelLifecycle, SuccessNotifiesTheOwnerOnceWithTheResult) {
  Harness h;
  const TaskId id = h.spawn(task("work", "alice"), ms(0));
  h.drain();
  h.succeed(id, 1, ms(7), Json{{"summary", "done"}});
  const auto out = h.drain();
  EXPECT_EQ(notifies(out),
            (std::vector<command::Notify>{{"alice", id, TaskStatus::Completed, Json{{"summary", "done"}}, std::nullopt, std::nullopt}}));
  EXPECT_EQ(h.kernel.get(id)->finished_at, ms(7));
  h.succeed(id, 1, ms(8));  // a duplicate completion
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(h.kernel.stats().ignored_completions, 1u);
}

TEST(KernelLifecycle, EveryTerminalPathNotifiesExactlyOnce) {
  Config config;
  config.max_running = 3;
  Harness h(config);
  TaskSpec timed = task();
  timed.timeout = ms(10);
  TaskSpec delayed = task();
  delayed.run_after = ms(100);
  const TaskId ok = h.spawn(task(), ms(0));
  const TaskId failed = h.spawn(task(), ms(0));
  const TaskId timed_out = h.spawn(timed, ms(0));
  const TaskId cancelled_pending = h.spawn(delayed, ms(0));
  const TaskId cancelled_running = h.spawn(task(), ms(0));  // starts once a slot frees

  h.succeed(ok, 1, ms(1));
  EXPECT_TRUE(h.kernel.cancel(cancelled_running, ms(2)));  // running by now
  h.fail(failed, 1, ms(3), "broken");
  h.tick(ms(10));
  EXPECT_TRUE(h.kernel.cancel(cancelled_pending, ms(11)));
  h.succeed(cancelled_running, 1, ms(12));
  h.tick(ms(1000));
  h.succeed(timed_out, 1, ms(1001));
  h.drain();

  std::map<TaskId, std::vector<TaskStatus>> seen;
  for (const auto& n : notifies(h.log)) seen[n.id].push_back(n.status);
  EXPECT_EQ(seen, (std::map<TaskId, std::vector<TaskStatus>>{
                      {ok, {TaskStatus::Completed}},
                      {failed, {TaskStatus::Failed}},
                      {timed_out, {TaskStatus::TimedOut}},
                      {cancelled_pending, {TaskStatus::Cancelled}},
                      {cancelled_running, {TaskStatus::Cancelled}},
                  }));
  EXPECT_EQ(h.kernel.unfinished(), 0u);
  EXPECT_EQ(h.kernel.running(), 0u);
}

TEST(KernelLifecycle, DurableTasksPersistEveryChange) {
  Harness h;
  TaskSpec spec = task();
  spec.durable = true;
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = ms(5);
  const TaskId id = h.spawn(spec, ms(0));
  h.fail(id, 1, ms(1), "flaky");
  h.tick(ms(6));
  h.succeed(id, 2, ms(7), Json{{"n", 1}});
  h.drain();

  std::vector<std::pair<TaskStatus, std::uint32_t>> steps;
  for (const auto& p : persists(h.log)) steps.emplace_back(p.record.status, p.record.attempt);
  EXPECT_EQ(steps, (std::vector<std::pair<TaskStatus, std::uint32_t>>{
                       {TaskStatus::Pending, 0},  // accepted
                       {TaskStatus::Running, 1},
                       {TaskStatus::Pending, 1},  // waiting for its retry
                       {TaskStatus::Running, 2},
                       {TaskStatus::Completed, 2},
                   }));
  EXPECT_EQ(persists(h.log).back().record, *h.kernel.get(id)) << "the last record is the task as it is";
  EXPECT_EQ(persists(h.log)[2].record.error, "flaky");
}

TEST(KernelLifecycle, DurablePersistComesBeforeTheStartItAcknowledges) {
  Harness h;
  TaskSpec spec = task();
  spec.durable = true;
  h.spawn(spec, ms(0));
  const auto out = h.drain();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<command::Persist>(out[0]));
  EXPECT_TRUE(std::holds_alternative<command::Start>(out[1]));
  EXPECT_TRUE(std::holds_alternative<command::Persist>(out[2]));
}

TEST(KernelLifecycle, DurableCancelRequestIsPersisted) {
  Harness h;
  TaskSpec spec = task();
  spec.durable = true;
  const TaskId id = h.spawn(spec, ms(0));
  h.drain();
  EXPECT_TRUE(h.kernel.cancel(id, ms(1)));
  const auto out = persists(h.drain());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].record.cancel_requested);
  EXPECT_EQ(out[0].record.status, TaskStatus::Running);
}

TEST(KernelLifecycle, NonDurableTasksPersistNothing) {
  Harness h;
  const TaskId id = h.spawn(task(), ms(0));
  h.fail(id, 1, ms(1), "x");
  h.drain();
  EXPECT_TRUE(persists(h.log).empty());
}

TEST(KernelLifecycle, ReservedNamesAreRefused) {
  Harness h;
  for (const char* name : {"parent", "self", "all", "broadcast"}) {
    TaskSpec spec = task();
    spec.name = name;
    const SpawnError e = h.refuse(spec, ms(0));
    EXPECT_EQ(e.code, SpawnErrorCode::ReservedName) << name;
    EXPECT_EQ(e.message, std::string("'") + name + "' is a reserved name");
  }
  TaskSpec fine = task();
  fine.name = "parents";
  h.spawn(fine, ms(0));
}

TEST(KernelLifecycle, ALiveNameIsUniquePerOwnerOnly) {
  Harness h;
  TaskSpec spec = task("work", "alice");
  spec.name = "researcher";
  const TaskId first = h.spawn(spec, ms(0));
  EXPECT_EQ(h.refuse(spec, ms(1)).code, SpawnErrorCode::DuplicateName);

  TaskSpec bobs = spec;
  bobs.owner = "bob";
  h.spawn(bobs, ms(2));  // another owner may use the name

  h.succeed(first, 1, ms(3));
  const TaskId second = h.spawn(spec, ms(4));  // the first is terminal
  EXPECT_NE(second, first);
  EXPECT_EQ(h.refuse(spec, ms(5)).code, SpawnErrorCode::DuplicateName);
}

TEST(KernelLifecycle, APendingTaskHoldsItsName) {
  Harness h;
  TaskSpec spec = task();
  spec.name = "later";
  spec.run_after = seconds(5);
  const TaskId id = h.spawn(spec, ms(0));
  EXPECT_EQ(h.refuse(spec, ms(1)).code, SpawnErrorCode::DuplicateName);
  EXPECT_TRUE(h.kernel.cancel(id, ms(2)));
  h.spawn(spec, ms(3));
}

TEST(KernelLifecycle, ParentContextIsKept) {
  Harness h;
  const TaskId parent = h.spawn(task(), ms(0));
  TaskSpec child = task("sub_agent");
  child.parent = ParentContext{parent, std::string("run-1"), std::string("call-9"), std::string("planner")};
  const TaskId id = h.spawn(child, ms(1));
  EXPECT_EQ(h.kernel.get(id)->spec.parent, child.parent);
}

TEST(KernelLifecycle, ParentMustBeAKnownTask) {
  Harness h;
  TaskSpec child = task();
  child.parent.task = TaskId{0};
  const SpawnError e = h.refuse(child, ms(0));
  EXPECT_EQ(e.code, SpawnErrorCode::UnknownParent);
  EXPECT_EQ(e.message, "parent task bg_0 does not exist");
  const TaskId parent = h.spawn(task(), ms(0));
  h.succeed(parent, 1, ms(1));
  h.spawn(child, ms(2));  // a finished parent is still known
}

TEST(KernelLifecycle, ListGetAndHasRunningAreByOwner) {
  Harness h;
  const TaskId a = h.spawn(task("work", "alice"), ms(0));
  const TaskId b = h.spawn(task("work", "bob"), ms(0));
  const TaskId c = h.spawn(task("work", "alice"), ms(0));
  auto ids = [](const std::vector<TaskInfo>& list) {
    std::vector<TaskId> out;
    for (const auto& i : list) out.push_back(i.id);
    return out;
  };
  EXPECT_EQ(ids(h.kernel.list("alice")), (std::vector<TaskId>{a, c}));
  EXPECT_EQ(ids(h.kernel.list("bob")), std::vector<TaskId>{b});
  EXPECT_TRUE(h.kernel.list("carol").empty());
  EXPECT_FALSE(h.kernel.get(TaskId{99}).has_value());

  EXPECT_TRUE(h.kernel.has_running("alice"));
  h.succeed(a, 1, ms(1));
  EXPECT_TRUE(h.kernel.has_running("alice"));
  h.fail(c, 1, ms(2), "x");
  EXPECT_FALSE(h.kernel.has_running("alice"));
  EXPECT_EQ(ids(h.kernel.list("alice")), (std::vector<TaskId>{a, c})) << "finished tasks are still listed";
  EXPECT_TRUE(h.kernel.has_running("bob"));
  EXPECT_FALSE(h.kernel.has_running("carol"));
}

TEST(KernelLifecycle, OnlyTheNewestFinishedTasksAreRetained) {
  Config config;
  config.retained_terminal = 2;
  Harness h(config);
  std::vector<TaskId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(h.spawn(task(), ms(0)));
  for (int i = 0; i < 3; ++i) h.succeed(ids[static_cast<std::size_t>(i)], 1, ms(1 + i));
  EXPECT_FALSE(h.kernel.get(ids[0]).has_value());
  EXPECT_TRUE(h.kernel.get(ids[1]).has_value());
  EXPECT_TRUE(h.kernel.get(ids[2]).has_value());
  EXPECT_TRUE(h.kernel.get(ids[3]).has_value()) << "an unfinished task is never forgotten";
  EXPECT_EQ(h.kernel.list("alice").size(), 3u);
}

}  // namespace
}  // namespace tasklane
