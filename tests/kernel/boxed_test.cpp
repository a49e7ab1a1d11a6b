// Boxed<T>: reads and writes like std::optional, keeps the value on the heap, copies deeply.
#include "tasklane/boxed.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tasklane/task_info.hpp"

namespace tasklane {
namespace {

TEST(Boxed, StartsEmptyAndTakesValuesLikeAnOptional) {
  Boxed<std::string> name;
  EXPECT_FALSE(name);
  EXPECT_FALSE(name.has_value());
  EXPECT_EQ(name, std::nullopt);
  EXPECT_EQ(name.value_or("fallback"), "fallback");
  EXPECT_THROW((void)name.value(), std::bad_optional_access);

  name = "digest";
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "digest");
  EXPECT_EQ(name->size(), 6u);
  EXPECT_EQ(name, "digest");
  EXPECT_NE(name, "other");
  EXPECT_NE(name, std::nullopt);
  EXPECT_EQ(name.value_or("fallback"), "digest");

  name = std::nullopt;
  EXPECT_FALSE(name);
  name.emplace(3, 'x');
  EXPECT_EQ(name, "xxx");
  name.reset();
  EXPECT_FALSE(name);
}

TEST(Boxed, CopiesAreDeepAndIndependent) {
  Boxed<SequenceKey> a = SequenceKey{"agent", "scope", "purpose"};
  Boxed<SequenceKey> b = a;
  ASSERT_TRUE(b);
  EXPECT_NE(&*a, &*b) << "a copy owns its own value";
  EXPECT_EQ(a, b);
  b->purpose = "other";
  EXPECT_EQ(a->purpose, "purpose");
  EXPECT_NE(a, b);

  Boxed<SequenceKey> empty;
  b = empty;
  EXPECT_FALSE(b);
  EXPECT_NE(a, b) << "set vs unset";
  EXPECT_EQ(b, empty) << "unset vs unset";
  b = a;
  EXPECT_EQ(a, b);
}

TEST(Boxed, AMovedFromBoxIsEmptyAndTheValueMovesWithoutACopy) {
  Boxed<std::string> a = std::string(100, 'p');
  const std::string* held = &*a;
  Boxed<std::string> b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the documented moved-from state
  EXPECT_EQ(&*b, held);
  Boxed<std::string> c;
  c = std::move(b);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(&*c, held);
}

TEST(Boxed, ComparesWithAStdOptionalAsTwoOptionalsCompare) {
  const Boxed<std::string> empty;
  const Boxed<std::string> set = "x";
  const std::optional<std::string> none;
  const std::optional<std::string> x = "x";
  const std::optional<std::string> y = "y";
  EXPECT_TRUE(empty == none) << "two empty values are equal";
  EXPECT_TRUE(none == empty);
  EXPECT_FALSE(empty != none);
  EXPECT_FALSE(none != empty);
  EXPECT_TRUE(set == x);
  EXPECT_TRUE(x == set);
  EXPECT_TRUE(set != y);
  EXPECT_TRUE(y != set);
  EXPECT_TRUE(set != none);
  EXPECT_TRUE(none != set);
  EXPECT_TRUE(empty != x);
  EXPECT_TRUE(x != empty);
}

TEST(Boxed, SelfAssignmentAndBraceResetBehaveAsForStdOptional) {
  Boxed<std::string> a = "kept";
  Boxed<std::string>& alias = a;
  a = alias;
  EXPECT_EQ(a, "kept");
  a = std::move(alias);  // std::unique_ptr's self-move keeps its pointer
  EXPECT_EQ(a, "kept");
  a = "again";
  a = {};
  EXPECT_FALSE(a) << "box = {} empties it";
}

// Moves never throw (a std::vector<TaskInfo> relocates by move), and only conversions that are
// implicit for T are implicit for Boxed<T>, as with std::optional.
static_assert(std::is_nothrow_move_constructible_v<Boxed<SequenceKey>>);
static_assert(std::is_nothrow_move_assignable_v<Boxed<SequenceKey>>);
static_assert(std::is_nothrow_move_constructible_v<TaskSpec>);
static_assert(std::is_nothrow_move_constructible_v<TaskInfo>);
static_assert(std::is_convertible_v<const char*, Boxed<std::string>>);
static_assert(!std::is_convertible_v<std::string_view, Boxed<std::string>>);
static_assert(std::is_constructible_v<Boxed<std::string>, std::string_view>);
static_assert(!std::is_convertible_v<std::string, Boxed<SequenceKey>>);

TEST(Boxed, MovesItsValueOutOfAnRvalue) {
  Boxed<std::string> a = std::string(100, 'm');
  const char* bytes = a->data();
  std::string taken = *std::move(a);
  EXPECT_EQ(taken.data(), bytes) << "the string's buffer moved, not copied";
  Boxed<std::string> b = std::string(100, 'n');
  bytes = b->data();
  std::optional<std::string> as_optional = std::move(b).to_optional();
  EXPECT_EQ(as_optional->data(), bytes);
}

TEST(Boxed, ConvertsToAndFromStdOptional) {
  std::optional<std::string> some = "x";
  Boxed<std::string> from_some = some;
  EXPECT_EQ(from_some, "x");
  Boxed<std::string> from_none = std::optional<std::string>{};
  EXPECT_FALSE(from_none);
  from_none = some;
  EXPECT_EQ(from_none, "x");
  from_none = std::optional<std::string>{};
  EXPECT_FALSE(from_none);
  EXPECT_EQ(from_some.to_optional(), some);
  EXPECT_EQ(from_none.to_optional(), std::nullopt);
}

// The point of Boxed: an unset rare field costs one pointer in every task the kernel holds. These
// are budgets for a 64-bit libstdc++ build, so that a new inline field is a visible decision
// (bench/RESULTS.md "bytes per pending task" follows from them).
TEST(Boxed, KeepsTheTaskRecordSmall) {
  EXPECT_EQ(sizeof(Boxed<SequenceKey>), sizeof(void*));
  if constexpr (sizeof(void*) == 8) {
    EXPECT_LE(sizeof(TaskSpec), 344u);
    EXPECT_LE(sizeof(TaskInfo), 480u);  // 472 + TaskInfo::undelivered (the kernel entry's backlog moved there)
  }
}

TEST(Boxed, TaskSpecFieldsReadAsBefore) {
  TaskSpec spec;
  spec.quota = QuotaSpec{"session-7/compaction", seconds(5), 3, false};
  spec.parent.run = "run-1";
  spec.key = SequenceKey{"a", "s", "p"};
  TaskSpec copy = spec;
  EXPECT_EQ(copy, spec);
  copy.quota->max_attempts = 4;
  EXPECT_NE(copy, spec);
  EXPECT_EQ(spec.quota->max_attempts, 3u);
  EXPECT_EQ(copy.parent.run, "run-1");
  EXPECT_FALSE(copy.parent.call);
}

}  // namespace
}  // namespace tasklane
