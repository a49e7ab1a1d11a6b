// The per-owner index (list, has_running, abort/pause by owner) against the task table, while
// owners come and go: every task of an owner forgotten, then a new owner whose pooled name may
// reuse the freed one's memory (the index remembers the last owner by its string's address).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "kernel_fixture.hpp"

namespace tasklane {
namespace {

using namespace testkit;

// Names past the short-string buffer, so the owners pool allocates each one.
std::string owner_name(std::uint64_t n) { return "owner-with-a-long-name-" + std::to_string(n); }

// The index is built at the first read by owner: from the first step, or only after 1500 steps of
// spawns, ends and forgetting (an abort by owner builds it there, before any list).
class KernelOwnerIndex : public ::testing::TestWithParam<int> {};

TEST_P(KernelOwnerIndex, ListAndHasRunningFollowTheTableAsOwnersComeAndGo) {
  const int first_read = GetParam();
  Config config;
  config.max_running = 3;
  config.retained_terminal = 2;  // finished tasks are forgotten soon: owners leave the index
  Harness h(config);
  std::map<TaskId, std::string> owner_of;  // every task spawned
  std::map<TaskId, std::uint32_t> running;  // started, not yet completed
  std::uint64_t rng = 42;
  auto next = [&rng](std::uint64_t bound) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % bound;
  };
  std::uint64_t owners_made = 0;  // owner names in use: [owners_made - 3, owners_made)
  std::int64_t t = 0;

  for (int step = 0; step < 3000; ++step) {
    const Time now = ms(++t);
    if (step == first_read && first_read > 0) {  // the first read by owner is an abort of an owner none has
      EXPECT_EQ(h.kernel.abort(abort_selector::Owner{"nobody"}, now), 0u);
    }
    const auto choice = next(10);
    if (choice < 4) {
      if (next(8) == 0 || owners_made < 3) ++owners_made;  // now and then a new owner replaces the oldest
      const std::string owner = owner_name(owners_made - 1 - next(std::min<std::uint64_t>(owners_made, 3)));
      owner_of[h.spawn(task("work", owner), now)] = owner;
    } else if (choice < 8 && !running.empty()) {
      auto it = running.begin();
      std::advance(it, static_cast<long>(next(running.size())));
      h.succeed(it->first, it->second, now);
      running.erase(it);
    } else if (!owner_of.empty()) {
      auto it = owner_of.begin();
      std::advance(it, static_cast<long>(next(owner_of.size())));
      h.kernel.cancel(it->first, now);
    }
    for (const auto& c : h.drain()) {
      if (const auto* s = std::get_if<command::Start>(&c)) running[s->id] = s->attempt;
      if (const auto* n = std::get_if<command::Notify>(&c)) running.erase(n->id);
    }

    // The index must list exactly the tasks the table still holds, per owner, in id order.
    if (step < first_read) continue;
    std::map<std::string, std::vector<TaskId>> expected;
    std::map<std::string, bool> expect_running;
    for (auto it = owner_of.begin(); it != owner_of.end();) {
      const auto info = h.kernel.get(it->first);
      if (!info) {
        it = owner_of.erase(it);  // forgotten for good
        continue;
      }
      expected[it->second].push_back(it->first);
      expect_running[it->second] = expect_running[it->second] || !is_terminal(info->status);
      ++it;
    }
    for (std::uint64_t n = 0; n < owners_made; ++n) {
      const std::string owner = owner_name(n);
      std::vector<TaskId> listed;
      for (const TaskInfo& info : h.kernel.list(owner)) listed.push_back(info.id);
      ASSERT_EQ(listed, expected[owner]) << "step " << step << ", " << owner;
      ASSERT_EQ(h.kernel.has_running(owner), expect_running[owner]) << "step " << step << ", " << owner;
    }
  }
  EXPECT_GT(owners_made, 100u) << "owners must come and go for this test to mean anything";
}

INSTANTIATE_TEST_SUITE_P(FirstReadAt, KernelOwnerIndex, ::testing::Values(0, 1500));

}  // namespace
}  // namespace tasklane
