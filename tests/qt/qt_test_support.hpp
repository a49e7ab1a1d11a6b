// Small helpers for the Qt driver's own tests (the conformance suite has its own): a gate the test
// opens for the work it runs, and bounded polling.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "conformance/driver_harness.hpp"
#include "tasklane/drivers/handler_registry.hpp"

namespace tasklane::qt_test {

using namespace std::chrono_literals;

class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  bool is_open() const {
    std::lock_guard lock(mutex_);
    return open_;
  }
  [[nodiscard]] bool wait_for(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return open_; });
  }
  [[nodiscard]] bool wait() const {
    return wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(conformance::harness_timeout));
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool open_ = false;
};

// Holds the work until `gate` opens or its attempt is cancelled (bounded); true when cancelled.
inline bool hold(const drivers::WorkContext& ctx, const Gate& gate) {
  const auto until = std::chrono::steady_clock::now() + conformance::harness_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (ctx.cancel.cancelled()) return true;
    if (gate.wait_for(5ms)) return false;
  }
  return false;
}

template <class F>
bool eventually(F condition) {
  const auto until = std::chrono::steady_clock::now() + conformance::harness_timeout;
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

}  // namespace tasklane::qt_test
