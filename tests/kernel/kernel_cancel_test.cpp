// Cancellation (seed 003): one task, a tree, every task of an owner, the descendants of a run.
// A pending task ends Cancelled at once; a running one when its work returns.
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::cancels;
using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::task;

TaskSpec child_of(TaskId parent, std::string owner = "alice") {
  TaskSpec spec = task("sub_agent", std::move(owner));
  spec.parent.task = parent;
  return spec;
}

TaskSpec spawned_by_run(std::string run) {
  TaskSpec spec = task("sub_agent");
  spec.parent.run = std::move(run);
  return spec;
}

TEST(KernelCancel, APendingTaskEndsCancelledAtOnce) {
  Harness h;
  TaskSpec spec = task();
  spec.run_after = seconds(1);
  const TaskId id = h.spawn(spec, ms(0));
  EXPECT_TRUE(h.kernel.cancel(id, ms(1)));
  const auto out = h.drain();
  EXPECT_TRUE(cancels(out).empty()) << "nothing runs, so there is nothing to stop";
  EXPECT_EQ(notifies(out), (std::vector<command::Notify>{{"alice", id, TaskStatus::Cancelled, nullptr, std::nullopt, std::nullopt}}));
  EXPECT_EQ(h.kernel.get(id)->finished_at, ms(1));
}

TEST(KernelCancel, ARunningTaskGetsACancelAndEndsCancelledWhenItsWorkReturns) {
  Harness h;
  const TaskId id = h.spawn(task(), ms(0));
  h.drain();
  EXPECT_TRUE(h.kernel.cancel(id, ms(1)));
  auto out = h.drain();
  EXPECT_EQ(cancels(out), (std::vector<command::Cancel>{{id, 1, CancelReason::Requested}}));
  EXPECT_TRUE(notifies(out).empty());
  EXPECT_EQ(h.status(id), TaskStatus::Running);
  EXPECT_TRUE(h.kernel.get(id)->cancel_requested);
  EXPECT_FALSE(h.kernel.cancel(id, ms(2))) << "already being cancelled";

  h.succeed(id, 1, ms(3));  // the work finished anyway: the cancel still wins
  out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Cancelled);
  EXPECT_EQ(h.kernel.running(), 0u);
  EXPECT_EQ(h.kernel.stats().cancelled, 1u);
}

TEST(KernelCancel, CancelIsFalseForATerminalOrUnknownTask) {
  Harness h;
  const TaskId id = h.spawn(task(), ms(0));
  h.succeed(id, 1, ms(1));
  h.drain();
  EXPECT_FALSE(h.kernel.cancel(id, ms(2)));
  EXPECT_FALSE(h.kernel.cancel(TaskId{42}, ms(2)));
  EXPECT_TRUE(h.drain().empty());
  EXPECT_EQ(h.status(id), TaskStatus::Completed);
}

TEST(KernelCancel, CancelTreeReachesEveryLiveDescendant) {
  Config config;
  config.max_running = 8;
  Harness h(config);
  const TaskId root = h.spawn(task(), ms(0));
  const TaskId child = h.spawn(child_of(root), ms(0));
  const TaskId done_child = h.spawn(child_of(root), ms(0));
  const TaskId grandchild = h.spawn(child_of(child), ms(0));
  const TaskId grandchild_of_done = h.spawn(child_of(done_child), ms(0));
  const TaskId unrelated = h.spawn(task(), ms(0));
  h.succeed(done_child, 1, ms(1));
  h.drain();

  EXPECT_EQ(h.kernel.abort(abort_selector::Tree{root}, ms(2)), 4u);
  std::vector<TaskId> cancelled;
  for (const auto& c : cancels(h.drain())) cancelled.push_back(c.id);
  // Parents before children.
  EXPECT_EQ(cancelled, (std::vector<TaskId>{root, child, grandchild, grandchild_of_done}));
  EXPECT_EQ(h.status(unrelated), TaskStatus::Running);
  EXPECT_FALSE(h.kernel.get(unrelated)->cancel_requested);
  EXPECT_EQ(h.kernel.abort(abort_selector::Tree{root}, ms(3)), 0u) << "nothing newly cancelled";
  EXPECT_EQ(h.kernel.abort(abort_selector::Tree{TaskId{77}}, ms(3)), 0u);
}

TEST(KernelCancel, CancelAllOfAnOwnerLeavesOtherOwnersAlone) {
  Harness h;
  TaskSpec delayed = task("work", "alice");
  delayed.run_after = seconds(1);
  const TaskId a1 = h.spawn(task("work", "alice"), ms(0));
  const TaskId a2 = h.spawn(delayed, ms(0));
  const TaskId a3 = h.spawn(task("work", "alice"), ms(0));
  const TaskId b1 = h.spawn(task("work", "bob"), ms(0));
  h.succeed(a3, 1, ms(1));
  h.drain();
  EXPECT_EQ(h.kernel.abort(abort_selector::Owner{"alice"}, ms(2)), 2u);
  const auto out = h.drain();
  EXPECT_EQ(cancels(out), (std::vector<command::Cancel>{{a1, 1, CancelReason::Requested}}));
  EXPECT_EQ(h.status(a2), TaskStatus::Cancelled);
  EXPECT_EQ(h.status(a3), TaskStatus::Completed);
  EXPECT_EQ(h.status(b1), TaskStatus::Running);
  EXPECT_EQ(h.kernel.abort(abort_selector::Owner{"nobody"}, ms(3)), 0u);
}

TEST(KernelCancel, CancelDescendantsOfARunTakesItsRootTreesOnly) {
  Harness h;
  const TaskId root = h.spawn(spawned_by_run("run-1"), ms(0));
  TaskSpec nested = child_of(root);
  nested.parent.run = "run-1";  // spawned under the run, but inside root's tree
  const TaskId inner = h.spawn(nested, ms(0));
  const TaskId other_root = h.spawn(spawned_by_run("run-1"), ms(0));
  const TaskId other_run = h.spawn(spawned_by_run("run-2"), ms(0));
  const TaskId no_run = h.spawn(task(), ms(0));
  h.drain();
  EXPECT_EQ(h.kernel.abort(abort_selector::Run{"run-1"}, ms(1)), 3u);
  std::vector<TaskId> cancelled;
  for (const auto& c : cancels(h.drain())) cancelled.push_back(c.id);
  EXPECT_EQ(cancelled, (std::vector<TaskId>{root, inner, other_root}));
  EXPECT_FALSE(h.kernel.get(other_run)->cancel_requested);
  EXPECT_FALSE(h.kernel.get(no_run)->cancel_requested);
}

TEST(KernelCancel, CancelDescendantsOfARunReachesALiveChildOfAFinishedRoot) {
  Harness h;
  const TaskId root = h.spawn(spawned_by_run("run-1"), ms(0));
  const TaskId child = h.spawn(child_of(root), ms(0));
  h.succeed(root, 1, ms(1));
  h.drain();
  EXPECT_EQ(h.kernel.abort(abort_selector::Run{"run-1"}, ms(2)), 1u);
  EXPECT_TRUE(h.kernel.get(child)->cancel_requested);
}

// Forgetting old finished tasks (Config::retained_terminal) must not cut a live task out of the
// tree it belongs to: "cancelling a tree reaches every live descendant".
TEST(KernelCancel, CancelDescendantsOfARunReachesALiveChildOfAForgottenRoot) {
  Config config;
  config.retained_terminal = 1;
  Harness h(config);
  const TaskId root = h.spawn(spawned_by_run("run-1"), ms(0));
  const TaskId child = h.spawn(child_of(root), ms(0));
  const TaskId filler = h.spawn(task(), ms(0));
  h.succeed(root, 1, ms(1));
  h.succeed(filler, 1, ms(2));  // root is forgotten now
  ASSERT_FALSE(h.kernel.get(root).has_value());
  h.drain();
  EXPECT_EQ(h.kernel.abort(abort_selector::Run{"run-1"}, ms(3)), 1u);
  EXPECT_TRUE(h.kernel.get(child)->cancel_requested);
}

TEST(KernelCancel, AbortAllCancelsEveryLiveTask) {
  Harness h;
  TaskSpec delayed = task();
  delayed.run_after = seconds(1);
  h.spawn(task("a", "alice"), ms(0));
  h.spawn(task("b", "bob"), ms(0));
  h.spawn(delayed, ms(0));
  const TaskId finished = h.spawn(task(), ms(0));
  h.succeed(finished, 1, ms(1));
  EXPECT_EQ(h.kernel.abort(abort_selector::All{}, ms(2)), 3u);
  EXPECT_EQ(h.kernel.unfinished(), 2u) << "two running tasks wait for their work to return";
}

// A bulk cancel frees lane heads as it goes: the successor it cancels too never starts, the one it
// does not select starts in the same input (a freed head may be forgotten before the end of the pass).
TEST(KernelCancel, AnOwnerCancelStartsTheFirstLaneSuccessorItDoesNotSelect) {
  for (const std::size_t retained : {std::size_t{0}, std::size_t{100}}) {
    Config c;
    c.retained_terminal = retained;
    Harness h(c);
    TaskSpec head = task("a", "alice");
    head.key = SequenceKey{"agent", "scope", "facts"};
    head.run_after = seconds(1);  // pending at the head of its lane
    TaskSpec same = head;
    same.run_after = Duration{0};
    TaskSpec other = same;
    other.owner = "bob";
    const TaskId first = h.spawn(head, ms(0));
    const TaskId second = h.spawn(same, ms(0));
    const TaskId bobs = h.spawn(other, ms(0));
    const TaskId last = h.spawn(same, ms(0));
    EXPECT_TRUE(testkit::started_ids(h.drain()).empty());
    EXPECT_EQ(h.kernel.abort(abort_selector::Owner{"alice"}, ms(1)), 3u);
    const auto out = h.drain();
    EXPECT_EQ(testkit::started_ids(out), std::vector<TaskId>{bobs}) << "retained " << retained;
    EXPECT_EQ(notifies(out).size(), 3u);
    EXPECT_EQ(h.status(bobs), TaskStatus::Running);
    if (retained > 0) {
      EXPECT_EQ(h.status(first), TaskStatus::Cancelled);
      EXPECT_EQ(h.status(second), TaskStatus::Cancelled);
      EXPECT_EQ(h.status(last), TaskStatus::Cancelled);
    }
  }
}

}  // namespace
}  // namespace tasklane
