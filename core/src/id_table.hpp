// IdTable: the kernel's task table, keyed by TaskId, iterated in id order. Ids are handed out densely
// (0, 1, 2, ...), so entries live in pages of 256 slots indexed by id / 256: a lookup is one flat
// hash probe for the page and one array index, where a std::map walked ~20 nodes of ~1 KB each at a
// million tasks (a cache miss per level). Pages are created on first use and freed when their last
// entry leaves, so memory follows the live ids (a page costs 2 KB of slots; a page that keeps only
// one long-lived task keeps those 2 KB).
//
// Entries come from a BlockAllocator (8 KB blocks of ~45 entries each; a page of 256 inline entries
// would keep 45 KB alive for one long-lived task): an erased entry's memory serves the next one,
// a spawn -> complete cycle allocates nothing, and a burst of spawns allocates a block per ~45.
//
// The interface is std::map's subset the kernel uses: find, at, count, operator[], erase(iterator),
// empty, size, and iteration in id order yielding std::pair<const TaskId, V>. Unlike std::map,
// erase() may free the page of the erased entry: do not erase while iterating.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "block_allocator.hpp"
#include "tasklane/flat_id_map.hpp"
#include "tasklane/task_id.hpp"

namespace tasklane::detail {

template <class V>
class IdTable {
 public:
  using value_type = std::pair<const TaskId, V>;

 private:
  static constexpr unsigned page_bits = 8;
  static constexpr std::uint64_t page_size = std::uint64_t{1} << page_bits;
  using Entries = BlockAllocator<sizeof(value_type), alignof(value_type)>;
  struct Page {
    std::array<value_type*, page_size> slots{};  // owned by the table
    std::size_t live = 0;
  };

  template <bool Const>
  class Iter {
   public:
    using Ref = std::conditional_t<Const, const value_type&, value_type&>;
    using Ptr = std::conditional_t<Const, const value_type*, value_type*>;
    Iter() = default;
    Ref operator*() const { return *page_->slots[slot_]; }
    Ptr operator->() const { return page_->slots[slot_]; }
    Iter& operator++() {
      ++slot_;
      settle();
      return *this;
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.page_ == b.page_ && (!a.page_ || a.slot_ == b.slot_); }

   private:
    friend class IdTable;
    template <bool>
    friend class Iter;
    Iter(const IdTable* table, Page* page, std::uint64_t page_no, std::size_t slot)
        : table_(table), page_(page), page_no_(page_no), slot_(slot) {}
    // Moves forward to the first occupied slot at or after the current one.
    void settle() {
      while (page_) {
        while (slot_ < page_size && !page_->slots[slot_]) ++slot_;
        if (slot_ < page_size) return;
        const auto next = table_->pages_.upper_bound(page_no_);
        if (next == table_->pages_.end()) {
          page_ = nullptr;
          return;
        }
        page_no_ = next->first;
        page_ = next->second.get();
        slot_ = 0;
      }
    }
    const IdTable* table_ = nullptr;
    Page* page_ = nullptr;
    std::uint64_t page_no_ = 0;
    std::size_t slot_ = 0;
  };

 public:
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  IdTable() = default;
  IdTable(const IdTable&) = delete;
  IdTable& operator=(const IdTable&) = delete;
  IdTable(IdTable&& other) noexcept { take_from(other); }
  IdTable& operator=(IdTable&& other) noexcept {
    if (this != &other) {
      destroy_all();
      take_from(other);
    }
    return *this;
  }
  ~IdTable() { destroy_all(); }

  iterator begin() { return first<false>(); }
  iterator end() { return iterator(); }
  const_iterator begin() const { return first<true>(); }
  const_iterator end() const { return const_iterator(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The 8 KB blocks the entries live in (0 under AddressSanitizer: an entry each).
  std::size_t entry_blocks() const { return entries_.blocks(); }

  iterator find(TaskId id) { return locate<false>(id); }
  const_iterator find(TaskId id) const { return locate<true>(id); }
  std::size_t count(TaskId id) const { return find(id) == end() ? 0 : 1; }

  V& at(TaskId id) {
    const auto it = find(id);
    if (it == end()) throw std::out_of_range("IdTable::at: unknown task id");
    return it->second;
  }
  const V& at(TaskId id) const {
    const auto it = find(id);
    if (it == end()) throw std::out_of_range("IdTable::at: unknown task id");
    return it->second;
  }

  V& operator[](TaskId id) {
    const std::uint64_t page_no = id.value >> page_bits;
    Page* page = nullptr;
    if (Page** found = index_.find(page_no)) {
      page = *found;
    } else {
      auto made = std::make_unique<Page>();
      page = made.get();
      const auto placed = pages_.emplace(page_no, std::move(made)).first;
      try {
        index_.put(page_no, page);
      } catch (...) {  // out of memory: no page the index does not know
        pages_.erase(placed);
        throw;
      }
    }
    auto& slot = page->slots[id.value & (page_size - 1)];
    if (!slot) {
      void* memory = entries_.allocate();
      try {
        slot = ::new (memory) value_type(std::piecewise_construct, std::forward_as_tuple(id), std::forward_as_tuple());
      } catch (...) {
        entries_.deallocate(memory);
        throw;
      }
      ++page->live;
      ++size_;
    }
    return slot->second;
  }

  void erase(iterator it) {
    Page* page = it.page_;
    destroy(std::exchange(page->slots[it.slot_], nullptr));
    --size_;
    if (--page->live == 0) {
      index_.erase(it.page_no_);
      pages_.erase(it.page_no_);
    }
  }

 private:
  template <bool Const>
  Iter<Const> first() const {
    if (pages_.empty()) return Iter<Const>();
    Iter<Const> it(this, pages_.begin()->second.get(), pages_.begin()->first, 0);
    it.settle();
    return it;
  }
  template <bool Const>
  Iter<Const> locate(TaskId id) const {
    const std::uint64_t page_no = id.value >> page_bits;
    Page* const* found = index_.find(page_no);
    if (!found) return Iter<Const>();
    const std::size_t slot = id.value & (page_size - 1);
    if (!(*found)->slots[slot]) return Iter<Const>();
    return Iter<Const>(this, *found, page_no, slot);
  }

  void destroy(value_type* entry) noexcept {
    entry->~value_type();
    entries_.deallocate(entry);
  }
  void destroy_all() noexcept {
    for (auto& [page_no, page] : pages_) {
      for (value_type*& entry : page->slots) {
        if (entry) destroy(std::exchange(entry, nullptr));
      }
    }
    pages_.clear();
    index_ = FlatIdMap<Page*>{};
    size_ = 0;
  }
  void take_from(IdTable& other) noexcept {
    pages_ = std::move(other.pages_);
    index_ = std::move(other.index_);
    size_ = std::exchange(other.size_, 0);
    entries_ = std::move(other.entries_);
    other.pages_.clear();
    other.index_ = FlatIdMap<Page*>{};
  }

  std::map<std::uint64_t, std::unique_ptr<Page>> pages_;  // in id order, for iteration
  FlatIdMap<Page*> index_;                                 // page number -> page, for lookups
  std::size_t size_ = 0;
  Entries entries_;  // the entries' memory
};

}  // namespace tasklane::detail
