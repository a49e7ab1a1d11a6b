// The exact commands of one bulk cancel: a tree cancel and an owner cancel under a pending flush,
// with durable tasks, a waiter outside the tree and old terminal tasks forgotten on the way. These
// pin the order that the performance work on the kernel's indexes must keep (issue 6).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::Harness;
using testkit::ms;
using testkit::task;

// One line per command: what it is, the task, and what matters for its order.
std::vector<std::string> describe(const std::vector<Command>& commands) {
  std::vector<std::string> lines;
  for (const auto& c : commands) {
    std::visit(
        [&](const auto& x) {
          using C = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<C, command::Start>) {
            lines.push_back("Start " + to_string(x.id));
          } else if constexpr (std::is_same_v<C, command::Cancel>) {
            lines.push_back("Cancel " + to_string(x.id) + " " + to_string(x.reason));
          } else if constexpr (std::is_same_v<C, command::Persist>) {
            lines.push_back("Persist " + to_string(x.record.id) + " " + to_string(x.record.status) +
                            (x.record.cancel_requested ? " cancel_requested" : ""));
          } else if constexpr (std::is_same_v<C, command::Notify>) {
            lines.push_back("Notify " + to_string(x.id) + " " + to_string(x.status) + (x.error ? " " + *x.error : ""));
          } else if constexpr (std::is_same_v<C, command::FlushDone>) {
            lines.push_back("FlushDone " + std::to_string(x.flush) + (x.error ? " " + *x.error : ""));
          } else {
            lines.push_back("other");
          }
        },
        c);
  }
  return lines;
}

// Root 0 (running) with children 1..3; 4..9 below them (two each); 10 and 11 below 4. Task 12
// waits for 5 outside the tree; 13 is another owner's. Every third task is durable, and the
// tree's tasks have sequence keys in scope "s" so that a flush waits for them.
struct TreeScenario {
  explicit TreeScenario(bool with_waiter = true) : h(config()) {
    std::vector<TaskId> ids;
    for (int i = 0; i < 12; ++i) {
      TaskSpec spec = task("work", "alice");
      if (i > 0) spec.parent.task = ids[static_cast<std::size_t>(i < 4 ? 0 : i < 10 ? (i - 4) / 2 + 1 : 4)];
      spec.key = testkit::key("s", "p" + std::to_string(i % 3));
      spec.durable = i % 3 == 0;
      ids.push_back(h.spawn(spec, ms(0)));
    }
    TaskSpec waiter = task("work", "alice");
    waiter.after = {ids[5]};
    if (with_waiter) h.spawn(waiter, ms(0));
    h.spawn(task("work", "bob"), ms(0));
    h.drain();
  }
  static Config config() {
    Config c;
    c.max_running = 2;
    c.retained_terminal = 2;  // forgetting starts inside the cancel
    return c;
  }
  Harness h;
};

// The commands of abort(Tree{bg_0}) in TreeScenario: bg_0 and bg_1 run (max_running 2); the waiter
// bg_12 ends with bg_5, before bg_5's siblings.
std::vector<std::string> tree_cancel_commands() {
  return {
      "Cancel bg_0 requested",
      "Persist bg_0 running cancel_requested",
      "Cancel bg_1 requested",
      "Notify bg_4 cancelled",
      "Notify bg_10 cancelled",
      "Notify bg_11 cancelled",
      "Notify bg_5 cancelled",
      "Notify bg_12 cancelled",
      "Notify bg_2 cancelled",
      "Notify bg_6 cancelled",
      "Persist bg_6 cancelled",
      "Notify bg_7 cancelled",
      "Notify bg_3 cancelled",
      "Persist bg_3 cancelled",
      "Notify bg_8 cancelled",
      "Notify bg_9 cancelled",
      "Persist bg_9 cancelled",
  };
}

TEST(KernelCancelOrder, ATreeCancelEmitsItsCommandsParentsFirstWithTheFlushDoneAfterTheLastNotify) {
  TreeScenario s;
  const FlushId flush = s.h.kernel.flush(flush_selector::Scope{"s"}, ms(1));
  EXPECT_TRUE(s.h.drain().empty());
  EXPECT_EQ(s.h.kernel.abort(abort_selector::Tree{TaskId{0}}, ms(2)), 12u);
  EXPECT_EQ(describe(s.h.drain()), tree_cancel_commands());
  EXPECT_FALSE(s.h.kernel.get(TaskId{4}).has_value()) << "forgotten: only two terminal tasks are kept";
  EXPECT_TRUE(s.h.kernel.get(TaskId{9}).has_value());
  s.h.succeed(TaskId{0}, 1, ms(3));
  EXPECT_EQ(describe(s.h.drain()), (std::vector<std::string>{
                                       "Notify bg_0 cancelled",
                                       "Persist bg_0 cancelled",
                                       "Start bg_13",
                                   }));
  s.h.succeed(TaskId{1}, 1, ms(4));
  EXPECT_EQ(describe(s.h.drain()), (std::vector<std::string>{
                                       "Notify bg_1 cancelled",
                                       "FlushDone " + std::to_string(flush),
                                   }));
  EXPECT_EQ(s.h.kernel.abort(abort_selector::Tree{TaskId{0}}, ms(5)), 0u);
}

TEST(KernelCancelOrder, AnOwnerCancelGoesByIdWithEachWaiterRightAfterItsDependency) {
  TreeScenario s;
  EXPECT_EQ(s.h.kernel.abort(abort_selector::Owner{"alice"}, ms(2)), 13u);
  EXPECT_EQ(describe(s.h.drain()), (std::vector<std::string>{
                                       "Cancel bg_0 requested",
                                       "Persist bg_0 running cancel_requested",
                                       "Cancel bg_1 requested",
                                       "Notify bg_2 cancelled",
                                       "Notify bg_3 cancelled",
                                       "Persist bg_3 cancelled",
                                       "Notify bg_4 cancelled",
                                       "Notify bg_5 cancelled",
                                       "Notify bg_12 cancelled",
                                       "Notify bg_6 cancelled",
                                       "Persist bg_6 cancelled",
                                       "Notify bg_7 cancelled",
                                       "Notify bg_8 cancelled",
                                       "Notify bg_9 cancelled",
                                       "Persist bg_9 cancelled",
                                       "Notify bg_10 cancelled",
                                       "Notify bg_11 cancelled",
                                   }));
  EXPECT_EQ(s.h.kernel.running(), 2u) << "bg_13 (bob's) waits for a free slot; nothing started on the way";
}

// Without any waiter the kernel counts while it cancels (one pass); the count and the commands
// are those of the same cancel with a waiter, less the waiter's.
TEST(KernelCancelOrder, WithoutWaitersATreeCancelCountsAndOrdersTheSame) {
  TreeScenario s(false);
  EXPECT_EQ(s.h.kernel.abort(abort_selector::Tree{TaskId{0}}, ms(2)), 12u);
  std::vector<std::string> without_waiter = tree_cancel_commands();
  std::erase(without_waiter, "Notify bg_12 cancelled");
  EXPECT_EQ(describe(s.h.drain()), without_waiter);
  EXPECT_EQ(s.h.kernel.abort(abort_selector::Tree{TaskId{0}}, ms(3)), 0u) << "bg_0 and bg_1 are being cancelled already";
  EXPECT_EQ(s.h.kernel.abort(abort_selector::Owner{"alice"}, ms(4)), 0u);
  EXPECT_EQ(s.h.kernel.abort(abort_selector::Owner{"bob"}, ms(5)), 1u) << "bg_12, pending";
}

}  // namespace
}  // namespace tasklane
