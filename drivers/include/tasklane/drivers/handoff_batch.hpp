// HandoffBatch<T>: items handed from any thread to one consumer thread in batches. add() appends
// under a mutex and says whether this item must wake the consumer: only the first item after a
// take() does, so one wake-up (one post, one possible futex wake) carries everything added until
// the consumer takes the batch. Once closed, items are dropped.
//
// Used for the work reports coming back to RuntimeCore, the calls reaching the Asio strand from
// other threads, and the closures reaching a Qt runtime's thread (OwnerMailbox).
#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace tasklane::drivers {

template <class T>
class HandoffBatch {
 public:
  enum class Added { Queued, Wake, Dropped };

  // Any thread. Wake: the caller must make the consumer call take() (exactly once for this batch).
  // `on_wake` runs under the lock when the item is the first of a batch, so that posting the
  // wake-up is atomic with close(); it must not call back into this object.
  template <class OnWake>
  Added add(T item, OnWake&& on_wake) {
    std::lock_guard lock(mutex_);
    if (closed_) return Added::Dropped;
    items_.push_back(std::move(item));
    if (wake_pending_) return Added::Queued;
    wake_pending_ = true;
    on_wake();
    return Added::Wake;
  }
  Added add(T item) {
    return add(std::move(item), [] {});
  }

  // Consumer: everything added since the last take, in order; the next add wakes again.
  std::vector<T> take() {
    std::vector<T> out;
    out.reserve(spare_capacity_);
    std::lock_guard lock(mutex_);
    out.swap(items_);
    wake_pending_ = false;
    spare_capacity_ = out.size();
    return out;
  }

  // Drops what waits and everything added later; returns the dropped items (to destroy outside).
  std::vector<T> close() {
    std::vector<T> dropped;
    std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(items_);
    return dropped;
  }

 private:
  std::mutex mutex_;
  std::vector<T> items_;
  std::size_t spare_capacity_ = 16;
  bool wake_pending_ = false;
  bool closed_ = false;
};

}  // namespace tasklane::drivers
