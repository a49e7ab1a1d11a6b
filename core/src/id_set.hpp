// IdSet: an ordered set of task ids as bitmaps of 256 ids, for the per-owner index. Inserting and
// erasing an id touches one bit (and allocates only when its block of 256 ids is new), where a
// std::set<TaskId> allocated a node per task. Iteration yields the ids in increasing order.
//
// The interface is std::set's subset the kernel uses: insert, erase(id), count, empty, size,
// begin/end (input iterators yielding TaskId by value).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <utility>

#include "tasklane/task_id.hpp"

namespace tasklane::detail {

class IdSet {
  static constexpr unsigned block_bits = 8;  // 256 ids a block
  using Block = std::array<std::uint64_t, 4>;
  using Blocks = std::map<std::uint64_t, Block>;

 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = TaskId;
    using difference_type = std::ptrdiff_t;
    using pointer = const TaskId*;
    using reference = TaskId;

    iterator() = default;
    TaskId operator*() const { return TaskId{(block_->first << block_bits) | bit_}; }
    iterator& operator++() {
      ++bit_;
      settle();
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) {
      const bool a_end = a.block_ == a.end_, b_end = b.block_ == b.end_;
      if (a_end || b_end) return a_end == b_end;
      return a.block_ == b.block_ && a.bit_ == b.bit_;
    }

   private:
    friend class IdSet;
    iterator(Blocks::const_iterator block, Blocks::const_iterator end) : block_(block), end_(end) { settle(); }
    // Moves to the first set bit at or after bit_.
    void settle() {
      while (block_ != end_) {
        for (unsigned word = bit_ / 64; word < 4 && bit_ < 256; ++word) {
          const std::uint64_t rest = block_->second[word] & (~std::uint64_t{0} << (bit_ % 64));
          if (rest) {
            bit_ = word * 64 + static_cast<unsigned>(std::countr_zero(rest));
            return;
          }
          bit_ = (word + 1) * 64;
        }
        ++block_;
        bit_ = 0;
      }
    }
    Blocks::const_iterator block_{}, end_{};
    unsigned bit_ = 0;
  };

  IdSet() = default;
  // Copies and moves leave `recent_` behind: it points into the set it was found in.
  IdSet(const IdSet& other) : blocks_(other.blocks_), size_(other.size_) {}
  IdSet(IdSet&& other) noexcept : blocks_(std::move(other.blocks_)), size_(other.size_) { other.clear(); }
  IdSet& operator=(const IdSet& other) {
    if (this != &other) {
      blocks_ = other.blocks_;
      size_ = other.size_;
      recent_ = nullptr;
    }
    return *this;
  }
  IdSet& operator=(IdSet&& other) noexcept {
    if (this != &other) {
      blocks_ = std::move(other.blocks_);
      size_ = other.size_;
      recent_ = nullptr;
      other.clear();
    }
    return *this;
  }
  ~IdSet() = default;

  bool insert(TaskId id) {
    std::uint64_t& word = block_for_insert(id.value >> block_bits)[(id.value >> 6) & 3];
    const std::uint64_t mask = std::uint64_t{1} << (id.value & 63);
    if (word & mask) return false;
    word |= mask;
    ++size_;
    return true;
  }
  std::size_t erase(TaskId id) {
    const std::uint64_t key = id.value >> block_bits;
    Block* b = block(key);
    if (b == nullptr) return 0;
    std::uint64_t& word = (*b)[(id.value >> 6) & 3];
    const std::uint64_t mask = std::uint64_t{1} << (id.value & 63);
    if (!(word & mask)) return 0;
    word &= ~mask;
    --size_;
    if (((*b)[0] | (*b)[1] | (*b)[2] | (*b)[3]) == 0) {
      if (recent_ == b) recent_ = nullptr;
      blocks_.erase(key);
    }
    return 1;
  }
  std::size_t count(TaskId id) const {
    const auto it = find_block(id.value >> block_bits);
    return it != blocks_.end() && (it->second[(id.value >> 6) & 3] >> (id.value & 63) & 1) ? 1 : 0;
  }
  bool empty() const { return size_ == 0; }
  void clear() {
    blocks_.clear();
    size_ = 0;
    recent_ = nullptr;
  }
  std::size_t size() const { return size_; }
  iterator begin() const { return iterator(blocks_.begin(), blocks_.end()); }
  iterator end() const { return iterator(blocks_.end(), blocks_.end()); }

 private:
  // Ids come and go mostly in order: new ones land in the last block, the oldest leave the first.
  // Both ends are found in O(1) before the O(log n) search.
  Blocks::const_iterator find_block(std::uint64_t key) const {
    if (blocks_.empty()) return blocks_.end();
    if (blocks_.begin()->first == key) return blocks_.begin();
    if (const auto last = std::prev(blocks_.end()); last->first == key) return last;
    return blocks_.find(key);
  }
  Blocks::iterator find_block(std::uint64_t key) {
    if (blocks_.empty()) return blocks_.end();
    if (blocks_.begin()->first == key) return blocks_.begin();
    if (const auto last = std::prev(blocks_.end()); last->first == key) return last;
    return blocks_.find(key);
  }
  // The block of `key`, or nullptr; the one found last is kept for the next call (map nodes keep
  // their address until erased).
  Block* block(std::uint64_t key) {
    if (recent_ != nullptr && recent_key_ == key) return recent_;
    const auto it = find_block(key);
    if (it == blocks_.end()) return nullptr;
    recent_ = &it->second;
    recent_key_ = key;
    return recent_;
  }
  Block& block_for_insert(std::uint64_t key) {
    if (!blocks_.empty()) {
      const auto last = std::prev(blocks_.end());
      if (last->first == key) return last->second;
      if (last->first < key) return blocks_.emplace_hint(blocks_.end(), key, Block{})->second;  // O(1) at the end
    }
    return blocks_[key];
  }

  Blocks blocks_;
  std::size_t size_ = 0;
  Block* recent_ = nullptr;  // a node of blocks_ (never of another set's): see block()
  std::uint64_t recent_key_ = 0;
};

}  // namespace tasklane::detail
