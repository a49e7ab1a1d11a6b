// KernelHarness, pause and resume: the ledger's own pause rules (an owner, or a SequenceKey's
// purpose) and what an input of either kind must do, from the rules in kernel.hpp: a pause holds
// every pending task it names, now and later, and counts those newly held; a resume lifts the rule
// and counts the tasks no other rule holds, which are considered again at once, in id order.
#include "describe.hpp"
#include "harness.hpp"

namespace tasklane::property {
namespace {

bool selects(const PauseSelector& which, const TaskSpec& spec) {
  if (const auto* o = std::get_if<pause_selector::Owner>(&which)) return spec.owner == o->owner;
  return spec.key && spec.key->purpose == std::get<pause_selector::Purpose>(which).purpose;
}

}  // namespace

bool KernelHarness::held(const TaskSpec& spec) const {
  return paused_owners_.count(spec.owner) != 0 || (spec.key && paused_purposes_.count(spec.key->purpose) != 0);
}

void KernelHarness::pause(const PauseSelector& which, bool resume, Duration skew) {
  begin_input(Input::Pause, skew, false);
  const auto* owner = std::get_if<pause_selector::Owner>(&which);
  auto& rules = owner ? paused_owners_ : paused_purposes_;
  const std::string& name = owner ? owner->owner : std::get<pause_selector::Purpose>(which).purpose;
  std::vector<TaskId> named;
  for (const auto& [id, f] : tasks_) {
    if (f.in_kernel && f.phase == Phase::Pending && selects(which, f.spec)) named.push_back(id);
  }
  std::size_t expected = 0;
  std::vector<TaskId> released;
  if (!resume && !rules.count(name)) {
    for (const TaskId id : named) expected += held(tasks_.at(id).spec) ? 0 : 1;
    rules.insert(name);
  } else if (resume && rules.count(name)) {
    std::vector<TaskId> was_held;
    for (const TaskId id : named) {
      if (held(tasks_.at(id).spec)) was_held.push_back(id);
    }
    rules.erase(name);
    for (const TaskId id : was_held) {
      if (!held(tasks_.at(id).spec)) released.push_back(id);
    }
    expected = released.size();
  }
  for (const TaskId id : released) {
    tasks_.at(id).considered_at = now_;
    tasks_.at(id).resumed = true;
  }
  std::size_t got = 0;
  if (resume) {
    record(event::Resume{which});
    got = kernel_.resume(which, now_);
  } else {
    record(event::Pause{which});
    got = kernel_.pause(which, now_);
  }
  HARNESS_EXPECT(got == expected, std::string(resume ? "resume " : "pause ") + describe(which) + " returned " +
                                      std::to_string(got) + ", expected " + std::to_string(expected));
  Coverage::instance().hit(resume ? (got > 0 ? "resume released some" : "resume released none")
                                  : (got > 0 ? "pause held some" : "pause held none"));
  process(drain());
  end_input();
}

void KernelHarness::check_pauses() {
  for (const auto& [id, f] : tasks_) {
    if (!paused(f)) continue;
    if (f.attempt > 0) Coverage::instance().hit("paused retry");
    if (!f.spec.key || !lane_head(id, f)) continue;
    for (const auto& [other, g] : tasks_) {
      if (other > id && g.in_kernel && g.phase != Phase::Terminal && g.spec.key == f.spec.key) {
        Coverage::instance().hit("paused task holds its sequence lane");
        break;
      }
    }
  }
}

}  // namespace tasklane::property
