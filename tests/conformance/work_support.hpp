// What tests share for the work they run: a signal the test sets for its work, work that holds
// until then (or its cancellation), bounded polling, and a spec builder. Every wait is bounded by
// harness_timeout, so a broken driver fails a test instead of hanging it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "conformance/driver_harness.hpp"
#include "tasklane/drivers/handler_registry.hpp"
#include "tasklane/drivers/virtual_time_runtime.hpp"
#include "tasklane/task_spec.hpp"

namespace tasklane::conformance {

using namespace std::chrono_literals;

// A one-shot event shared by a test and the work it runs.
class Signal {
 public:
  void set() {
    {
      std::lock_guard lock(mutex_);
      set_ = true;
    }
    changed_.notify_all();
  }
  bool is_set() const {
    std::lock_guard lock(mutex_);
    return set_;
  }
  [[nodiscard]] bool wait_for(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return set_; });
  }
  [[nodiscard]] bool wait() const { return wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(harness_timeout)); }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool set_ = false;
};

// Blocks the work until `release` is set or (when `honour_cancel`) its attempt is cancelled, at
// most harness_timeout. Returns true when it ended because of the cancellation. It waits for the
// test, so on a virtual clock time may pass meanwhile.
inline bool hold(const drivers::WorkContext& ctx, const Signal& release, bool honour_cancel = true) {
  const sim::OutsideWait waiting_for_the_test;
  const auto until = std::chrono::steady_clock::now() + harness_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (honour_cancel && ctx.cancel.cancelled()) return true;
    if (release.wait_for(5ms)) return false;
  }
  return false;
}

// Polls `condition` until it holds, at most harness_timeout.
template <class F>
bool eventually(F condition) {
  const auto until = std::chrono::steady_clock::now() + harness_timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

inline TaskSpec task(std::string kind, std::string owner = "alice") {
  TaskSpec spec;
  spec.kind = std::move(kind);
  spec.owner = std::move(owner);
  return spec;
}

}  // namespace tasklane::conformance
