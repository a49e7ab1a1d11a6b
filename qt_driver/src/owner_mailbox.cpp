// OwnerMailbox: a mutex-guarded queue with one coalesced wake-up event per batch.
#include "tasklane/qt/owner_mailbox.hpp"

#include <QMetaObject>
#include <utility>

namespace tasklane::qt {

void OwnerMailbox::post(std::function<void()> f) {
  std::lock_guard lock(mutex_);
  if (!owner_) return;
  queue_.push_back(std::move(f));
  if (wake_posted_) return;
  wake_posted_ = true;
  QMetaObject::invokeMethod(owner_, slot_, Qt::QueuedConnection);
}

void OwnerMailbox::run_posted() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    wake_posted_ = false;
    batch.swap(queue_);
  }
  // A closure may destroy the runtime (and close this mailbox): nothing after that may run.
  for (auto& f : batch) {
    if (closed_) return;
    f();
  }
}

void OwnerMailbox::close() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    owner_ = nullptr;
    closed_ = true;
    dropped.swap(queue_);
  }
}

}  // namespace tasklane::qt
