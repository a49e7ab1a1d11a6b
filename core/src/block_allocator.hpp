// BlockAllocator: memory for objects of one size, carved out of 8 KB blocks. The task table takes
// each task's entry from it: a task is spawned and forgotten at a rate where malloc and free cost
// ~340 instructions a task once a burst empties glibc's per-thread cache (the Asio strand takes
// spawns and outcomes in batches of hundreds; callgrind, asio_noop, 2026-11-29), where a block
// costs one allocation for ~45 entries and an entry a pointer pop.
//
// Each block keeps its free slots in a list; blocks with a free slot are linked, most recently
// freed into first. A block whose last object goes is freed (one empty block is kept, so that a
// table going back and forth across a block boundary does not allocate each time): memory follows
// the live objects, a block at a time. A block that keeps one long-lived object keeps its 8 KB.
//
// Under AddressSanitizer each object is its own allocation, so that a use after free is reported.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

// AddressSanitizer, as gcc (__SANITIZE_ADDRESS__) and clang (__has_feature) say it.
#if defined(__SANITIZE_ADDRESS__)
#define TASKLANE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TASKLANE_ASAN 1
#endif
#endif

namespace tasklane::detail {

template <std::size_t Size, std::size_t Align>
class BlockAllocator {
  static_assert(Align <= alignof(std::max_align_t) && (Align & (Align - 1)) == 0);

 public:
  static constexpr std::size_t block_bytes = 8192;

 private:
  struct Block {
    Block* prev = nullptr;  // in the list of blocks with a free slot
    Block* next = nullptr;
    void* free = nullptr;       // a slot given back; it holds the next one
    std::uint32_t live = 0;     // slots in use
    std::uint32_t carved = 0;   // slots handed out at least once (those after are untouched)
  };
  static constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
  static constexpr std::size_t slot_bytes = round_up(Size < sizeof(void*) ? sizeof(void*) : Size, Align);
  static constexpr std::size_t first_slot = round_up(sizeof(Block), Align);

 public:
  static constexpr std::uint32_t per_block = static_cast<std::uint32_t>((block_bytes - first_slot) / slot_bytes);
  static_assert(per_block >= 2, "objects this large want another allocator");

  BlockAllocator() = default;
  BlockAllocator(const BlockAllocator&) = delete;
  BlockAllocator& operator=(const BlockAllocator&) = delete;
  BlockAllocator(BlockAllocator&& other) noexcept { take_from(other); }
  BlockAllocator& operator=(BlockAllocator&& other) noexcept {  // onto one whose objects were all given back
    if (this != &other) {
      assert(blocks_ == 0 || (blocks_ == 1 && spare_ != nullptr));
      release_spare();
      take_from(other);
    }
    return *this;
  }
  // Every object must have been given back (their blocks are freed then, but the spare one).
  ~BlockAllocator() {
    assert(blocks_ == 0 || (blocks_ == 1 && spare_ != nullptr));
    release_spare();
  }

  // Memory for one object; throws std::bad_alloc (nothing changed) when a new block cannot be had.
  void* allocate() {
#if defined(TASKLANE_ASAN)
    return ::operator new(Size, std::align_val_t{Align});
#else
    Block* b = with_room_;
    if (b == nullptr) {
      b = spare_ != nullptr ? std::exchange(spare_, nullptr) : new_block();
      link(b);
    }
    void* slot = nullptr;
    if (b->free != nullptr) {
      slot = b->free;
      b->free = *static_cast<void**>(slot);
    } else {
      slot = reinterpret_cast<char*>(b) + first_slot + std::size_t{b->carved++} * slot_bytes;
    }
    if (++b->live == per_block) unlink(b);
    return slot;
#endif
  }

  // Gives back what allocate() answered.
  void deallocate(void* slot) noexcept {
#if defined(TASKLANE_ASAN)
    ::operator delete(slot, std::align_val_t{Align});
#else
    Block* b = reinterpret_cast<Block*>(reinterpret_cast<std::uintptr_t>(slot) & ~std::uintptr_t{block_bytes - 1});
    *static_cast<void**>(slot) = b->free;
    b->free = slot;
    if (b->live-- == per_block) link(b);  // it was full: it has room again
    if (b->live == 0) {
      unlink(b);
      if (spare_ == nullptr) {
        *b = Block{};
        spare_ = b;
      } else {
        free_block(b);
      }
    }
#endif
  }

  // Blocks held, the spare one included.
  std::size_t blocks() const { return blocks_; }

 private:
  Block* new_block() {
    void* memory = ::operator new(block_bytes, std::align_val_t{block_bytes});
    ++blocks_;
    return ::new (memory) Block{};
  }
  void free_block(Block* b) noexcept {
    --blocks_;
    ::operator delete(static_cast<void*>(b), std::align_val_t{block_bytes});
  }
  void link(Block* b) noexcept {
    b->prev = nullptr;
    b->next = with_room_;
    if (with_room_ != nullptr) with_room_->prev = b;
    with_room_ = b;
  }
  void unlink(Block* b) noexcept {
    if (b->prev != nullptr) {
      b->prev->next = b->next;
    } else {
      with_room_ = b->next;
    }
    if (b->next != nullptr) b->next->prev = b->prev;
    b->prev = b->next = nullptr;
  }
  void release_spare() noexcept {
    if (spare_ != nullptr) free_block(std::exchange(spare_, nullptr));
  }
  void take_from(BlockAllocator& other) noexcept {
    with_room_ = std::exchange(other.with_room_, nullptr);
    spare_ = std::exchange(other.spare_, nullptr);
    blocks_ = std::exchange(other.blocks_, 0);
  }

  Block* with_room_ = nullptr;  // blocks with a free slot and a live one, most recently freed into first
  Block* spare_ = nullptr;      // one empty block, kept
  std::size_t blocks_ = 0;
};

}  // namespace tasklane::detail
