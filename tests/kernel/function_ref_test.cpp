// FunctionRef: calls the callable it borrows (state and all), and refuses a temporary.
#include "../../core/src/function_ref.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace tasklane {
namespace {

TEST(FunctionRef, CallsTheBorrowedCallableWithItsState) {
  int calls = 0;
  auto count_and_measure = [&calls](const std::string& s) {
    ++calls;
    return s.size();
  };
  const detail::FunctionRef<std::size_t(const std::string&)> ref(count_and_measure);
  EXPECT_EQ(ref("four"), 4u);
  EXPECT_EQ(ref(""), 0u);
  EXPECT_EQ(calls, 2);
}

TEST(FunctionRef, BindsAConstCallableAndAMutableOne) {
  const auto is_even = [](int n) { return n % 2 == 0; };
  int total = 0;
  auto add = [&total](int n) mutable {
    total += n;
    return true;
  };
  const detail::FunctionRef<bool(int)> even(is_even);
  const detail::FunctionRef<bool(int)> adder(add);
  EXPECT_TRUE(even(4));
  EXPECT_FALSE(even(3));
  adder(5);
  adder(6);
  EXPECT_EQ(total, 11);
}

using Ref = detail::FunctionRef<bool(int)>;
struct Callable {
  bool operator()(int) const { return true; }
};
static_assert(std::is_constructible_v<Ref, Callable&>, "a named callable binds");
static_assert(!std::is_constructible_v<Ref, Callable&&>, "a temporary would dangle: refused");
static_assert(!std::is_constructible_v<Ref, Callable>, "a temporary would dangle: refused");

}  // namespace
}  // namespace tasklane
