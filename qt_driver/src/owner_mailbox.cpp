// OwnerMailbox: a HandoffBatch of closures with one coalesced wake-up event per batch.
#include "tasklane/qt/owner_mailbox.hpp"

#include <QMetaObject>
#include <utility>

namespace tasklane::qt {

void OwnerMailbox::post(std::function<void()> f) {
  // The wake-up is posted under the batch's lock, so that it cannot race close().
  batch_.add(std::move(f), [this] { QMetaObject::invokeMethod(owner_, slot_, Qt::QueuedConnection); });
}

void OwnerMailbox::run_posted() {
  auto batch = batch_.take();
  // A closure may destroy the runtime (and close this mailbox): nothing after that may run.
  for (auto& f : batch) {
    if (closed_) return;
    f();
  }
}

void OwnerMailbox::close() {
  closed_ = true;
  (void)batch_.close();  // dropped closures are destroyed here, outside the lock
}

}  // namespace tasklane::qt
