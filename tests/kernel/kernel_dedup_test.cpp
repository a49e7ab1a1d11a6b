// Deduplication: a spawn whose dedup key a live task of the same owner holds is folded into that
// task (KeepExisting) or replaces it while it is still pending (ReplacePending, a debounce).
#include <gtest/gtest.h>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::notifies;
using testkit::started_ids;
using testkit::task;

TaskSpec deduped(std::string key, DedupMode mode = DedupMode::KeepExisting, std::string owner = "alice") {
  TaskSpec spec = task("refresh", std::move(owner));
  spec.dedup = DedupSpec{std::move(key), mode};
  return spec;
}

TEST(KernelDedup, ASecondSpawnWithALiveKeyAnswersTheLiveTaskAndSaysSo) {
  Harness h;
  const auto first = h.kernel.admit(deduped("index"), ms(0));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first.value().deduplicated);
  h.drain();
  const auto second = h.kernel.admit(deduped("index"), ms(1));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second.value(), (Admission{first.value().id, true, std::nullopt}));
  EXPECT_TRUE(h.drain().empty()) << "a deduplicated spawn emits nothing";
  EXPECT_EQ(h.kernel.unfinished(), 1u);
  EXPECT_EQ(h.kernel.stats().spawned, 1u);
  EXPECT_EQ(h.kernel.stats().deduplicated, 1u);
  EXPECT_EQ(h.spawn(deduped("index"), ms(2)), first.value().id) << "spawn() answers the live task's id too";
}

TEST(KernelDedup, KeysArePerOwnerAndFreeOnceTheHolderEnds) {
  Harness h;
  const TaskId alice = h.spawn(deduped("index"), ms(0));
  const TaskId bob = h.spawn(deduped("index", DedupMode::KeepExisting, "bob"), ms(0));
  EXPECT_NE(alice, bob) << "another owner's key is another key";
  h.drain();
  h.succeed(alice, 1, ms(5));
  h.drain();
  const TaskId again = h.spawn(deduped("index"), ms(6));
  EXPECT_NE(again, alice) << "a finished task holds no key";
  EXPECT_EQ(h.spawn(deduped("other"), ms(6)), TaskId{again.value + 1});
}

TEST(KernelDedup, ARunningHolderIsKeptToo) {
  Harness h;
  const TaskId first = h.spawn(deduped("index"), ms(0));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{first});
  EXPECT_EQ(h.spawn(deduped("index"), ms(1)), first);
}

TEST(KernelDedup, ReplacePendingCancelsThePendingHolderWithAReason) {
  Harness h;
  TaskSpec spec = deduped("summary", DedupMode::ReplacePending);
  spec.run_after = ms(100);  // a debounce: only the last spawn within 100 ms runs
  const TaskId first = h.spawn(spec, ms(0));
  h.drain();
  const auto second = h.kernel.admit(spec, ms(50));
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second.value().deduplicated);
  EXPECT_EQ(second.value().replaced, first);
  const auto out = h.drain();
  ASSERT_EQ(notifies(out).size(), 1u);
  EXPECT_EQ(notifies(out)[0].id, first);
  EXPECT_EQ(notifies(out)[0].status, TaskStatus::Cancelled);
  EXPECT_EQ(h.kernel.get(first)->error, "replaced by bg_1 (dedup key 'summary')");
  EXPECT_EQ(h.kernel.unfinished(), 1u);
  h.tick(ms(100));
  EXPECT_TRUE(started_ids(h.drain()).empty()) << "the replacement's own run_after counts";
  h.tick(ms(150));
  EXPECT_EQ(started_ids(h.drain()), std::vector<TaskId>{second.value().id});
}

TEST(KernelDedup, ReplacePendingLeavesARunningHolderAlone) {
  Harness h;
  TaskSpec spec = deduped("summary", DedupMode::ReplacePending);
  const TaskId running = h.spawn(spec, ms(0));
  h.drain();
  spec.run_after = ms(100);  // the next ones wait, so the newest holder is pending
  const auto next = h.kernel.admit(spec, ms(1));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next.value().replaced, std::nullopt);
  EXPECT_EQ(h.status(running), TaskStatus::Running);
  const auto third = h.kernel.admit(spec, ms(2));
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third.value().replaced, next.value().id) << "the newest holder is the one replaced";
  EXPECT_EQ(h.status(running), TaskStatus::Running);
}

TEST(KernelDedup, AReplacedTaskFreesItsNameSlotAndSingleFlightQuota) {
  Config config;
  config.capacity = 1;
  Harness h(config);
  TaskSpec spec = deduped("summary", DedupMode::ReplacePending);
  spec.name = "summarizer";
  spec.quota = QuotaSpec{"q", Duration{0}, 0, true};
  spec.run_after = ms(10);
  const TaskId first = h.spawn(spec, ms(0));
  const auto second = h.kernel.admit(spec, ms(1));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second.value().replaced, first);
}

TEST(KernelDedup, AReplacementThatIsRefusedLeavesThePendingHolderAlone) {
  Harness h;
  TaskSpec spec = deduped("summary", DedupMode::ReplacePending);
  spec.run_after = ms(10);
  const TaskId first = h.spawn(spec, ms(0));
  TaskSpec orphan = spec;
  orphan.parent.task = TaskId{99};
  EXPECT_EQ(h.refuse(orphan, ms(1)).code, SpawnErrorCode::UnknownParent);
  EXPECT_EQ(h.status(first), TaskStatus::Pending);
}

TEST(KernelDedup, ABrokenSpecIsRefusedEvenWhenItsKeyIsHeld) {
  Harness h;
  h.spawn(deduped("index"), ms(0));
  TaskSpec broken = deduped("index");
  broken.timeout = Duration{0};
  EXPECT_EQ(h.refuse(broken, ms(1)).code, SpawnErrorCode::InvalidTimeout);
  EXPECT_EQ(h.refuse(deduped(""), ms(1)).code, SpawnErrorCode::InvalidDedup);
}

// Found by the model-based test: the replaced task's end may make the kernel forget an old finished
// task, which must stay known when the new task names it as parent.
TEST(KernelDedup, AReplacementKeepsItsForgottenParentLinked) {
  Config config;
  config.retained_terminal = 1;
  Harness h(config);
  const TaskId parent = h.spawn(task("root"), ms(0));
  h.drain();
  h.succeed(parent, 1, ms(1));
  TaskSpec spec = deduped("summary", DedupMode::ReplacePending);
  spec.run_after = ms(100);
  h.spawn(spec, ms(2));
  spec.parent.task = parent;
  const TaskId child = h.spawn(spec, ms(3));  // replaces; the replaced task's end pushes `parent` out
  EXPECT_FALSE(h.kernel.get(parent).has_value()) << "forgotten: only one finished task is kept";
  TaskSpec sibling = task("leaf");
  sibling.parent.task = parent;
  EXPECT_TRUE(h.kernel.spawn(sibling, ms(4)).has_value()) << "the parent still links " << to_string(child);
}

TEST(KernelDedup, TheKeyHoldsAcrossARestore) {
  Harness h;
  TaskSpec spec = deduped("index");
  spec.durable = true;
  spec.run_after = ms(100);
  const TaskId first = h.spawn(spec, ms(0));
  Kernel restored;
  restored.restore(h.kernel.snapshot(), ms(1));
  const auto again = restored.admit(spec, ms(2));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again.value(), (Admission{first, true, std::nullopt}));
}

}  // namespace
}  // namespace tasklane
