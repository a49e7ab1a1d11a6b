// KernelStats sum: every counter is added, so runs across crashes can be totalled.
#include <gtest/gtest.h>

#include "tasklane/stats.hpp"

namespace tasklane {
namespace {

KernelStats numbered(std::uint64_t base) {
  return KernelStats{base + 1, base + 2, base + 3, base + 4, base + 5, base + 6,
                     base + 7, base + 8, base + 9, base + 10, base + 11, base + 12};
}

TEST(KernelStats, SumAddsEveryCounter) {
  KernelStats total = numbered(0);
  total += numbered(100);
  EXPECT_EQ(total, (KernelStats{102, 104, 106, 108, 110, 112, 114, 116, 118, 120, 122, 124}));
}

}  // namespace
}  // namespace tasklane
