// CancellationToken: how running work learns that its attempt was cancelled or timed out. Work can
// poll cancelled() or register a callback; the driver fires it when the kernel says Cancel.
// Thread-safe: the driver fires on its own thread while the work runs on another.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace tasklane::drivers {

class CancellationPool;

class CancellationState {
 public:
  bool cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }
  // Runs `callback` once on cancellation: at once (on this thread) if already cancelled.
  void on_cancel(std::function<void()> callback) {
    {
      std::lock_guard lock(mutex_);
      if (!cancelled_) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }
  void cancel() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return;
      cancelled_ = true;
      callbacks.swap(callbacks_);
    }
    for (auto& c : callbacks) c();
  }

 private:
  friend class CancellationPool;
  // As made: not cancelled, no callbacks (those of the attempt before are dropped, never run). For
  // a state nobody else holds; the lock orders this after the last holder's calls.
  void reset() {
    std::vector<std::function<void()>> dropped;
    std::lock_guard lock(mutex_);
    cancelled_ = false;
    dropped.swap(callbacks_);
  }

  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::vector<std::function<void()>> callbacks_;
};

class CancellationToken {
 public:
  CancellationToken() : state_(std::make_shared<CancellationState>()) {}
  bool cancelled() const { return state_->cancelled(); }
  void on_cancel(std::function<void()> callback) const { state_->on_cancel(std::move(callback)); }
  void cancel() const { state_->cancel(); }

 private:
  friend class CancellationPool;  // the owner's spare states (drivers/src/cancellation_pool.hpp)
  explicit CancellationToken(std::shared_ptr<CancellationState> state) : state_(std::move(state)) {}

  std::shared_ptr<CancellationState> state_;
};

}  // namespace tasklane::drivers
