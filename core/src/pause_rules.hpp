// PauseRules: the owners and purposes whose queued work is paused (Kernel::pause / resume).
//
// A rule holds every pending task it matches, spawned before or after it: a task's owner, or the
// purpose of its SequenceKey (a task without a key has no purpose to pause). The kernel keeps
// TaskInfo::paused equal to "pending and held by some rule"; the rules are in the snapshot.
#pragma once

#include <set>
#include <string>
#include <variant>
#include <vector>

#include "tasklane/selectors.hpp"
#include "tasklane/snapshot.hpp"

namespace tasklane::detail {

class PauseRules {
 public:
  // Whether `which` names this task (whether or not a rule for it is in force).
  // A task is named by its owner and its sequence key (nullptr: none).
  static bool selects(const PauseSelector& which, const std::string& owner, const SequenceKey* key) {
    if (const auto* o = std::get_if<pause_selector::Owner>(&which)) return owner == o->owner;
    const auto& purpose = std::get<pause_selector::Purpose>(which).purpose;
    return key && key->purpose == purpose;
  }

  bool holds(const std::string& owner, const SequenceKey* key) const {
    if (owners_.empty() && purposes_.empty()) return false;  // the usual case: one branch
    return owners_.count(owner) != 0 || (key && purposes_.count(key->purpose) != 0);
  }

  bool add(const PauseSelector& which) { return set_of(which).insert(name_of(which)).second; }
  bool remove(const PauseSelector& which) { return set_of(which).erase(name_of(which)) != 0; }

  void save(Snapshot& s) const {
    s.paused_owners.assign(owners_.begin(), owners_.end());
    s.paused_purposes.assign(purposes_.begin(), purposes_.end());
  }
  void restore(const Snapshot& s) {
    owners_.insert(s.paused_owners.begin(), s.paused_owners.end());
    purposes_.insert(s.paused_purposes.begin(), s.paused_purposes.end());
  }

 private:
  static const std::string& name_of(const PauseSelector& which) {
    if (const auto* o = std::get_if<pause_selector::Owner>(&which)) return o->owner;
    return std::get<pause_selector::Purpose>(which).purpose;
  }
  std::set<std::string>& set_of(const PauseSelector& which) {
    return std::holds_alternative<pause_selector::Owner>(which) ? owners_ : purposes_;
  }

  std::set<std::string> owners_;
  std::set<std::string> purposes_;
};

}  // namespace tasklane::detail
