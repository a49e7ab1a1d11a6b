// FlatIdMap: task id -> small value, open addressing with linear probing and backward-shift
// deletion. No allocation per entry (one array, grown by doubling), which keeps the kernel's hot
// path free of node allocations where a std::set/std::map would allocate on every insert. The
// array shrinks when a quarter of its most is in use, so memory and for_each follow the live
// entries (erase never throws: a shrink that cannot allocate is skipped). Public (namespace detail)
// because the drivers keep per-task tables the same way (RuntimeCore's running attempts).
//
// find() and operator[] answer pointers and references that stay valid until the next put,
// operator[] that inserts, or erase (after reserve(n): until the map holds more than n, or erase).
//
// At most 1 / 2^LoadShift of the slots are in use (half by default). Dense ids make clusters (a
// window of consecutive ids fills runs of four slots, and an erase walks to the end of its
// cluster): a map erased from on every task (the running attempts of RuntimeCore) keeps a
// quarter (LoadShift 2), where half made an erase walk ~18 slots (2026-11-29).
#pragma once

#include <cstdint>
#include <new>
#include <optional>
#include <utility>
#include <vector>

namespace tasklane::detail {

template <class Value, unsigned LoadShift = 1>
class FlatIdMap {
  static_assert(LoadShift >= 1 && LoadShift <= 3);

 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  const Value* find(std::uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = home(key);; i = next(i)) {
      if (slots_[i].key == empty_key) return nullptr;
      if (slots_[i].key == key) return &slots_[i].value;
    }
  }
  Value* find(std::uint64_t key) { return const_cast<Value*>(std::as_const(*this).find(key)); }

  // The value of `key`, inserted default-constructed when absent.
  Value& operator[](std::uint64_t key) {
    if (((size_ + 1) << LoadShift) > slots_.size()) {
      if (Value* found = find(key)) return *found;  // present: no need to grow
      rehash(slots_.empty() ? 16 : slots_.size() * 2);
    }
    for (std::size_t i = home(key);; i = next(i)) {
      if (slots_[i].key == key) return slots_[i].value;
      if (slots_[i].key == empty_key) {
        slots_[i].key = key;  // its value is default: erase() and rehash() leave empty slots so
        ++size_;
        return slots_[i].value;
      }
    }
  }

  // Inserts or overwrites; answers the stored value (valid as operator[]'s answer is).
  Value& put(std::uint64_t key, Value value) { return (*this)[key] = std::move(value); }

  // Grows once so that `n` entries fit without a rehash per doubling (a caller about to insert a
  // known number of entries).
  void reserve(std::size_t n) {
    std::size_t capacity = slots_.empty() ? 16 : slots_.size();
    while ((n << LoadShift) > capacity) capacity *= 2;
    if (capacity > slots_.size()) rehash(capacity);
  }

  bool erase(std::uint64_t key) {
    if (slots_.empty()) return false;
    std::size_t i = home(key);
    for (;; i = next(i)) {
      if (slots_[i].key == empty_key) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: move later members of the probe run into the hole when their home allows.
    std::size_t hole = i;
    for (std::size_t j = next(i);; j = next(j)) {
      if (slots_[j].key == empty_key) break;
      const std::size_t h = home(slots_[j].key);
      const bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
      if (movable) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    if (slots_.size() > 64 && (size_ << (LoadShift + 2)) <= slots_.size()) {
      try {
        rehash(slots_.size() / 2);
      } catch (const std::bad_alloc&) {  // shrinking is only for memory: erase never throws
      }
    }
    return true;
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.key != empty_key) f(s.key, s.value);
    }
  }

 private:
  static constexpr std::uint64_t empty_key = ~std::uint64_t{0};  // ids never reach it
  struct Slot {
    std::uint64_t key = empty_key;
    Value value{};
  };

  // Ids come densely (0, 1, 2, ...): a run of 4 consecutive ids keeps 4 adjacent slots (a cache
  // line), and runs are scattered by a multiplicative hash. A walk over ids in order then touches
  // memory in order, while ids with a stride still spread over the whole array. Longer runs (16)
  // made long probe clusters, which backward-shift deletion walks.
  std::size_t home(std::uint64_t key) const {
    const auto run = static_cast<std::size_t>(((key >> 2) * 0x9E3779B97F4A7C15ull) >> shift_);
    return (run & ~std::size_t{3}) | static_cast<std::size_t>(key & 3);
  }
  std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }

  // Moves every entry into a new array of `capacity` slots (a power of two, over 2^LoadShift size_). The
  // array is allocated first: when that fails the map is as it was.
  void rehash(std::size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    shift_ = 64;
    for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (Slot& s : old) {
      if (s.key != empty_key) put(s.key, std::move(s.value));
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
  unsigned shift_ = 64;
};

}  // namespace tasklane::detail
