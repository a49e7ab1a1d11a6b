// KernelHarness, dependencies (TaskSpec::after): the ledger's own account of what each dependency's
// end means for its waiters, written from the rules in task_spec.hpp rather than from the kernel's
// DependencyGraph. A waiter is ready only once every dependency's Notify came; with AllSucceeded a
// failed, timed-out, cancelled or lost dependency ends it in the same input, with the reason.
#include "describe.hpp"
#include "harness.hpp"

namespace tasklane::property {
namespace {

std::optional<std::pair<TaskStatus, std::string>> verdict(const TaskSpec& waiter, TaskId dependency, TaskStatus status,
                                                          const std::optional<std::string>& error, bool lost) {
  if (waiter.after_mode == DependencyMode::AllFinished) return std::nullopt;
  const std::string name = "dependency " + to_string(dependency);
  if (lost) return std::make_pair(TaskStatus::Failed, name + " was lost in a restart (it was not durable)");
  switch (status) {
    case TaskStatus::Failed: return std::make_pair(TaskStatus::Failed, name + " failed: " + error.value_or(""));
    case TaskStatus::TimedOut: return std::make_pair(TaskStatus::Failed, name + " timed out: " + error.value_or(""));
    case TaskStatus::Cancelled: return std::make_pair(TaskStatus::Cancelled, name + " was cancelled");
    default: return std::nullopt;
  }
}

}  // namespace

TaskId KernelHarness::pick_dependency(std::size_t pick) const {
  if (next_id_ == 0 || pick % 12 == 11) return TaskId{next_id_};  // its own id: a cycle
  if (pick % 12 == 10) return TaskId{next_id_ + 1 + pick % 3};     // a later id: could close a cycle
  if (pick % 12 < 6) return TaskId{next_id_ - 1 - (pick / 12) % std::min<std::uint64_t>(next_id_, 4)};  // recent: mostly live
  return TaskId{pick % next_id_};
}

// A dependency's Notify: each live waiter drops it; one whose mode it fails must end in this input.
void KernelHarness::hand_to_waiters(TaskId dependency, TaskStatus status, const std::optional<std::string>& error) {
  for (auto& [id, f] : tasks_) {
    if (!f.in_kernel || f.phase != Phase::Pending || f.waiting_for.erase(dependency) == 0) continue;
    if (f.dependency_verdict) continue;  // an earlier dependency already decided
    if (tasks_.at(dependency).phase == Phase::Terminal && tasks_.at(dependency).attempt > 1) {
      Coverage::instance().hit("waiter takes the final outcome of a retried dependency");
    }
    if (auto v = verdict(f.spec, dependency, status, error, false)) {
      Coverage::instance().hit(std::string("waiter ended by its dependency: ") + to_string(v->first));
      f.dependency_verdict = std::move(v);
    } else if (f.waiting_for.empty()) {
      f.considered_at = now_;
      Coverage::instance().hit("waiter released by its last dependency");
      if (f.spec.key) Coverage::instance().hit("waiter in a sequence lane released");
    }
  }
}

// Dependencies that already ended are taken at spawn (the pending task a dedup key replaces in this
// very spawn counts as cancelled); the rest are waited for.
void KernelHarness::expect_dependency_verdicts_at_spawn(TaskFacts& waiter) {
  std::set<TaskId> deps(waiter.spec.after.begin(), waiter.spec.after.end());
  for (const TaskId d : deps) {
    const TaskFacts& df = tasks_.at(d);
    const bool replaced = scope_.replaced == d;
    if (!replaced && df.phase != Phase::Terminal) {
      waiter.waiting_for.insert(d);
      continue;
    }
    if (waiter.dependency_verdict) continue;
    waiter.dependency_verdict = verdict(waiter.spec, d, replaced ? TaskStatus::Cancelled : df.final_status,
                                        df.final_error, false);
    if (waiter.dependency_verdict) Coverage::instance().hit("waiter ended at spawn by a dependency already over");
  }
  if (!deps.empty() && waiter.waiting_for.empty() && !waiter.dependency_verdict) {
    Coverage::instance().hit("spawn with every dependency already over");
  }
}

// Restore, before the orphaned records are resolved: each durable waiter, by id, drops the
// dependencies that did not survive (not durable) and those the restore already ended; the first
// of them, by id, that its mode does not take ends it.
void KernelHarness::expect_lost_dependencies_at_restore() {
  std::map<TaskId, std::pair<TaskStatus, std::string>> ended;
  for (auto& [id, f] : tasks_) {
    if (!f.in_kernel || f.phase != Phase::Pending || f.waiting_for.empty()) continue;
    std::vector<TaskId> over;
    for (const TaskId d : f.waiting_for) {
      if (!tasks_.at(d).in_kernel || ended.count(d)) over.push_back(d);
    }
    for (const TaskId d : over) {
      f.waiting_for.erase(d);
      if (f.dependency_verdict) continue;
      const bool lost = !tasks_.at(d).in_kernel;
      f.dependency_verdict = lost ? verdict(f.spec, d, TaskStatus::Failed, std::nullopt, true)
                                  : verdict(f.spec, d, ended.at(d).first, ended.at(d).second, false);
      if (lost) Coverage::instance().hit("dependency lost in a restart");
    }
    if (f.dependency_verdict) ended[id] = *f.dependency_verdict;
  }
}

void KernelHarness::check_dependencies(TaskId id, const TaskFacts& f, const TaskInfo& info) {
  const std::vector<TaskId> expected =
      f.phase == Phase::Terminal ? std::vector<TaskId>{} : std::vector<TaskId>(f.waiting_for.begin(), f.waiting_for.end());
  HARNESS_EXPECT(info.waiting_for == expected, to_string(id) + ": waiting_for must list the dependencies without a Notify");
  HARNESS_EXPECT(!f.dependency_verdict,
                 to_string(id) + " must end " + (f.dependency_verdict ? to_string(f.dependency_verdict->first) : "") +
                     " in this input: " + (f.dependency_verdict ? f.dependency_verdict->second : std::string()));
  if (f.phase == Phase::Pending && !f.waiting_for.empty()) Coverage::instance().hit("waiter waits");
}

}  // namespace tasklane::property
