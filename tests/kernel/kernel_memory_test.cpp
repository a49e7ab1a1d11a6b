// What the kernel holds goes away with the tasks: a forgotten task gives its pooled kind and owner
// back (TaskRecord, StringPool), so a stream of tasks with ever-new owners does not grow the heap.
// Measured with glibc's mallinfo2 (the kernel is single-threaded here; no timing is asserted).
#include <gtest/gtest.h>

#include <malloc.h>

#include <string>

#include "kernel/kernel_fixture.hpp"

namespace tasklane {
namespace {

using testkit::ms;

// The sanitizers bring their own allocator: gcc says so with macros, clang with __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TASKLANE_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TASKLANE_TEST_SANITIZED 1
#endif
#endif
#if defined(TASKLANE_TEST_SANITIZED)
constexpr bool heap_is_glibc = false;
#else
constexpr bool heap_is_glibc = true;
#endif

std::size_t heap_in_use() { return mallinfo2().uordblks; }

// Spawns, runs and completes `n` tasks, each with an owner and a kind of its own (longer than the
// small-string buffer, so every name is on the heap).
void run_tasks_with_new_names(Kernel& k, int first, int n) {
  for (int i = first; i < first + n; ++i) {
    const std::string suffix = std::to_string(i) + "-a-name-longer-than-sso";
    const auto id = k.spawn(testkit::task("kind-" + suffix, "owner-" + suffix), ms(i));
    ASSERT_TRUE(id.has_value());
    (void)testkit::drain(k);  // dropped: a Harness would log them
    k.complete(id.value(), 1, Outcome::success(), ms(i));
    (void)testkit::drain(k);
  }
}

TEST(KernelMemory, ForgottenTasksGiveTheirNamesBack) {
  if (!heap_is_glibc) GTEST_SKIP() << "mallinfo2 does not see a sanitizer's heap";
  Config config;
  config.retained_terminal = 0;  // each task is forgotten as it ends
  Kernel k(config);
  run_tasks_with_new_names(k, 0, 2000);  // warm up: containers reach their steady capacity
  const std::size_t before = heap_in_use();
  if (before == 0) GTEST_SKIP() << "mallinfo2 sees no heap (another allocator)";
  run_tasks_with_new_names(k, 2000, 20000);
  const std::size_t after = heap_in_use();
  // Kept names would be 20000 x (two pool nodes and their texts, ~200 bytes): 4 MB.
  EXPECT_LT(after > before ? after - before : 0, std::size_t{256} * 1024)
      << "the heap grew by " << (after - before) << " bytes over 20000 forgotten tasks";
  EXPECT_EQ(k.unfinished(), 0u);
  EXPECT_FALSE(k.get(TaskId{21999}).has_value());  // forgotten
}

}  // namespace
}  // namespace tasklane
