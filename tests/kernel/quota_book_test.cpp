// QuotaBook: cooldown between starts, attempts per key, single-flight holders, and the usage that a
// snapshot carries (seed 002).
#include "../../core/src/quota_book.hpp"

#include <gtest/gtest.h>

namespace tasklane {
namespace {

QuotaSpec quota(std::string key, Duration cooldown = Duration{0}, std::uint32_t max_attempts = 0) {
  QuotaSpec q;
  q.key = std::move(key);
  q.cooldown = cooldown;
  q.max_attempts = max_attempts;
  return q;
}

TEST(QuotaBook, AFreshKeyMayStartNow) {
  detail::QuotaBook book;
  const QuotaSpec q = quota("s/compaction", seconds(60), 2);
  EXPECT_EQ(book.cooldown_until(q, seconds(5)), seconds(5));
  EXPECT_FALSE(book.attempts_exhausted(q));
  EXPECT_FALSE(book.held(q));
}

TEST(QuotaBook, CooldownCountsFromTheLastStart) {
  detail::QuotaBook book;
  const QuotaSpec q = quota("s/compaction", seconds(60));
  book.started(q, seconds(10));
  EXPECT_EQ(book.cooldown_until(q, seconds(11)), seconds(70));
  EXPECT_EQ(book.cooldown_until(q, seconds(70)), seconds(70));
  EXPECT_EQ(book.cooldown_until(q, seconds(90)), seconds(90));
  book.started(q, seconds(90));
  EXPECT_EQ(book.cooldown_until(q, seconds(91)), seconds(150));
}

TEST(QuotaBook, MaxAttemptsCountsStartsAndZeroMeansNoLimit) {
  detail::QuotaBook book;
  const QuotaSpec limited = quota("k", Duration{0}, 2);
  book.started(limited, Time{1});
  EXPECT_FALSE(book.attempts_exhausted(limited));
  book.started(limited, Time{2});
  EXPECT_TRUE(book.attempts_exhausted(limited));
  EXPECT_FALSE(book.attempts_exhausted(quota("k", Duration{0}, 0)));
  EXPECT_FALSE(book.attempts_exhausted(quota("other", Duration{0}, 2)));
}

TEST(QuotaBook, HoldersAreCountedAndReleaseNeverGoesBelowZero) {
  detail::QuotaBook book;
  const QuotaSpec q = quota("k");
  book.hold(q);
  book.hold(q);
  book.release(q);
  EXPECT_TRUE(book.held(q));
  book.release(q);
  EXPECT_FALSE(book.held(q));
  book.release(q);
  book.hold(q);
  EXPECT_TRUE(book.held(q));
}

TEST(QuotaBook, UsageListsStartedKeysByKeyAndRestoresIt) {
  detail::QuotaBook book;
  book.hold(quota("held-only"));  // never started: nothing durable about it
  book.started(quota("b"), seconds(3));
  book.started(quota("a"), seconds(1));
  book.started(quota("a"), seconds(2));
  const auto usage = book.usage();
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage[0], (QuotaUsage{"a", 2, seconds(2)}));
  EXPECT_EQ(usage[1], (QuotaUsage{"b", 1, seconds(3)}));

  detail::QuotaBook restored;
  for (const auto& u : usage) restored.restore(u);
  EXPECT_EQ(restored.usage(), usage);
  EXPECT_EQ(restored.cooldown_until(quota("a", seconds(10)), seconds(4)), seconds(12));
}

TEST(QuotaBook, RestoreKeepsTheLargerCountAndTheLaterStart) {
  detail::QuotaBook book;
  book.started(quota("a"), seconds(9));
  book.restore(QuotaUsage{"a", 5, seconds(4)});
  EXPECT_EQ(book.usage().at(0), (QuotaUsage{"a", 5, seconds(9)}));
}

}  // namespace
}  // namespace tasklane
