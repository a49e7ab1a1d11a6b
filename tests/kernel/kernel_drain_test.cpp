// Kernel::drain lends the commands poll() gives, in the same order, also to a driver that makes
// inputs from inside the sink (one that runs work inline and completes it as it starts).
#include <gtest/gtest.h>

#include <type_traits>
#include <vector>

#include "kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::ms;

Config two_slots() {
  Config c;
  c.max_running = 2;
  return c;
}

// Spawns three tasks at once; every Start is completed as soon as the driver sees it.
std::vector<Command> run_inline(bool lend) {
  Kernel kernel(two_slots());
  std::vector<Command> seen;
  for (int i = 0; i < 3; ++i) (void)kernel.spawn(testkit::task("work"), ms(0));
  if (lend) {
    kernel.drain([&](auto& c) {
      seen.emplace_back(c);
      if constexpr (std::is_same_v<std::decay_t<decltype(c)>, command::Start>) {
        kernel.complete(c.id, c.attempt, Outcome::success(Json{{"id", c.id.value}}), ms(1));
      }
    });
  } else {
    while (auto c = kernel.poll()) {
      seen.push_back(*c);
      if (const auto* s = std::get_if<command::Start>(&*c)) {
        kernel.complete(s->id, s->attempt, Outcome::success(Json{{"id", s->id.value}}), ms(1));
      }
    }
  }
  return seen;
}

TEST(KernelDrain, ASinkThatCompletesEachStartSeesWhatPollingWouldInTheSameOrder) {
  const std::vector<Command> lent = run_inline(true);
  EXPECT_EQ(lent, run_inline(false));
  EXPECT_EQ(testkit::starts(lent).size(), 3u);
  ASSERT_EQ(testkit::notifies(lent).size(), 3u);  // the third start came from the first completion
  EXPECT_EQ(testkit::notifies(lent)[2].result, Json({{"id", testkit::notifies(lent)[2].id.value}}));
}

}  // namespace
}  // namespace tasklane
