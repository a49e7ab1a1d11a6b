// Dependencies (TaskSpec::after): a waiter becomes ready once every dependency is terminal; with
// AllSucceeded a failed, timed-out or cancelled dependency ends it with a reason naming the
// dependency; spawn refuses ids that could close a cycle, forgotten ids and too many ids.
#include <gtest/gtest.h>

#include <algorithm>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::started_ids;
using testkit::task;

TaskSpec after(std::vector<TaskId> deps, DependencyMode mode = DependencyMode::AllSucceeded) {
  TaskSpec spec = task("step");
  spec.after = std::move(deps);
  spec.after_mode = mode;
  return spec;
}

Config wide() {
  Config config;
  config.max_running = 8;
  return config;
}

TEST(KernelDependency, AWaiterStartsOnlyOnceEveryDependencyCompleted) {
  Harness h(wide());
  const TaskId fetch = h.spawn(task("fetch"), ms(0));
  const TaskId parse = h.spawn(task("parse"), ms(0));
  const TaskId index = h.spawn(after({fetch, parse}), ms(0));
  EXPECT_EQ(started_ids(h.drain()), (std::vector<TaskId>{fetch, parse}));
  EXPECT_EQ(h.kernel.get(index)->waiting_for, (std::vector<TaskId>{fetch, parse}));
  h.succeed(fetch, 1, ms(5));
  EXPECT_TRUE(started_ids(h.drain()).empty()) << "parse is still running";
  EXPECT_EQ(h.kernel.get(index)->waiting_for, std::vector<TaskId>{parse});
  h.succeed(parse, 1, ms(7));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{index});
  EXPECT_TRUE(h.kernel.get(index)->waiting_for.empty());
}

TEST(KernelDependency, AFailedDependencyFailsAnAllSucceededWaiterWithItsError) {
  Harness h(wide());
  const TaskId fetch = h.spawn(task("fetch"), ms(0));
  const TaskId index = h.spawn(after({fetch}), ms(0));
  h.drain();
  h.fail(fetch, 1, ms(3), "HTTP 500", false);
  const auto n = notifies(h.drain());
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[1].id, index);
  EXPECT_EQ(n[1].status, TaskStatus::Failed);
  EXPECT_EQ(n[1].error, std::optional<std::string>("dependency bg_0 failed: HTTP 500"));
  EXPECT_EQ(h.kernel.get(index)->attempt, 0u) << "it never ran";
}

TEST(KernelDependency, ATimedOutDependencyFailsTheWaiterAndACancelledOneCancelsIt) {
  Harness h(wide());
  TaskSpec slow = task("slow");
  slow.timeout = ms(10);
  const TaskId a = h.spawn(slow, ms(0));
  const TaskId b = h.spawn(task("b"), ms(0));
  const TaskId on_a = h.spawn(after({a}), ms(0));
  const TaskId on_b = h.spawn(after({b}), ms(0));
  h.drain();
  h.tick(ms(10));
  EXPECT_EQ(h.status(on_a), TaskStatus::Failed);
  EXPECT_EQ(h.kernel.get(on_a)->error, std::optional<std::string>("dependency bg_0 timed out: timed out after 10 ms"));
  h.kernel.cancel(b, ms(11));
  h.succeed(b, 1, ms(12));  // the work returns after its Cancel
  EXPECT_EQ(h.status(on_b), TaskStatus::Cancelled);
  EXPECT_EQ(h.kernel.get(on_b)->error, std::optional<std::string>("dependency bg_1 was cancelled"));
}

TEST(KernelDependency, AllFinishedTakesAnyOutcome) {
  Harness h(wide());
  const TaskId a = h.spawn(task("a"), ms(0));
  const TaskId cleanup = h.spawn(after({a}, DependencyMode::AllFinished), ms(0));
  h.drain();
  h.fail(a, 1, ms(1), "boom", false);
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{cleanup});
}

TEST(KernelDependency, ARetriedDependencyKeepsTheWaiterWaitingForItsFinalOutcome) {
  Harness h(wide());
  TaskSpec flaky = task("flaky");
  flaky.retry.max_attempts = 3;
  flaky.retry.initial_backoff = ms(10);
  const TaskId dep = h.spawn(flaky, ms(0));
  const TaskId waiter = h.spawn(after({dep}), ms(0));
  h.drain();
  h.fail(dep, 1, ms(1), "429");
  EXPECT_TRUE(notifies(h.drain()).empty()) << "a retry is not an end";
  EXPECT_EQ(h.status(waiter), TaskStatus::Pending);
  h.tick(ms(11));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{dep});
  h.fail(dep, 2, ms(12), "429");
  h.tick(ms(40));
  h.drain();
  h.succeed(dep, 3, ms(41));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{waiter});
}

TEST(KernelDependency, FailureRunsDownAChainWithEachReasonNamingItsDependency) {
  Harness h(wide());
  const TaskId a = h.spawn(task("a"), ms(0));
  const TaskId b = h.spawn(after({a}), ms(0));
  const TaskId c = h.spawn(after({b}), ms(0));
  h.drain();
  h.fail(a, 1, ms(1), "boom", false);
  EXPECT_EQ(h.kernel.get(c)->error, std::optional<std::string>("dependency bg_1 failed: dependency bg_0 failed: boom"));
  EXPECT_EQ(testkit::notified_ids(h.drain()), (std::vector<TaskId>{a, b, c}));
}

TEST(KernelDependency, ALongChainEndsWithoutDeepRecursion) {
  Config config = wide();
  config.capacity = 100000;
  Harness h(config);
  TaskId last = h.spawn(task("root"), ms(0));
  for (int i = 0; i < 50000; ++i) last = h.spawn(after({last}), ms(0));
  h.drain();
  h.kernel.cancel(TaskId{0}, ms(1));
  h.succeed(TaskId{0}, 1, ms(2));
  EXPECT_EQ(h.status(last), TaskStatus::Cancelled);
  EXPECT_EQ(h.kernel.unfinished(), 0u);
}

TEST(KernelDependency, ADependencyAlreadyOverIsTakenAtSpawn) {
  Harness h(wide());
  const TaskId ok = h.spawn(task("ok"), ms(0));
  const TaskId bad = h.spawn(task("bad"), ms(0));
  h.drain();
  h.succeed(ok, 1, ms(1));
  h.fail(bad, 1, ms(1), "nope", false);
  h.drain();
  const TaskId ready = h.spawn(after({ok}), ms(2));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{ready});
  TaskSpec durable = after({ok, bad});
  durable.durable = true;
  const TaskId doomed = h.spawn(durable, ms(3));
  const auto out = h.drain();
  const auto n = notifies(out);
  ASSERT_EQ(n.size(), 1u) << "accepted, and ended at once with the reason";
  EXPECT_EQ(n[0].id, doomed);
  EXPECT_EQ(n[0].error, std::optional<std::string>("dependency bg_1 failed: nope"));
  const auto records = std::count_if(out.begin(), out.end(), [&](const Command& c) {
    const auto* p = std::get_if<command::Persist>(&c);
    return p && p->record.id == doomed;
  });
  EXPECT_EQ(records, 1) << "one record, the final one";
}

TEST(KernelDependency, EachWayToWriteACycleIsRefused) {
  Harness h;
  EXPECT_EQ(h.refuse(after({TaskId{0}}), ms(0)).code, SpawnErrorCode::DependencyCycle) << "on itself";
  const TaskId a = h.spawn(task(), ms(0));
  EXPECT_EQ(h.refuse(after({a, TaskId{1}}), ms(0)).code, SpawnErrorCode::DependencyCycle) << "on itself, beside another";
  EXPECT_EQ(h.refuse(after({TaskId{2}}), ms(0)).code, SpawnErrorCode::DependencyCycle) << "on a later task";
  // a -> b -> a cannot be written: b would need a to name b before b exists.
  const TaskId b = h.spawn(after({a}), ms(0));
  EXPECT_EQ(b, TaskId{1});
  EXPECT_EQ(h.refuse(after({b, TaskId{5}}), ms(0)).message,
            "dependency bg_5 does not exist yet: dependencies must already exist, so that no cycle can form");
  EXPECT_EQ(h.kernel.stats().refused, 4u);
}

TEST(KernelDependency, AForgottenDependencyIsRefusedAsUnknown) {
  Config config;
  config.retained_terminal = 1;
  Harness h(config);
  const TaskId old = h.spawn(task(), ms(0));
  h.succeed(old, 1, ms(1));
  const TaskId newer = h.spawn(task(), ms(2));
  h.succeed(newer, 1, ms(3));
  ASSERT_FALSE(h.kernel.get(old).has_value());
  EXPECT_EQ(h.refuse(after({old}), ms(4)),
            (SpawnError{SpawnErrorCode::UnknownDependency,
                        "dependency bg_0 is no longer known (it finished and was forgotten, or it was not durable "
                        "and a restart lost it): its outcome is unknown"}));
  h.spawn(after({newer}), ms(5));  // still retained: fine
}

TEST(KernelDependency, TooManyDependenciesAreRefusedAndDuplicatesCountOnce) {
  Config config = wide();
  config.max_dependencies = 2;
  Harness h(config);
  const TaskId a = h.spawn(task(), ms(0));
  const TaskId b = h.spawn(task(), ms(0));
  const TaskId c = h.spawn(task(), ms(0));
  EXPECT_EQ(h.refuse(after({a, b, c}), ms(0)).code, SpawnErrorCode::TooManyDependencies);
  const TaskId w = h.spawn(after({a, b, a, b}), ms(0));
  EXPECT_EQ(h.kernel.get(w)->waiting_for, (std::vector<TaskId>{a, b}));
}

TEST(KernelDependency, AWaiterKeepsItsPlaceInItsLaneAndHoldsTheTasksBehindIt) {
  Harness h(wide());
  const TaskId dep = h.spawn(task("dep"), ms(0));
  TaskSpec first = after({dep});
  first.key = testkit::key("s1", "facts");
  const TaskId waiter = h.spawn(first, ms(0));
  TaskSpec second = task("later");
  second.key = first.key;
  const TaskId behind = h.spawn(second, ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{dep}) << "the lane keeps spawn order: behind waits";
  h.succeed(dep, 1, ms(1));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{waiter});
  h.succeed(waiter, 1, ms(2));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{behind});
}

TEST(KernelDependency, CancellingATreeCancelsWaitersOfItsTasksAndCountsOnlyTheSelected) {
  Harness h(wide());
  const TaskId root = h.spawn(task("root"), ms(0));
  TaskSpec child = task("child");
  child.parent.task = root;
  child.run_after = ms(100);
  const TaskId kid = h.spawn(child, ms(0));
  TaskSpec waiter_in_tree = after({kid});
  waiter_in_tree.parent.task = root;
  const TaskId in_tree = h.spawn(waiter_in_tree, ms(0));
  const TaskId outside = h.spawn(after({kid}), ms(0));
  h.drain();
  EXPECT_EQ(h.kernel.abort(abort_selector::Tree{root}, ms(1)), 3u) << "root, kid and the waiter in the tree";
  EXPECT_EQ(h.status(in_tree), TaskStatus::Cancelled);
  EXPECT_EQ(h.status(outside), TaskStatus::Cancelled) << "its dependency was cancelled";
  EXPECT_EQ(h.kernel.get(outside)->error, std::optional<std::string>("dependency bg_1 was cancelled"));
}

TEST(KernelDependency, AFlushOfAWaiterEndsWhenItsDependencyOutsideTheScopeEnds) {
  Harness h(wide());
  const TaskId outside = h.spawn(task("outside"), ms(0));
  TaskSpec scoped = after({outside});
  scoped.key = testkit::key("s1", "p1");
  const TaskId waiter = h.spawn(scoped, ms(0));
  h.drain();
  const FlushId flush = h.kernel.flush(flush_selector::Scope{"s1"}, ms(1));
  EXPECT_TRUE(testkit::flush_dones(h.drain()).empty());
  h.succeed(outside, 1, ms(2));
  h.drain();
  h.succeed(waiter, 1, ms(3));
  const auto done = testkit::flush_dones(h.drain());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].flush, flush);
}

TEST(KernelDependency, AShutdownDrainDoesNotWaitForWaitersAndKeepsThemPending) {
  Harness h(wide());
  TaskSpec durable_dep = task("dep");
  durable_dep.durable = true;
  const TaskId dep = h.spawn(durable_dep, ms(0));
  TaskSpec w = after({dep});
  w.durable = true;
  const TaskId waiter = h.spawn(w, ms(0));
  h.drain();
  h.kernel.shutdown(ShutdownMode::Drain, ms(1));
  EXPECT_EQ(testkit::stops(h.drain()), 0u) << "dep still runs";
  h.succeed(dep, 1, ms(2));
  const auto out = h.drain();
  EXPECT_EQ(testkit::stops(out), 1u);
  EXPECT_TRUE(started_ids(out).empty());
  EXPECT_EQ(h.status(waiter), TaskStatus::Pending);
  EXPECT_TRUE(h.kernel.get(waiter)->waiting_for.empty()) << "ready, but nothing starts after shutdown";
}

TEST(KernelDependency, DurableWaitersRelinkAtRestoreAndALostDependencyEndsThem) {
  Harness h(wide());
  TaskSpec durable = task("dep");
  durable.durable = true;
  const TaskId kept = h.spawn(durable, ms(0));
  const TaskId volatile_dep = h.spawn(task("volatile"), ms(0));
  TaskSpec w = after({kept});
  w.durable = true;
  const TaskId relinks = h.spawn(w, ms(0));
  w.after = {volatile_dep};
  const TaskId loses = h.spawn(w, ms(0));
  w.after = {volatile_dep};
  w.after_mode = DependencyMode::AllFinished;
  const TaskId takes_any = h.spawn(w, ms(0));
  h.drain();
  const Snapshot snap = h.kernel.snapshot();

  Harness after_restart(wide());
  after_restart.kernel.restore(snap, ms(10));
  const auto out = after_restart.drain();
  EXPECT_EQ(after_restart.status(kept), TaskStatus::Failed) << "it was running: orphaned";
  EXPECT_EQ(after_restart.status(relinks), TaskStatus::Failed);
  EXPECT_EQ(after_restart.kernel.get(relinks)->error,
            std::optional<std::string>("dependency bg_0 failed: task orphaned: runtime restarted while running"));
  EXPECT_EQ(after_restart.status(loses), TaskStatus::Failed);
  EXPECT_EQ(after_restart.kernel.get(loses)->error,
            std::optional<std::string>("dependency bg_1 was lost in a restart (it was not durable)"));
  EXPECT_EQ(started_ids(out), std::vector<TaskId>{takes_any}) << "AllFinished: a lost dependency is over";
}

TEST(KernelDependency, ARequeuedDependencyKeepsItsRestoredWaiterWaiting) {
  Harness h(wide());
  TaskSpec durable = task("dep");
  durable.durable = true;
  durable.retry.max_attempts = 2;
  durable.retry.requeue_on_restart = true;
  const TaskId dep = h.spawn(durable, ms(0));
  TaskSpec w = after({dep});
  w.durable = true;
  const TaskId waiter = h.spawn(w, ms(0));
  h.drain();
  Harness again(wide());
  again.kernel.restore(h.kernel.snapshot(), ms(5));
  EXPECT_EQ(started_ids(again.drain()), std::vector<TaskId>{dep});
  EXPECT_EQ(again.kernel.get(waiter)->waiting_for, std::vector<TaskId>{dep});
  again.succeed(dep, 2, ms(6));
  EXPECT_EQ(started_ids(again.drain()), std::vector<TaskId>{waiter});
}

TEST(KernelDependency, ADependencyForgottenAfterItEndedDoesNotAffectItsWaiter) {
  Config config = wide();
  config.retained_terminal = 0;
  Harness h(config);
  const TaskId a = h.spawn(task("a"), ms(0));
  const TaskId b = h.spawn(task("b"), ms(0));
  TaskSpec w = after({a, b});
  w.durable = true;
  const TaskId waiter = h.spawn(w, ms(0));
  h.drain();
  h.succeed(a, 1, ms(1));
  EXPECT_FALSE(h.kernel.get(a).has_value()) << "forgotten at once";
  EXPECT_EQ(h.kernel.get(waiter)->waiting_for, std::vector<TaskId>{b}) << "its success was taken when it ended";
  h.succeed(b, 1, ms(2));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{waiter});
}

TEST(KernelDependency, EveryChangeOfADurableWaiterIsPersisted) {
  Harness h(wide());
  const TaskId a = h.spawn(task("a"), ms(0));
  TaskSpec w = after({a});
  w.durable = true;
  const TaskId waiter = h.spawn(w, ms(0));
  h.drain();
  h.succeed(a, 1, ms(1));
  const auto persisted = testkit::persists(h.drain());
  ASSERT_FALSE(persisted.empty());
  EXPECT_EQ(persisted.back().record, *h.kernel.get(waiter));
  const Snapshot snap = h.kernel.snapshot();
  ASSERT_EQ(snap.tasks.size(), 1u);
  EXPECT_TRUE(snap.tasks[0].waiting_for.empty());
}

}  // namespace
}  // namespace tasklane
