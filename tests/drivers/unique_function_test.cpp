#include "tasklane/drivers/unique_function.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

namespace tasklane::drivers {
namespace {

// Counts the live copies of what a callable captured, so a test sees each destroyed exactly once.
struct Tracked {
  explicit Tracked(int* counter) : live(counter) { ++*live; }
  Tracked(Tracked&& o) noexcept : live(o.live) { ++*live; }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --*live; }
  int* live;
};

TEST(UniqueFunction, EmptyIsFalseAndThrowsWhenCalled) {
  UniqueFunction<void()> f;
  EXPECT_FALSE(f);
  EXPECT_THROW(f(), std::bad_function_call);
  UniqueFunction<void()> g = nullptr;
  EXPECT_FALSE(g);
  EXPECT_FALSE(UniqueFunction<void()>(std::function<void()>()));  // an empty target stays empty
}

TEST(UniqueFunction, HoldsAMoveOnlyCallableAndPassesArgumentsAndResults) {
  auto owned = std::make_unique<int>(40);
  UniqueFunction<int(int)> f = [p = std::move(owned)](int x) { return *p + x; };
  ASSERT_TRUE(f);
  EXPECT_EQ(f(2), 42);
  UniqueFunction<std::string(std::string)> echo = [](std::string s) { return s + "!"; };
  EXPECT_EQ(echo("hi"), "hi!");
}

TEST(UniqueFunction, SmallAndLargeCallablesAreDestroyedOnceAcrossMoves) {
  int live = 0;
  {
    UniqueFunction<int()> small = [t = Tracked(&live)] { return *t.live; };  // in place
    std::array<char, 200> padding{};
    UniqueFunction<int()> large = [t = Tracked(&live), padding] { return *t.live + padding[0]; };  // on the heap
    EXPECT_EQ(live, 2);
    UniqueFunction<int()> moved_small = std::move(small);
    UniqueFunction<int()> moved_large = std::move(large);
    EXPECT_FALSE(small);  // NOLINT(bugprone-use-after-move): a moved-from one is empty
    EXPECT_FALSE(large);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(live, 2);
    EXPECT_EQ(moved_small(), 2);
    EXPECT_EQ(moved_large(), 2);
    moved_small = std::move(moved_large);  // drops the small one, takes the large one
    EXPECT_EQ(live, 1);
    EXPECT_EQ(moved_small(), 1);
    moved_small = nullptr;
    EXPECT_EQ(live, 0);
  }
  EXPECT_EQ(live, 0);
}

TEST(UniqueFunction, KeepsTwoSharedPointersInPlace) {
  // The runtime's spawn answer captures the runtime and a handler: it must not need the heap.
  auto a = std::make_shared<int>(1);
  auto b = std::make_shared<int>(2);
  auto lambda = [a, b] { return *a + *b; };
  static_assert(sizeof(lambda) <= UniqueFunction<int()>::inline_size);
  UniqueFunction<int()> f = std::move(lambda);
  EXPECT_EQ(f(), 3);
  EXPECT_EQ(a.use_count(), 2);
  f = nullptr;
  EXPECT_EQ(a.use_count(), 1);
}

TEST(UniqueFunction, AVoidSignatureDropsWhatTheCallableReturns) {
  int calls = 0;
  UniqueFunction<void(int)> f = [&calls](int x) { return calls += x; };
  f(3);
  f(4);
  EXPECT_EQ(calls, 7);
}

TEST(UniqueFunction, NullPointersMakeAnEmptyOneAndPlainFunctionsWork) {
  int (*null_function)(int) = nullptr;
  EXPECT_FALSE(UniqueFunction<int(int)>(null_function));
  int (*twice)(int) = [](int x) { return 2 * x; };
  UniqueFunction<int(int)> f = twice;
  EXPECT_EQ(f(21), 42);
}

TEST(UniqueFunction, MadeFromAnEmptyWrapperOfAnotherSignatureItIsEmpty) {
  EXPECT_FALSE(UniqueFunction<void(int)>(UniqueFunction<int(int)>()));  // it would throw when called
  EXPECT_FALSE(UniqueFunction<void(int)>(std::function<int(int)>()));
  UniqueFunction<void(int)> dropping_result = UniqueFunction<int(int)>([](int x) { return x; });
  ASSERT_TRUE(dropping_result);
  dropping_result(3);
  int seen = 0;
  UniqueFunction<void(int)> forwarding = UniqueFunction<void(long)>([&seen](long x) { seen = static_cast<int>(x); });
  forwarding(7);
  EXPECT_EQ(seen, 7);
}

// A callable whose move may throw is kept on the heap, so that moving the UniqueFunction never throws.
struct ThrowingMove {
  ThrowingMove() = default;
  ThrowingMove(ThrowingMove&&) noexcept(false) {}
  ThrowingMove(const ThrowingMove&) = default;
  int operator()() const { return 5; }
};

TEST(UniqueFunction, ACallableThatMayThrowOnMoveStillMovesSafely) {
  static_assert(std::is_nothrow_move_constructible_v<UniqueFunction<int()>>);
  UniqueFunction<int()> f = ThrowingMove{};
  UniqueFunction<int()> g = std::move(f);
  EXPECT_FALSE(f);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(g(), 5);
}

TEST(UniqueFunction, SelfMoveAndAssigningFromInsideTheOldCallableKeepTheValue) {
  int live = 0;
  UniqueFunction<int()> f = [t = Tracked(&live)] { return 1; };
  auto& same = f;
  f = std::move(same);
  ASSERT_TRUE(f);
  EXPECT_EQ(f(), 1);
  EXPECT_EQ(live, 1);
  // `f` alone owns a holder of the next value: assigning that value to `f` destroys the holder
  // while the value is being taken out of it.
  auto holder = std::make_shared<UniqueFunction<int()>>([t = Tracked(&live)] { return 2; });
  UniqueFunction<int()>* inner = holder.get();
  f = [holder] { return (*holder)(); };
  holder.reset();
  EXPECT_EQ(live, 1);  // the first callable is gone, the second lives in the holder
  f = std::move(*inner);
  EXPECT_EQ(live, 1);
  EXPECT_EQ(f(), 2);
  f = nullptr;
  EXPECT_EQ(live, 0);
}

}  // namespace
}  // namespace tasklane::drivers
