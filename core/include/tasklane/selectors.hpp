// Which tasks an abort or a flush is about.
#pragma once

#include <string>
#include <variant>

#include "tasklane/task_id.hpp"

namespace tasklane {

namespace abort_selector {
struct Task { TaskId id; friend bool operator==(const Task&, const Task&) = default; };        // one task
struct Tree { TaskId root; friend bool operator==(const Tree&, const Tree&) = default; };      // a task and all its descendants
struct Owner { std::string owner; friend bool operator==(const Owner&, const Owner&) = default; };  // every task of an owner
struct Run { std::string run; friend bool operator==(const Run&, const Run&) = default; };    // trees spawned directly by a run
struct All { friend bool operator==(const All&, const All&) = default; };
}  // namespace abort_selector
using AbortSelector = std::variant<abort_selector::Task, abort_selector::Tree, abort_selector::Owner,
                                   abort_selector::Run, abort_selector::All>;

// Flushes match a task's SequenceKey; tasks without a key only match All (seed 000).
namespace flush_selector {
struct All { friend bool operator==(const All&, const All&) = default; };
struct Scope { std::string scope; friend bool operator==(const Scope&, const Scope&) = default; };
struct Purpose { std::string purpose; friend bool operator==(const Purpose&, const Purpose&) = default; };
struct ScopePurpose {
  std::string scope;
  std::string purpose;
  friend bool operator==(const ScopePurpose&, const ScopePurpose&) = default;
};
}  // namespace flush_selector
using FlushSelector = std::variant<flush_selector::All, flush_selector::Scope, flush_selector::Purpose,
                                   flush_selector::ScopePurpose>;

// Which queued work a pause or resume is about (Kernel::pause). A rule, not a list: tasks spawned
// later that match it are paused too, until a resume with the same selector lifts it.
namespace pause_selector {
struct Owner { std::string owner; friend bool operator==(const Owner&, const Owner&) = default; };        // every task of an owner
struct Purpose { std::string purpose; friend bool operator==(const Purpose&, const Purpose&) = default; };  // tasks whose SequenceKey has this purpose
}  // namespace pause_selector
using PauseSelector = std::variant<pause_selector::Owner, pause_selector::Purpose>;

enum class ShutdownMode : std::uint8_t {
  Drain,   // let running attempts finish; pending work stays pending (and persisted)
  Cancel,  // ask running attempts to stop; pending work stays pending (and persisted)
};

}  // namespace tasklane
