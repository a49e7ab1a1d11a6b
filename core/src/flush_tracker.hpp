// FlushTracker: which tasks a flush waits for, and the errors not yet reported (seed 000).
//
// Every accepted task is "unflushed" until a flush takes it. A flush takes the unflushed tasks it
// selects; those still live are waited for, the others only give up their error. A task that
// failed before any flush keeps its error here until a flush takes it, so the error surfaces.
//
// Keyless tasks (only All selects them) are not held one by one: the live keyless tasks with an id
// at or above `plain_from_` are unflushed, as the kernel's table says which tasks are live and
// keyless. Each All flush takes them all and raises `plain_from_` to the kernel's next id. Only a
// task accepted with an id below it (restore() brings back old records) is held, in
// `restored_plain_`. A task spawned and completed between flushes costs a compare here, where two
// set updates in a map of bitmaps cost ~100 instructions of a ~2500-instruction kernel cycle.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "id_set.hpp"
#include "tasklane/command.hpp"
#include "tasklane/selectors.hpp"

namespace tasklane::detail {

// Which flush waits for a live task, kept by the kernel in the task's entry: 0 when none, else the
// flush's slot + 1 (FlushTracker::flush_of). A slot stays the flush's while any task it claimed is
// live, so a claim never names another flush. 31 bits: the entry keeps it beside its ready flag.
using FlushClaim = std::uint32_t;
inline constexpr unsigned flush_claim_bits = 30;

// What a flush asks the kernel: a live keyed task's key, its live keyless tasks, and where a task's
// claim goes. A claim in the task's entry costs no lookup at the task's end, where a map of task
// id to flush (a probe into a table of every claimed task) cost ~300 instructions a task.
template <class KeyOf, class Claim, class EachLiveKeyless>
struct FlushTasks {
  const KeyOf& key_of;  // key_of(id): a live keyed task's key (a `const SequenceKey*`: the kernel's own copy)
  const Claim& claim;   // claim(id, c): live task `id`'s claim is `c` now
  // each_live_keyless(f): for every live keyless task, f(id), which answers the task's claim now (0: unchanged)
  const EachLiveKeyless& each_live_keyless;
  TaskId next_id;  // every task accepted from now on has this id or a higher one (restore aside)
};
template <class KeyOf, class Claim, class EachLiveKeyless>
FlushTasks(const KeyOf&, const Claim&, const EachLiveKeyless&, TaskId) -> FlushTasks<KeyOf, Claim, EachLiveKeyless>;

class FlushTracker {
 public:
  // Live unflushed keyed tasks are one bit each in keyed_, with no allocation and no copy of their
  // key: flush() reads their keys back from the kernel's table. A task that ends with an error
  // before any flush took it keeps the error, and a copy of its key, in surfacing_ (its record may
  // be forgotten meanwhile). A task may be accepted again (restore), with or without its key.
  void on_accepted(TaskId id, const SequenceKey* key) {  // nullptr: keyless
    if (!surfacing_.empty()) surfacing_.erase(id);
    if (key) {
      if (!restored_plain_.empty()) restored_plain_.erase(id);
      keyed_.insert(id);
    } else {
      if (!keyed_.empty()) keyed_.erase(id);
      if (id.value < plain_from_) restored_plain_.insert(id);
    }
  }

  // A task reached a terminal state with `error` (nullopt when it is not an error); `key` is its
  // sequence key (nullptr: keyless), the one it was accepted with (a record's key never changes),
  // which says the one set that holds it; `claim` is the claim a flush left on it (the kernel
  // clears its copy). True when the error waits for a flush to take it (the kernel marks the
  // task's record: TaskInfo::error_unflushed).
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  bool on_terminal(TaskId id, std::optional<std::string> error, const SequenceKey* key, FlushClaim claim, Out& out) {
    if (claim != 0) {
      const FlushId flush = slots_.at(claim - 1);
      auto& waiting = active_.at(flush);
      --waiting.live;  // a task is claimed once and ends once
      if (error) waiting.note_error(id, *error);
      if (waiting.live == 0) finish(flush, out);
      return false;
    }
    const bool unflushed = key ? keyed_.erase(id) > 0 : plain_unflushed(id, true);
    if (!unflushed || !error) return false;
    keep_error(id, key, std::move(*error));
    return true;
  }

  // Restore: a terminal task whose record says its error waits for a flush.
  void restore_error(TaskId id, const SequenceKey* key, std::string error) { keep_error(id, key, std::move(error)); }

  // Takes the unflushed tasks `which` selects. taken(id) is called for each terminal task whose
  // kept error this flush takes, before the flush can end.
  template <class KeyOf, class Claim, class EachLiveKeyless, class Taken, class Out>  // Out: std::deque<Command> or the kernel's CommandQueue
  FlushId flush(const FlushSelector& which, const FlushTasks<KeyOf, Claim, EachLiveKeyless>& tasks, const Taken& taken,
                Out& out) {
    const FlushId id = next_flush_++;
    Waiting waiting;
    waiting.slot = take_slot(id);
    const FlushClaim claim = waiting.slot + 1;
    for (auto it = surfacing_.begin(); it != surfacing_.end();) {
      if (!matches(which, it->second.key ? &*it->second.key : nullptr)) {
        ++it;
        continue;
      }
      waiting.note_error(it->first, it->second.error);
      taken(it->first);
      it = surfacing_.erase(it);
    }
    const bool all = std::holds_alternative<flush_selector::All>(which);
    IdSet left;  // keyed tasks this flush does not select
    for (const TaskId task : keyed_) {
      if (all || matches(which, tasks.key_of(task))) {
        ++waiting.live;
        tasks.claim(task, claim);
      } else {
        left.insert(task);
      }
    }
    keyed_ = std::move(left);
    if (all) {
      tasks.each_live_keyless([&](TaskId task) -> FlushClaim {
        if (!plain_unflushed(task, false)) return 0;  // an earlier All took it
        ++waiting.live;
        return claim;
      });
      plain_from_ = std::max(plain_from_, tasks.next_id.value);
      restored_plain_ = IdSet{};
    }
    const bool done = waiting.live == 0;
    active_.emplace(id, std::move(waiting));
    if (done) finish(id, out);
    return id;
  }

  std::size_t active() const { return active_.size(); }
  std::size_t kept_errors() const { return surfacing_.size(); }
  // The flush a task's claim names (a flush still waiting for that task).
  FlushId flush_of(FlushClaim claim) const { return slots_.at(claim - 1); }

 private:
  // Whether live keyless task `id` is unflushed; `take` also drops it from restored_plain_.
  bool plain_unflushed(TaskId id, bool take) {
    if (id.value >= plain_from_) return true;
    if (restored_plain_.empty()) return false;
    return take ? restored_plain_.erase(id) > 0 : restored_plain_.count(id) > 0;
  }

  void keep_error(TaskId id, const SequenceKey* key, std::string error) {
    surfacing_[id] = Surfacing{key ? std::optional<SequenceKey>(*key) : std::nullopt, std::move(error)};
  }

  struct Surfacing {
    std::optional<SequenceKey> key;
    std::string error;
  };
  // A slot for flush `id` (a free one, or a new one): its claims name it until it ends.
  FlushClaim take_slot(FlushId id) {
    if (free_slots_.empty()) {
      // As many flushes waiting at once would hold ~100 GB: refused all the same, a claim must fit.
      if (slots_.size() >= (std::size_t{1} << flush_claim_bits) - 1) throw std::length_error("too many flushes waiting");
      free_slots_.reserve(slots_.size() + 1);  // so that finish() can give the slot back without allocating
      slots_.push_back(id);
      return static_cast<FlushClaim>(slots_.size() - 1);
    }
    const FlushClaim slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = id;
    return slot;
  }

  struct Waiting {
    FlushClaim slot = 0;   // its index in slots_
    std::size_t live = 0;  // claimed tasks not yet terminal
    std::optional<TaskId> first_error_task;  // the earliest-spawned failure wins
    std::string first_error;
    void note_error(TaskId task, const std::string& error) {
      if (!first_error_task || task < *first_error_task) {
        first_error_task = task;
        first_error = error;
      }
    }
  };

  static bool matches(const FlushSelector& which, const SequenceKey* key) {
    return std::visit(
        [&](const auto& s) -> bool {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, flush_selector::All>) {
            return true;
          } else if constexpr (std::is_same_v<S, flush_selector::Scope>) {
            return key && key->scope == s.scope;
          } else if constexpr (std::is_same_v<S, flush_selector::Purpose>) {
            return key && key->purpose == s.purpose;
          } else {
            return key && key->scope == s.scope && key->purpose == s.purpose;
          }
        },
        which);
  }

  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void finish(FlushId id, Out& out) {
    auto node = active_.extract(id);
    auto& waiting = node.mapped();
    slots_[waiting.slot] = 0;
    free_slots_.push_back(waiting.slot);  // reserved at take_slot: cannot throw
    std::optional<std::string> error;
    if (waiting.first_error_task) error = std::move(waiting.first_error);
    out.emplace_back(command::FlushDone{id, std::move(error)});
  }

  std::uint64_t plain_from_ = 0;         // live keyless tasks from this id on are unflushed
  IdSet restored_plain_;                 // unflushed, live, without a key, accepted below plain_from_
  IdSet keyed_;                          // unflushed, live, with a key
  std::map<TaskId, Surfacing> surfacing_;  // unflushed, terminal with an error
  std::map<FlushId, Waiting> active_;
  std::vector<FlushId> slots_;           // slot -> the flush that holds it (0: free)
  std::vector<FlushClaim> free_slots_;   // capacity kept at slots_.size()
  FlushId next_flush_ = 1;
};

}  // namespace tasklane::detail
