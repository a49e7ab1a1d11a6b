// StringPool: one copy of each kind / owner name, counted by its holders.
#include "../../core/src/string_pool.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tasklane {
namespace {

TEST(StringPool, EqualTextsShareOneCopy) {
  detail::StringPool pool;
  detail::PooledString a = pool.take("summarize");
  detail::PooledString b = pool.take(std::string("summar") + "ize");
  EXPECT_EQ(a.str(), "summarize");
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_TRUE(a == b);
  EXPECT_EQ(pool.size(), 1u);
  pool.give_back(a);
  pool.give_back(b);
}

TEST(StringPool, TheLastHolderFreesTheString) {
  detail::StringPool pool;
  detail::PooledString a = pool.take("alice");
  detail::PooledString b = pool.take("alice");
  pool.give_back(a);
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(b.str(), "alice");
  EXPECT_EQ(a.str(), "");  // a given-back handle is empty
  pool.give_back(b);
  EXPECT_EQ(pool.size(), 0u);
  pool.give_back(b);  // an empty handle gives nothing back
  EXPECT_EQ(pool.size(), 0u);
}

TEST(StringPool, ATextTakenAgainAfterItWasFreedIsANewCopy) {
  detail::StringPool pool;
  detail::PooledString a = pool.take("bob");  // the pool's last-taken shortcut points at it
  pool.give_back(a);
  EXPECT_EQ(pool.size(), 0u);
  detail::PooledString again = pool.take("bob");  // must not find the freed one through the shortcut
  EXPECT_EQ(again.str(), "bob");
  EXPECT_EQ(pool.size(), 1u);
  detail::PooledString other = pool.take("carol");
  detail::PooledString third = pool.take("bob");
  EXPECT_EQ(pool.size(), 2u);
  pool.give_back(again);
  pool.give_back(third);
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(other.str(), "carol");
  pool.give_back(other);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(StringPool, AMovedHandleHoldsOnceAndLeavesAnEmptyOne) {
  detail::StringPool pool;
  detail::PooledString a = pool.take("dave");
  detail::PooledString b = std::move(a);
  EXPECT_EQ(b.str(), "dave");
  EXPECT_EQ(a.str(), "");  // NOLINT(bugprone-use-after-move): moved-from is specified empty
  pool.give_back(a);
  EXPECT_EQ(pool.size(), 1u);
  pool.give_back(b);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(StringPool, ManyTextsAndHoldersBalance) {
  detail::StringPool pool;
  std::vector<detail::PooledString> held;
  for (int i = 0; i < 1000; ++i) held.push_back(pool.take("owner-" + std::to_string(i % 37)));
  EXPECT_EQ(pool.size(), 37u);
  for (auto& h : held) pool.give_back(h);
  EXPECT_EQ(pool.size(), 0u);
}

}  // namespace
}  // namespace tasklane
