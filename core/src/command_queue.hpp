// CommandQueue: the kernel's outbox. A vector with a read position: the driver drains it after
// every input, and once empty it restarts at the front and keeps its capacity, so steady state
// allocates nothing (a std::deque of Commands, each larger than a deque block, allocated a block
// per command).
//
// A Persist carries a whole TaskInfo (~950 bytes, against ~120 for a Notify), and a Command is as
// large as its largest alternative. The queue keeps a Persist boxed, so that a queued command is
// the size of a Notify: a bulk input (a tree cancel, 100k Notify commands) then fills and moves
// ~13 MB instead of ~96 MB. take_front() unboxes it into the Command the driver gets.
//
// lend() hands the commands out in place instead (Kernel::drain): the queue becomes the batch being
// lent, and the commands the driver's inputs queue meanwhile go to a fresh queue behind it. A
// command moved out costs a move and one more destruction (its strings, its JSON): lending the two
// commands of a kernel cycle costs ~370 instructions where polling them cost ~530. The batch and
// the queue swap their vectors, so both keep their capacity: after a bulk input (a tree cancel of
// 100k tasks) the outbox holds room for two such batches.
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
  // A default command of type T at the back, for the kernel to fill field by field: a command built
  // aside and moved in costs a move and the destruction of the moved-from one (its strings, its
  // JSON, out of line even when null), and the kernel builds a Start and a Notify every task.
  // `fill(T&)` sets its fields; when it throws (out of memory copying one), the half-built command
  // leaves the queue again.
  template <class T, class Fill>
  void add(Fill&& fill) {
    static_assert(!std::is_same_v<T, command::Persist>, "a Persist is boxed: use persist()");
    T& command = *std::get_if<T>(&items_.emplace_back(std::in_place_type<T>));
    try {
      std::forward<Fill>(fill)(command);
    } catch (...) {
      items_.pop_back();
      throw;
    }
  }
  // A Persist of `record` (the kernel builds it from its compact record), moved into its box.
  void persist(TaskInfo&& record) {
    items_.emplace_back(std::make_unique<command::Persist>(command::Persist{std::move(record)}));
  }

  // Room for `more` commands beyond those queued, so that a bulk input moves the queue once at most.
  void reserve(std::size_t more) { items_.reserve(items_.size() + more); }
  bool empty() const { return unlent() == 0 && head_ == items_.size(); }
  std::size_t size() const { return unlent() + items_.size() - head_; }

  // Moves the first command out and drops it from the queue. The queue must not be empty. The
  // command is built in the caller's return slot: a local optional moved out was zeroed first
  // (~500 bytes a poll, half of Kernel::poll's time). The rest of a batch being lent comes first.
  std::optional<Command> take_front() {
    static_assert(std::is_nothrow_move_constructible_v<Command>,
                  "a command that threw while moving out would be dropped: the item is gone once taken");
    if (unlent() > 0) {  // what a lend that threw left
      const AdvanceLent advance{*this};
      return unbox(lent_[lent_next_++]);
    }
    const Advance advance{*this};  // after the return value is built from the item
    return unbox(items_[head_]);
  }

  // Calls `each(CommandRef)` with every command, in order, in place; the ones queued while it runs
  // too. A command is handed out once: when `each` throws, the next lend() or take_front() goes on
  // after it. `each` may queue commands, lend or take them (they come in the same order).
  template <class Each>
  void lend(Each&& each) {
    ++lending_;
    const Unlend unlend{*this};
    for (;;) {
      if (unlent() > 0) {
        Item& item = lent_[lent_next_++];
        each(lent_ref(item));
      } else if (head_ == items_.size()) {
        return;
      } else if (lending_ > 1) {  // an outer lend holds a command of lent_ in place: lent_ must stay
        std::optional<Command> command = take_front();
        each(std::visit([](auto& c) { return CommandRef(&c); }, *command));
      } else {  // the queue becomes the batch; its capacity comes back as the next queue's
        lent_.clear();
        lent_.swap(items_);
        lent_next_ = std::exchange(head_, 0);
      }
    }
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
  struct AdvanceLent {
    CommandQueue& queue;
    ~AdvanceLent() { queue.free_lent_when_done(); }
  };
  struct Unlend {
    CommandQueue& queue;
    ~Unlend() {
      --queue.lending_;
      queue.free_lent_when_done();
    }
  };

  std::size_t unlent() const { return lent_.size() - lent_next_; }
  // A batch handed out whole, that no lend is walking, frees its commands' memory now.
  void free_lent_when_done() {
    if (lending_ == 0 && unlent() == 0) {
      lent_.clear();
      lent_next_ = 0;
    }
  }

  static std::optional<Command> unbox(Item& item) {
    return std::visit(
        [](auto& alternative) -> std::optional<Command> {
          using T = std::decay_t<decltype(alternative)>;
          if constexpr (std::is_same_v<T, BoxedPersist>) {
            return std::optional<Command>(std::in_place, std::in_place_type<command::Persist>, std::move(*alternative));
          } else {
            return std::optional<Command>(std::in_place, std::in_place_type<T>, std::move(alternative));
          }
        },
        item);
  }
  static CommandRef lent_ref(Item& item) {
    return std::visit(
        [](auto& alternative) -> CommandRef {
          using T = std::decay_t<decltype(alternative)>;
          if constexpr (std::is_same_v<T, BoxedPersist>) {
            return CommandRef(alternative.get());
          } else {
            return CommandRef(&alternative);
          }
        },
        item);
  }

  std::vector<Item> items_;
  std::size_t head_ = 0;
  std::vector<Item> lent_;  // the batch being lent: lent_[lent_next_] on are not handed out yet
  std::size_t lent_next_ = 0;
  int lending_ = 0;  // lend() calls on the stack
};

}  // namespace tasklane::detail
