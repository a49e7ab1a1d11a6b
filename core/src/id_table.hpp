// IdTable: the kernel's task table, keyed by TaskId, iterated in id order. Ids are handed out densely
// (0, 1, 2, ...), so entries live in pages of 256 slots indexed by id / 256: a lookup is one flat
// hash probe for the page and one array index, where a std::map walked ~20 nodes of ~1 KB each at a
// million tasks (a cache miss per level). Pages are created on first use and freed when their last
// entry leaves, so memory follows the live ids (a page costs 2 KB of slots; a page that keeps only
// one long-lived task keeps those 2 KB).
//
// Entries are allocated one by one (a page of 256 inline entries would keep 45 KB alive for one
// long-lived task), but the memory of erased entries is kept for the next ones: up to half as many
// as the live entries, and at least 64 (none under AddressSanitizer, so that a use after erase is
// still reported). A spawn -> complete cycle then allocates nothing, nor does a burst of spawns
// after a burst of ends (the Asio strand takes each in batches of hundreds; with 64 kept, each
// entry beyond them cost a malloc and a free, ~400 instructions). As the table empties, each erase
// frees what is kept beyond half the rest.
//
// The interface is std::map's subset the kernel uses: find, at, count, operator[], erase(iterator),
// empty, size, and iteration in id order yielding std::pair<const TaskId, V>. Unlike std::map,
// erase() may free the page of the erased entry: do not erase while iterating.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tasklane/flat_id_map.hpp"
#include "tasklane/task_id.hpp"

// AddressSanitizer, as gcc (__SANITIZE_ADDRESS__) and clang (__has_feature) say it.
#if defined(__SANITIZE_ADDRESS__)
#define TASKLANE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TASKLANE_ASAN 1
#endif
#endif

namespace tasklane::detail {

template <class V>
class IdTable {
 public:
  using value_type = std::pair<const TaskId, V>;

 private:
  static constexpr unsigned page_bits = 8;
  static constexpr std::uint64_t page_size = std::uint64_t{1} << page_bits;
#if defined(TASKLANE_ASAN)
  static constexpr std::size_t min_spare = 0;  // AddressSanitizer must see an erased entry freed
  static constexpr unsigned spare_shift = 63;
#else
  static constexpr std::size_t min_spare = 64;
  static constexpr unsigned spare_shift = 1;  // up to half the live entries
#endif
  static_assert(alignof(value_type) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "entries come from plain operator new");
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
  // Erased entries' memory kept for the next ones.
  std::size_t spare_entries() const { return spare_.size(); }

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
      void* memory = spare_.empty() ? ::operator new(sizeof(value_type)) : spare_.back();
      if (!spare_.empty()) spare_.pop_back();
      try {
        slot = ::new (memory) value_type(std::piecewise_construct, std::forward_as_tuple(id), std::forward_as_tuple());
      } catch (...) {
        recycle(memory);
        throw;
      }
      ++page->live;
      ++size_;
    }
    return slot->second;
  }

  void erase(iterator it) {
    Page* page = it.page_;
    --size_;
    destroy(std::exchange(page->slots[it.slot_], nullptr));
    while (spare_.size() > spare_room()) {
      ::operator delete(spare_.back());
      spare_.pop_back();
    }
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

  void destroy(value_type* entry) {
    entry->~value_type();
    recycle(entry);
  }
  std::size_t spare_room() const { return std::max(min_spare, size_ >> spare_shift); }
  void recycle(void* memory) {
    if (spare_.size() < spare_room()) {
      try {
        spare_.push_back(memory);
        return;
      } catch (...) {  // no room to remember it: give it back
      }
    }
    ::operator delete(memory);
  }
  void destroy_all() noexcept {
    for (auto& [page_no, page] : pages_) {
      for (value_type*& entry : page->slots) {
        if (entry) {
          entry->~value_type();
          ::operator delete(std::exchange(entry, nullptr));
        }
      }
    }
    pages_.clear();
    index_ = FlatIdMap<Page*>{};
    size_ = 0;
    for (void* memory : spare_) ::operator delete(memory);
    spare_.clear();
  }
  void take_from(IdTable& other) noexcept {
    pages_ = std::move(other.pages_);
    index_ = std::move(other.index_);
    size_ = std::exchange(other.size_, 0);
    spare_ = std::move(other.spare_);
    other.pages_.clear();
    other.index_ = FlatIdMap<Page*>{};
    other.spare_.clear();
  }

  std::map<std::uint64_t, std::unique_ptr<Page>> pages_;  // in id order, for iteration
  FlatIdMap<Page*> index_;                                 // page number -> page, for lookups
  std::size_t size_ = 0;
  std::vector<void*> spare_;  // memory of erased entries, for the next ones
};

}  // namespace tasklane::detail
