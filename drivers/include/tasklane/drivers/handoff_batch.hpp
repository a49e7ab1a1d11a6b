// HandoffBatch<T>: items handed from any thread to one consumer thread in batches. add() appends
// under a mutex and says whether this item must wake the consumer: only the first item after a
// take() does, so one wake-up (one post, one possible futex wake) carries everything added until
// the consumer takes the batch. Once closed, items are dropped. A consumer that hands its used batches
// back (recycle) makes the producers fill the same memory again.
//
// Used for the work reports coming back to RuntimeCore, the calls reaching the Asio strand from
// other threads, and the closures reaching a Qt runtime's thread (OwnerMailbox).
#pragma once

#include <algorithm>
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
  // The item is made in place from `item` (a T, or what a T is made from).
  template <class U, class OnWake>
  Added add(U&& item, OnWake&& on_wake) {
    std::lock_guard lock(mutex_);
    if (closed_) return Added::Dropped;
    items_.emplace_back(std::forward<U>(item));
    if (wake_pending_) return Added::Queued;
    wake_pending_ = true;
    on_wake();
    return Added::Wake;
  }
  template <class U>
  Added add(U&& item) {
    return add(std::forward<U>(item), [] {});
  }

  // Consumer: everything added since the last take, in order; the next add wakes again. The
  // producers go on in a vector with room for four times the batch taken: a recycled one if the
  // consumer gave one back that is big enough, else a new one, made outside the lock. Batches
  // grow while producers outpace the consumer (in a burst of spawns the Asio strand spends ~4x a
  // spawner's time per spawn, so each batch is ~4x the one before), and a vector that grows moves
  // every item it holds: a TaskSpec costs ~190 instructions to move. Room not filled costs
  // address space; its pages are touched only if a batch fills them.
  std::vector<T> take() {
    std::size_t taken = 0;
    {
      std::lock_guard lock(mutex_);
      taken = items_.size();
    }
    last_size_ = std::max<std::size_t>(taken, 8);  // the batch swapped out below holds these, and any added meanwhile
    std::vector<T> out = std::exchange(spare_, {});
    if (out.capacity() < growth * last_size_) {
      out = std::vector<T>();  // not `{}`: that assigns an initializer_list, which copies
      out.reserve(growth * last_size_);
    }
    std::lock_guard lock(mutex_);
    out.swap(items_);
    wake_pending_ = false;
    return out;
  }

  // Consumer: a batch take() answered, once its items are used (run, or moved from). Its memory
  // takes the batch after next, where a new vector a batch would page in megabytes (100k
  // fire-and-forget spawns) every time; kept only while it is not far over the room take() makes
  // for the last batch, so a burst's memory goes once the batches are small again.
  void recycle(std::vector<T>&& spent) noexcept {
    spent.clear();
    if (spent.capacity() > 2 * growth * last_size_ + 64 || spent.capacity() <= spare_.capacity()) return;
    spare_ = std::move(spent);
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
  std::vector<T> spare_;  // consumer only: a recycled batch for the next take
  static constexpr std::size_t growth = 4;
  std::size_t last_size_ = 8;  // of the last batch taken (at least 8)
  bool wake_pending_ = false;
  bool closed_ = false;
};

}  // namespace tasklane::drivers
