// CommandQueue: the kernel's outbox. A vector with a read position: the driver drains it after
// every input, and once empty it restarts at the front and keeps its capacity, so steady state
// allocates nothing (a std::deque of Commands, each larger than a deque block, allocated a block
// per command).
//
// A Persist carries a whole TaskInfo (~950 bytes, against ~120 for a Notify), and a Command is as
// large as its largest alternative. The queue keeps a Persist boxed, so that a queued command is
// the size of a Notify: a bulk input (a tree cancel, 100k Notify commands) then fills and moves
// ~13 MB instead of ~96 MB. take_front() unboxes it into the Command the driver gets.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "tasklane/command.hpp"

namespace tasklane::detail {

class CommandQueue {
  using BoxedPersist = std::unique_ptr<command::Persist>;
  // Command's alternatives, with Persist boxed.
  using Item = std::variant<command::Start, command::Cancel, BoxedPersist, command::PersistSnapshot, command::Notify,
                            command::Deliver, command::FlushDone, command::Stopped, command::RunQueuedWork>;
  static_assert(std::variant_size_v<Item> == std::variant_size_v<Command>, "an alternative of Command is missing here");

 public:
  template <class C>
  void emplace_back(C&& command) {
    using T = std::remove_cvref_t<C>;
    if constexpr (std::is_same_v<T, command::Persist>) {
      items_.emplace_back(std::make_unique<command::Persist>(std::forward<C>(command)));
    } else {
      items_.emplace_back(std::in_place_type<T>, std::forward<C>(command));
    }
  }
  // A Persist of `record` (the kernel builds it from its compact record), moved into its box.
  void persist(TaskInfo&& record) {
    items_.emplace_back(std::make_unique<command::Persist>(command::Persist{std::move(record)}));
  }

  // Room for `more` commands beyond those queued, so that a bulk input moves the queue once at most.
  void reserve(std::size_t more) { items_.reserve(items_.size() + more); }
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }

  // Moves the first command out and drops it from the queue. The queue must not be empty. The
  // command is built in the caller's return slot: a local optional moved out was zeroed first
  // (~500 bytes a poll, half of Kernel::poll's time).
  std::optional<Command> take_front() {
    static_assert(std::is_nothrow_move_constructible_v<Command>,
                  "a command that threw while moving out would be dropped: the item is gone once taken");
    const Advance advance{*this};  // after the return value is built from the item
    return std::visit(
        [](auto& item) -> std::optional<Command> {
          using T = std::decay_t<decltype(item)>;
          if constexpr (std::is_same_v<T, BoxedPersist>) {
            return std::optional<Command>(std::in_place, std::in_place_type<command::Persist>, std::move(*item));
          } else {
            return std::optional<Command>(std::in_place, std::in_place_type<T>, std::move(item));
          }
        },
        items_[head_]);
  }

 private:
  struct Advance {
    CommandQueue& queue;
    ~Advance() {
      if (++queue.head_ == queue.items_.size()) {
        queue.items_.clear();
        queue.head_ = 0;
      }
    }
  };

  std::vector<Item> items_;
  std::size_t head_ = 0;
};

}  // namespace tasklane::detail
