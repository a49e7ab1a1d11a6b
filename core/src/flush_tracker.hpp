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
#include <string>
#include <variant>

#include "tasklane/flat_id_map.hpp"
#include "id_set.hpp"
#include "tasklane/command.hpp"
#include "tasklane/selectors.hpp"

namespace tasklane::detail {

// What a flush asks the kernel: a live keyed task's key, and its live keyless tasks.
template <class KeyOf, class EachLiveKeyless>
struct FlushTasks {
  const KeyOf& key_of;  // key_of(id): a live keyed task's key (a `const SequenceKey*`: the kernel's own copy)
  const EachLiveKeyless& each_live_keyless;  // each_live_keyless(f): f(TaskId) for every live keyless task
  TaskId next_id;  // every task accepted from now on has this id or a higher one (restore aside)
};
template <class KeyOf, class EachLiveKeyless>
FlushTasks(const KeyOf&, const EachLiveKeyless&, TaskId) -> FlushTasks<KeyOf, EachLiveKeyless>;

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
  // which says the one set that holds it. True when the error waits for a flush to take it (the
  // kernel marks the task's record: TaskInfo::error_unflushed).
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  bool on_terminal(TaskId id, std::optional<std::string> error, const SequenceKey* key, Out& out) {
    if (const FlushId* claimed = claimed_by_.find(id.value)) {
      const FlushId flush = *claimed;
      claimed_by_.erase(id.value);
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
  template <class KeyOf, class EachLiveKeyless, class Taken, class Out>  // Out: std::deque<Command> or the kernel's CommandQueue
  FlushId flush(const FlushSelector& which, const FlushTasks<KeyOf, EachLiveKeyless>& tasks, const Taken& taken, Out& out) {
    const FlushId id = next_flush_++;
    Waiting waiting;
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
    if (all) claimed_by_.reserve(claimed_by_.size() + keyed_.size());  // at most one more growth for the keyless
    IdSet left;  // keyed tasks this flush does not select
    for (const TaskId task : keyed_) {
      if (all || matches(which, tasks.key_of(task))) {
        ++waiting.live;
        claimed_by_.put(task.value, id);
      } else {
        left.insert(task);
      }
    }
    keyed_ = std::move(left);
    if (all) {
      tasks.each_live_keyless([&](TaskId task) {
        if (!plain_unflushed(task, false)) return;  // an earlier All took it
        ++waiting.live;
        claimed_by_.put(task.value, id);
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
  // The flush that waits for live task `id`, if one does.
  std::optional<FlushId> claimed_by(TaskId id) const {
    const FlushId* flush = claimed_by_.find(id.value);
    return flush ? std::optional<FlushId>(*flush) : std::nullopt;
  }

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
  struct Waiting {
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
    std::optional<std::string> error;
    if (waiting.first_error_task) error = std::move(waiting.first_error);
    out.emplace_back(command::FlushDone{id, std::move(error)});
  }

  std::uint64_t plain_from_ = 0;         // live keyless tasks from this id on are unflushed
  IdSet restored_plain_;                 // unflushed, live, without a key, accepted below plain_from_
  IdSet keyed_;                          // unflushed, live, with a key
  std::map<TaskId, Surfacing> surfacing_;  // unflushed, terminal with an error
  FlatIdMap<FlushId> claimed_by_;      // task id -> the flush that waits for it
  std::map<FlushId, Waiting> active_;
  FlushId next_flush_ = 1;
};

}  // namespace tasklane::detail
