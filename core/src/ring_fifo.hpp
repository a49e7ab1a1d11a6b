// RingFifo: first in, first out, in a ring of slots whose count is a power of two. Push and pop are
// O(1) and move nothing: the ring doubles when full (copying its items once, in order) and keeps
// its capacity when emptied, so steady state allocates nothing. The kernel's order of terminal
// tasks pushes and pops one id a task, the timer queue's in-order run one timer a delayed task,
// and the ready queue's in-order runs one id a task.
// (A vector with a read position, moved down once half of it was read, cost one move per pop: a
// 40-byte timer a fire. A std::deque cost ~50 instructions a task.)
#pragma once

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace tasklane::detail {

template <class T>  // copyable, default-constructible
class RingFifo {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push_back(const T& item) {
    if (size_ == slots_.size()) grow_to(slots_.empty() ? 16 : slots_.size() * 2);
    slots_[(head_ + size_) & (slots_.size() - 1)] = item;
    ++size_;
  }
  const T& front() const {
    assert(!empty());
    return slots_[head_];
  }
  const T& back() const {
    assert(!empty());
    return slots_[(head_ + size_ - 1) & (slots_.size() - 1)];
  }
  const T& operator[](std::size_t i) const {  // the i-th from the front
    assert(i < size_);
    return slots_[(head_ + i) & (slots_.size() - 1)];
  }
  // Room for `n` items, so that pushing up to n after a clear() allocates nothing (and cannot throw).
  void reserve(std::size_t n) {
    if (n <= slots_.size()) return;
    std::size_t capacity = slots_.empty() ? 16 : slots_.size();
    while (capacity < n) capacity *= 2;
    grow_to(capacity);
  }
  void clear() {  // keeps the slots
    head_ = 0;
    size_ = 0;
  }
  T pop_front() {
    assert(!empty());
    T item = std::move(slots_[head_]);
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    return item;
  }

 private:
  // `capacity` slots (a power of two, over size_), the items moved to the front in order. Allocates
  // before it moves anything: when that throws the ring is as it was.
  [[gnu::noinline]] void grow_to(std::size_t capacity) {  // out of line: push_back stays small enough to inline
    std::vector<T> bigger(capacity);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;  // slots_[head_], ... (size_ of them, wrapping around) are queued
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace tasklane::detail
