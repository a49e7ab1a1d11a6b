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
//
// A command handed out is not destroyed but kept, spent, in its slot (up to 64 of them), and the
// next command of its type is built in it: a Start or a Notify is reset field by field (its JSON
// only when not null, which the driver may have moved from), where destroying one and building the
// next cost two out-of-line JSON destructions and a variant dispatch, ~120 instructions a kernel
// cycle. A spent slot keeps no JSON nor error text (released when its batch ends); its strings
// keep their text until reused, and add() leaves a Start's kind and a Notify's owner as they were
// (the kernel sets them with refill(): most tasks name the kind and owner of the one before).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "tasklane/command.hpp"

namespace tasklane::detail {

// Sets a reused command's string to `text`, copying only when it differs: in a run of tasks of one
// kind and owner the compare is all it costs (an assignment costs ~35 instructions, out of line).
inline void refill(std::string& slot, const std::string& text) {
  if (slot != text) slot = text;  // sizes first, then the bytes
}

class CommandQueue {
  using BoxedPersist = std::unique_ptr<command::Persist>;
  // Command's alternatives, with Persist boxed.
  using Item = std::variant<command::Start, command::Cancel, BoxedPersist, command::PersistSnapshot, command::Notify,
                            command::Deliver, command::FlushDone, command::Stopped, command::RunQueuedWork>;
  static_assert(std::variant_size_v<Item> == std::variant_size_v<Command>, "an alternative of Command is missing here");
  static_assert(std::is_nothrow_move_constructible_v<Item> && std::is_nothrow_default_constructible_v<command::Start> &&
                    std::is_nothrow_default_constructible_v<command::Notify>,
                "a slot must never become valueless: building a command in it moves or default-constructs");
  static constexpr std::size_t max_spent = 64;  // spent commands kept for reuse, per vector

 public:
  template <class C>
  void emplace_back(C&& command) {
    using T = std::remove_cvref_t<C>;
    if constexpr (std::is_same_v<T, command::Persist>) {
      place(std::make_unique<command::Persist>(std::forward<C>(command)));
    } else if constexpr (std::is_rvalue_reference_v<C&&>) {
      place(std::move(command));
    } else {
      T copy(command);  // copied before a slot is touched: a copy that throws leaves the queue as it was
      place(std::move(copy));
    }
  }
  // A default command of type T at the back, for the kernel to fill field by field (but a Start's
  // kind and a Notify's owner: those hold a spent command's text, to be set): a command built
  // aside and moved in costs a move and the destruction of the moved-from one (its strings, its
  // JSON, out of line even when null), and the kernel builds a Start and a Notify every task.
  // `fill(T&)` sets its fields; when it throws (out of memory copying one), the half-built command
  // is not queued (its slot stays spent).
  template <class T, class Fill>
  void add(Fill&& fill) {
    static_assert(!std::is_same_v<T, command::Persist>, "a Persist is boxed: use persist()");
    T& command = fresh<T>();
    std::forward<Fill>(fill)(command);
    ++count_;
  }
  // A Persist of `record` (the kernel builds it from its compact record), moved into its box.
  void persist(TaskInfo&& record) { place(std::make_unique<command::Persist>(command::Persist{std::move(record)})); }

  // Room for `more` commands beyond those queued, so that a bulk input moves the queue once at most.
  void reserve(std::size_t more) { items_.reserve(count_ + more); }
  bool empty() const { return unlent() == 0 && head_ == count_; }
  std::size_t size() const { return unlent() + count_ - head_; }

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
      } else if (head_ == count_) {
        return;
      } else if (lending_ > 1) {  // an outer lend holds a command of lent_ in place: lent_ must stay
        std::optional<Command> command = take_front();
        each(std::visit([](auto& c) { return CommandRef(&c); }, *command));
      } else {  // the queue becomes the batch; the spent batch's slots become the next queue's
        if (lent_count_ > 0) retire(lent_, lent_count_);  // the batch this lend handed out
        lent_.swap(items_);
        lent_count_ = std::exchange(count_, 0);
        lent_next_ = std::exchange(head_, 0);
      }
    }
  }

 private:
  struct Advance {
    CommandQueue& queue;
    ~Advance() {
      if (++queue.head_ == queue.count_) {
        retire(queue.items_, queue.count_);
        queue.count_ = 0;
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

  std::size_t unlent() const { return lent_count_ - lent_next_; }
  // A batch handed out whole, that no lend is walking, releases its commands now.
  void free_lent_when_done() {
    if (lending_ == 0 && unlent() == 0 && lent_count_ > 0) {
      retire(lent_, lent_count_);
      lent_count_ = 0;
      lent_next_ = 0;
    }
  }

  // Queues `value` (an Item alternative) in the next slot: into the spent command there when it is of
  // the same type, else in its place.
  template <class T>
  void place(T&& value) {
    static_assert(!std::is_lvalue_reference_v<T>);
    if (count_ < items_.size()) {
      Item& slot = items_[count_];
      if (T* spent = std::get_if<T>(&slot)) {
        *spent = std::move(value);
      } else {
        slot.template emplace<T>(std::move(value));
      }
    } else {
      items_.emplace_back(std::in_place_type<T>, std::move(value));  // when this throws, nothing changed
    }
    ++count_;
  }
  // A default T in the next slot, not queued yet.
  template <class T>
  T& fresh() {
    if (count_ == items_.size()) return std::get<T>(items_.emplace_back(std::in_place_type<T>));
    Item& slot = items_[count_];
    if (T* spent = std::get_if<T>(&slot)) {
      make_default(*spent);
      return *spent;
    }
    return slot.template emplace<T>();
  }

  // The commands of `slots` before `used` were handed out: each keeps its slot, spent, without the
  // memory its fields held (its JSON, its error; another type becomes a Stopped). Beyond max_spent
  // slots are destroyed, the vector keeping its capacity. After every batch: the rare parts are out
  // of line.
  static void retire(std::vector<Item>& slots, std::size_t used) {
    for (std::size_t i = 0; i < used; ++i) {
      Item& slot = slots[i];
      if (auto* start = std::get_if<command::Start>(&slot)) {
        release_held(*start);
      } else if (auto* notify = std::get_if<command::Notify>(&slot)) {
        release_held(*notify);
      } else {
        make_stopped(slot);
      }
    }
    if (slots.size() > max_spent) trim(slots);
  }
  // What a spent command holds beyond its strings: its JSON when not null (which the driver may have
  // moved from), its error text.
  static void release_held(command::Start& c) {
    if (!c.payload.is_null()) drop(c.payload);
  }
  static void release_held(command::Notify& c) {
    if (!c.result.is_null()) drop(c.result);
    if (c.error) drop(c.error);
  }
  [[gnu::noinline]] static void drop(Json& json) { json = nullptr; }
  [[gnu::noinline]] static void drop(std::optional<std::string>& text) { text.reset(); }
  [[gnu::noinline]] static void make_stopped(Item& slot) { slot.template emplace<command::Stopped>(); }
  [[gnu::noinline]] static void trim(std::vector<Item>& slots) {
    slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(max_spent), slots.end());
  }
  // Field by field, releasing only what is held. A field added to the command must be reset here
  // (the size checks say so).
  static void make_default(command::Start& c) {
    struct Fields {
      TaskId id;
      std::uint32_t attempt;
      std::string kind;
      Json payload;
      std::optional<Time> deadline;
      bool inbox;
    };
    static_assert(sizeof(Fields) == sizeof(command::Start), "command::Start has a new field: reset it here");
    c.id = TaskId{};
    c.attempt = 0;
    // kind: left for the kernel to refill()
    release_held(c);
    c.deadline.reset();
    c.inbox = false;
  }
  static void make_default(command::Notify& c) {
    struct Fields {
      std::string owner;
      TaskId id;
      TaskStatus status;
      Json result;
      std::optional<std::string> error;
      std::optional<TaskId> next_run;
    };
    static_assert(sizeof(Fields) == sizeof(command::Notify), "command::Notify has a new field: reset it here");
    // owner: left for the kernel to refill()
    c.id = TaskId{};
    c.status = TaskStatus::Completed;
    release_held(c);
    c.next_run.reset();
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

  std::vector<Item> items_;  // items_[head_..count_) are queued; from count_ on, spent slots
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::vector<Item> lent_;  // the batch being lent: lent_[lent_next_..lent_count_) are not handed out yet
  std::size_t lent_next_ = 0;
  std::size_t lent_count_ = 0;
  int lending_ = 0;  // lend() calls on the stack
};

}  // namespace tasklane::detail
