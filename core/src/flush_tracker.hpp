// FlushTracker: which tasks a flush waits for, and the errors not yet reported (seed 000).
//
// Every accepted task is "unflushed" until a flush takes it. A flush takes the unflushed tasks it
// selects; those still live are waited for, the others only give up their error. A task that
// failed before any flush keeps its error here until a flush takes it, so the error surfaces.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "flat_id_map.hpp"
#include "id_set.hpp"
#include "tasklane/command.hpp"
#include "tasklane/selectors.hpp"

namespace tasklane::detail {

class FlushTracker {
 public:
  // Keyless tasks (only All selects them) are one bit each in plain_, with no allocation; tasks
  // with a key, and failed tasks waiting to surface their error, have an entry in unflushed_.
  void on_accepted(TaskId id, const SequenceKey* key) {  // nullptr: keyless
    if (key) {
      plain_.erase(id);
      unflushed_[id] = Entry{*key, false, {}};
    } else {
      if (!unflushed_.empty()) unflushed_.erase(id);
      plain_.insert(id);
    }
  }

  // A task reached a terminal state with `error` (nullopt when it is not an error).
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void on_terminal(TaskId id, std::optional<std::string> error, Out& out) {
    if (const FlushId* claimed = claimed_by_.find(id.value)) {
      const FlushId flush = *claimed;
      claimed_by_.erase(id.value);
      auto& waiting = active_.at(flush);
      --waiting.live;  // a task is claimed once and ends once
      if (error) waiting.note_error(id, *error);
      if (waiting.live == 0) finish(flush, out);
      return;
    }
    if (plain_.erase(id)) {
      if (error) unflushed_[id] = Entry{std::nullopt, true, std::move(error)};  // keep it to surface
      return;
    }
    const auto it = unflushed_.find(id);
    if (it == unflushed_.end()) return;
    if (!error) {
      unflushed_.erase(it);  // nothing left to surface
      return;
    }
    it->second.terminal = true;
    it->second.error = std::move(error);
  }

  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  FlushId flush(const FlushSelector& which, Out& out) {
    const FlushId id = next_flush_++;
    Waiting waiting;
    for (auto it = unflushed_.begin(); it != unflushed_.end();) {
      if (!matches(which, it->second.key)) {
        ++it;
        continue;
      }
      if (it->second.terminal) {
        if (it->second.error) waiting.note_error(it->first, *it->second.error);
      } else {
        ++waiting.live;
        claimed_by_.put(it->first.value, id);
      }
      it = unflushed_.erase(it);
    }
    if (std::holds_alternative<flush_selector::All>(which)) {
      for (const TaskId task : plain_) {
        ++waiting.live;
        claimed_by_.put(task.value, id);
      }
      plain_ = IdSet{};
    }
    const bool done = waiting.live == 0;
    active_.emplace(id, std::move(waiting));
    if (done) finish(id, out);
    return id;
  }

  // Forget a task entirely (restore of a task that is already terminal has nothing to flush).
  std::size_t unflushed() const { return plain_.size() + unflushed_.size(); }
  std::size_t active() const { return active_.size(); }

 private:
  struct Entry {
    std::optional<SequenceKey> key;
    bool terminal = false;
    std::optional<std::string> error;
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

  static bool matches(const FlushSelector& which, const std::optional<SequenceKey>& key) {
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

  IdSet plain_;                        // unflushed, live, without a key
  std::map<TaskId, Entry> unflushed_;  // unflushed with a key, or terminal with an error
  FlatIdMap<FlushId> claimed_by_;      // task id -> the flush that waits for it
  std::map<FlushId, Waiting> active_;
  FlushId next_flush_ = 1;
};

}  // namespace tasklane::detail
