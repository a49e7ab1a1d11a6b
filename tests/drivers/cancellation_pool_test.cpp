// CancellationPool: the owner's spare cancellation states. An attempt's token comes back when its
// outcome does; unshared, its state serves a later attempt as a fresh one.
#include "../../drivers/src/cancellation_pool.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace tasklane::drivers {
namespace {

TEST(CancellationPool, ATokenNobodyElseHoldsIsKeptAndServesTheNextAttempt) {
  CancellationPool pool;
  CancellationToken token = pool.take();
  EXPECT_EQ(pool.spare(), 0u);
  pool.give_back(std::move(token));
  EXPECT_EQ(pool.spare(), 1u);
  const CancellationToken next = pool.take();
  EXPECT_EQ(pool.spare(), 0u);
  EXPECT_FALSE(next.cancelled());
}

TEST(CancellationPool, AReusedTokenStartsUncancelledWithoutTheCallbacksOfItsLastAttempt) {
  CancellationPool pool;
  int old_callback_runs = 0;
  {
    CancellationToken token = pool.take();
    token.on_cancel([&] { ++old_callback_runs; });  // registered, never fired
    pool.give_back(std::move(token));
  }
  {
    CancellationToken token = pool.take();
    token.cancel();
    EXPECT_EQ(old_callback_runs, 0) << "a callback of the attempt before ran";
    EXPECT_TRUE(token.cancelled());
    pool.give_back(std::move(token));  // cancelled when it comes back
  }
  const CancellationToken token = pool.take();
  EXPECT_FALSE(token.cancelled()) << "a reused state still said cancelled";
  int runs = 0;
  token.on_cancel([&] { ++runs; });
  EXPECT_EQ(runs, 0);
  token.cancel();
  EXPECT_EQ(runs, 1);
}

TEST(CancellationPool, ATokenStillHeldElsewhereIsNotReused) {
  CancellationPool pool;
  CancellationToken token = pool.take();
  const CancellationToken kept = token;  // work that copied its token (an async job, a callback)
  pool.give_back(std::move(token));
  EXPECT_EQ(pool.spare(), 0u);
  const CancellationToken other = pool.take();  // a fresh state, not the shared one
  other.cancel();
  EXPECT_FALSE(kept.cancelled()) << "the copy held elsewhere was handed to another attempt";
  kept.cancel();
  EXPECT_TRUE(kept.cancelled());
}

TEST(CancellationPool, KeepsAtMostItsLimit) {
  CancellationPool pool;
  std::vector<CancellationToken> tokens;
  for (std::size_t i = 0; i < CancellationPool::max_spare + 10; ++i) tokens.push_back(pool.take());
  for (auto& t : tokens) pool.give_back(std::move(t));
  EXPECT_EQ(pool.spare(), CancellationPool::max_spare);
}

}  // namespace
}  // namespace tasklane::drivers
