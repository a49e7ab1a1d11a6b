// OwnerMailbox: how closures reach a QObject's thread from any thread. TaskRuntime gets the
// outcomes of its pool workers this way; a test or a program may use it for its own objects.
//
//   class Window : public QObject {
//     Q_OBJECT
//    public:
//     Q_INVOKABLE void runPosted() { mailbox_->run_posted(); }
//     std::shared_ptr<tasklane::qt::OwnerMailbox> mailbox_ =
//         std::make_shared<tasklane::qt::OwnerMailbox>(this, "runPosted");
//   };
//   window.mailbox_->post([&] { label = "done"; });   // from any thread
//
// Closures wait in a drivers::HandoffBatch (a queue guarded by a std::mutex); one queued call of the
// owner's slot (invoked by name, so the event carries no data of ours) runs them all, in order.
// Why not post each closure as its own event (QMetaObject::invokeMethod with a lambda):
//  - a worker may finish after the runtime is gone: close() under the same mutex makes "is the
//    owner alive, then post" atomic with the destructor, so a late post is dropped, not delivered
//    to a dead QObject;
//  - Qt is not built with ThreadSanitizer, so a hand-off through its event queue is invisible to
//    TSan; the std::mutex is the happens-before edge TSan can see.
#pragma once

#include <QObject>
#include <functional>

#include "tasklane/drivers/handoff_batch.hpp"

namespace tasklane::qt {

class OwnerMailbox {
 public:
  // `slot` names a Q_INVOKABLE of `owner` that calls run_posted().
  OwnerMailbox(QObject* owner, const char* slot) : owner_(owner), slot_(slot) {}

  void post(std::function<void()> f);  // any thread; dropped once closed
  void run_posted();                   // owner thread: one batch, stops early if closed meanwhile
  void close();                        // owner thread: drops what waits and everything posted later

 private:
  QObject* owner_;
  const char* slot_;
  drivers::HandoffBatch<std::function<void()>> batch_;
  bool closed_ = false;  // owner thread only
};

}  // namespace tasklane::qt
