// PoolWork: work functions the runtime hands to a QThreadPool, counted so that the runtime's
// destructor can wait for the ones executing (they hold the user's handlers and what those
// capture) and skip the ones still queued in the pool.
#pragma once

#include <QRunnable>
#include <QThreadPool>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

namespace tasklane::qt {

class PoolWork : public std::enable_shared_from_this<PoolWork> {
 public:
  explicit PoolWork(QThreadPool* pool) : pool_(pool) {}

  // Owner thread. `f` runs on a pool thread unless close_and_wait() came first.
  void start(std::function<void()> f) {
    auto* runner = new Runner(shared_from_this(), std::move(f));
    handoff();
    pool_->start(runner);  // the pool deletes it once it ran
  }

  // Owner thread, once: from now on queued work is skipped; returns when none is executing.
  void close_and_wait() {
    std::unique_lock lock(mutex_);
    closed_ = true;
    idle_.wait(lock, [&] { return executing_ == 0; });
  }

 private:
  class Runner : public QRunnable {
   public:
    Runner(std::shared_ptr<PoolWork> work, std::function<void()> f) : work_(std::move(work)), f_(std::move(f)) {}
    void run() override {
      handoff();  // before reading anything the owner thread wrote
      if (!work_->enter()) return;
      f_();
      f_ = nullptr;  // what the work captured is released before the destructor may go on
      work_->leave();
    }

   private:
    std::shared_ptr<PoolWork> work_;
    std::function<void()> f_;
  };

  // The pool's queue orders the runner's construction before its run(), but that ordering lives
  // inside libQt6Core, where ThreadSanitizer cannot see it. An empty critical section on one
  // std::mutex, on both sides of the hand-off, is the same edge in a form TSan understands; it
  // costs an uncontended lock per attempt.
  static void handoff() {
    static std::mutex fence;
    std::lock_guard lock(fence);
  }

  bool enter() {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    ++executing_;
    return true;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    if (--executing_ == 0) idle_.notify_all();
  }

  QThreadPool* pool_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int executing_ = 0;
  bool closed_ = false;
};

}  // namespace tasklane::qt
