// IdTable: the kernel's task table, keyed by TaskId, iterated in id order. Ids are handed out densely
// (0, 1, 2, ...), so entries live in pages of 256 slots indexed by id / 256: a lookup is one flat
// hash probe for the page and one array index, where a std::map walked ~20 nodes of ~1 KB each at a
// million tasks (a cache miss per level). Pages are created on first use and freed when their last
// entry leaves, so memory follows the live ids (a page costs 2 KB of slots; a page that keeps only
// one long-lived task keeps those 2 KB).
//
// The interface is std::map's subset the kernel uses: find, at, count, operator[], erase(iterator),
// empty, size, and iteration in id order yielding std::pair<const TaskId, V>. Unlike std::map,
// erase() may free the page of the erased entry: do not erase while iterating.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

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
  struct Page {
    std::array<std::unique_ptr<value_type>, page_size> slots;
    std::size_t live = 0;
  };

  template <bool Const>
  class Iter {
   public:
    using Ref = std::conditional_t<Const, const value_type&, value_type&>;
    using Ptr = std::conditional_t<Const, const value_type*, value_type*>;
    Iter() = default;
    Ref operator*() const { return *page_->slots[slot_]; }
    Ptr operator->() const { return page_->slots[slot_].get(); }
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
  IdTable(IdTable&&) noexcept = default;
  IdTable& operator=(IdTable&&) noexcept = default;

  iterator begin() { return first<false>(); }
  iterator end() { return iterator(); }
  const_iterator begin() const { return first<true>(); }
  const_iterator end() const { return const_iterator(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

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
      pages_.emplace(page_no, std::move(made));
      index_.put(page_no, page);
    }
    auto& slot = page->slots[id.value & (page_size - 1)];
    if (!slot) {
      slot = std::make_unique<value_type>(std::piecewise_construct, std::forward_as_tuple(id), std::forward_as_tuple());
      ++page->live;
      ++size_;
    }
    return slot->second;
  }

  void erase(iterator it) {
    Page* page = it.page_;
    page->slots[it.slot_].reset();
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

  std::map<std::uint64_t, std::unique_ptr<Page>> pages_;  // in id order, for iteration
  FlatIdMap<Page*> index_;                                 // page number -> page, for lookups
  std::size_t size_ = 0;
};

}  // namespace tasklane::detail
