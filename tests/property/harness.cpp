// KernelHarness inputs: each feeds one event to the kernel, records it, and checks what that
// input alone promises (see harness.hpp). The shared checks run in end_input().
#include <algorithm>
#include <cmath>
#include <sstream>

#include <rapidcheck.h>

#include "describe.hpp"
#include "failure_trace.hpp"
#include "harness.hpp"

namespace tasklane::property {
namespace {

constexpr const char* reserved_names[] = {"parent", "self", "all", "broadcast"};

template <class T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

Coverage& Coverage::instance() {
  static Coverage coverage;
  return coverage;
}

KernelHarness::KernelHarness(Config config) : config_(config), kernel_(config) { lifetimes_.emplace_back(); }

// ---- the flow of one input ----------------------------------------------------------------------

void KernelHarness::begin_input(Input input, Duration skew, bool fires_timers) {
  if (!fires_timers && seen_input_) {
    // Every kernel input first fires the timers that are due (LateInput checks that this equals a
    // tick just before the input); the model keeps its ledger simple by making that tick explicit.
    now_ += skew;
    skew = Duration{0};
    const auto due = kernel_.next_deadline();
    if (due && *due <= now_) tick_by(Duration{0});
  }
  now_ += skew;
  scope_ = Scope{};
  scope_.input = input;
  scope_.fires_timers = fires_timers;
  if (!seen_input_) {  // the kernel drives the runner once at its first input
    seen_input_ = true;
    if (config_.queued_work_runner) {
      runner_.startup();
      next_poll_ = now_ + config_.queued_work_poll;
    }
  }
  if (fires_timers) {
    if (next_poll_ && *next_poll_ <= now_) {
      runner_.poll();
      next_poll_ = now_ + config_.queued_work_poll;
    }
    fire_time_ = now_;
  }
}

void KernelHarness::record(Event event) { lifetimes_.back().events.push_back(TimedEvent{now_, std::move(event)}); }

std::vector<Command> KernelHarness::drain() {
  std::vector<Command> batch;
  while (auto c = kernel_.poll()) batch.push_back(std::move(*c));
  lifetimes_.back().outputs.push_back(batch);
  return batch;
}

TaskFacts* KernelHarness::live_facts(TaskId id) {
  const auto it = tasks_.find(id);
  return it == tasks_.end() || !it->second.in_kernel ? nullptr : &it->second;
}

const TaskFacts* KernelHarness::live_facts(TaskId id) const {
  const auto it = tasks_.find(id);
  return it == tasks_.end() || !it->second.in_kernel ? nullptr : &it->second;
}

TaskId KernelHarness::pick_task(std::size_t pick) const { return TaskId{pick % (next_id_ + 1)}; }

std::optional<TaskId> KernelHarness::pick_parent(std::size_t pick) const {
  if (next_id_ == 0) return std::nullopt;
  return TaskId{pick % 10 == 9 ? next_id_ : pick % next_id_};
}

// ---- spawn --------------------------------------------------------------------------------------

// A forgotten task still links a tree while a task the kernel has hangs somewhere below it.
bool KernelHarness::links_a_tree(TaskId id) const {
  for (const auto& [child, f] : tasks_) {
    if (f.indexed && f.spec.parent.task == id && (f.in_kernel || links_a_tree(child))) return true;
  }
  return false;
}

// A parent must be a task the kernel has, or a forgotten one that still links a tree: a task
// spawned below anything else would hang in no tree that an abort can reach.
bool KernelHarness::parent_known(TaskId id) const {
  if (live_facts(id)) return true;
  const auto it = tasks_.find(id);
  return it != tasks_.end() && it->second.indexed && links_a_tree(id);
}

// What is wrong with the spec itself (or the kernel is stopping): refused before deduplication.
std::vector<SpawnErrorCode> KernelHarness::spec_refusals(const TaskSpec& spec) const {
  std::vector<SpawnErrorCode> why;
  if (stopping_) why.push_back(SpawnErrorCode::ShuttingDown);
  if (spec.kind.empty()) why.push_back(SpawnErrorCode::EmptyKind);
  if (static_cast<int>(spec.priority) >= priority_count) why.push_back(SpawnErrorCode::InvalidPriority);
  if (spec.name) {
    const bool reserved =
        spec.name->empty() || std::any_of(std::begin(reserved_names), std::end(reserved_names),
                                          [&](const char* r) { return *spec.name == r; });
    if (reserved) why.push_back(SpawnErrorCode::ReservedName);
  }
  if (spec.timeout && spec.timeout->count() <= 0) why.push_back(SpawnErrorCode::InvalidTimeout);
  if (spec.heartbeat && spec.heartbeat->count() <= 0) why.push_back(SpawnErrorCode::InvalidHeartbeat);
  if (spec.run_after.count() < 0) why.push_back(SpawnErrorCode::InvalidDelay);
  if (spec.quota && spec.quota->cooldown.count() < 0) why.push_back(SpawnErrorCode::InvalidDelay);
  if (spec.quota && spec.quota->key.empty()) why.push_back(SpawnErrorCode::InvalidQuotaKey);
  const RetryPolicy& r = spec.retry;
  if (r.max_attempts == 0 || r.initial_backoff.count() < 0 || r.max_backoff.count() < 0 || !(r.multiplier >= 1.0) ||
      !std::isfinite(r.multiplier) || !(r.jitter >= 0.0 && r.jitter <= 1.0)) {
    why.push_back(SpawnErrorCode::InvalidRetry);
  }
  if (!spec.payload.is_null() && spec.payload.dump().size() > config_.max_payload_bytes) {
    why.push_back(SpawnErrorCode::PayloadTooLarge);
  }
  if (spec.dedup && (spec.dedup->key.empty() || static_cast<int>(spec.dedup->mode) >= dedup_mode_count)) {
    why.push_back(SpawnErrorCode::InvalidDedup);
  }
  if (static_cast<int>(spec.after_mode) >= dependency_mode_count) why.push_back(SpawnErrorCode::InvalidDependencyMode);
  if (spec.rate_limit && (spec.rate_limit->key.empty() || spec.rate_limit->starts == 0 ||
                          spec.rate_limit->interval.count() <= 0)) {
    why.push_back(SpawnErrorCode::InvalidRateLimit);
  }
  if (const auto& repeat = spec.repeat) {
    if (repeat->every.count() <= 0 || repeat->every > std::chrono::hours(24 * 365 * 10) || (repeat->times && *repeat->times == 0) ||
        static_cast<int>(repeat->mode) >= repeat_mode_count || (spec.dedup && spec.dedup->mode == DedupMode::ReplacePending)) {
      why.push_back(SpawnErrorCode::InvalidRepeat);
    }
  }
  if (std::set<TaskId>(spec.after.begin(), spec.after.end()).size() > config_.max_dependencies) {
    why.push_back(SpawnErrorCode::TooManyDependencies);
  }
  return why;
}

// Every reason the kernel cannot take one more task now, counting `replacing` as gone already.
// The kernel may name any of them, but must name one.
std::vector<SpawnErrorCode> KernelHarness::admission_refusals(const TaskSpec& spec, std::optional<TaskId> replacing) const {
  std::vector<SpawnErrorCode> why;
  if (spec.name) {
    for (const auto& [id, f] : tasks_) {
      if (id != replacing && f.in_kernel && f.phase != Phase::Terminal && f.spec.owner == spec.owner &&
          f.spec.name == spec.name) {
        why.push_back(SpawnErrorCode::DuplicateName);
        break;
      }
    }
  }
  if (spec.parent.task && !parent_known(*spec.parent.task)) why.push_back(SpawnErrorCode::UnknownParent);
  for (const TaskId d : spec.after) {  // dependencies point back in time, to tasks the kernel still has
    if (d.value >= next_id_) {
      why.push_back(SpawnErrorCode::DependencyCycle);
    } else if (!live_facts(d)) {
      why.push_back(SpawnErrorCode::UnknownDependency);
    }
  }
  std::size_t unfinished = 0;
  bool quota_held = false;
  for (const auto& [id, f] : tasks_) {
    if (!f.in_kernel || f.phase == Phase::Terminal || id == replacing) continue;
    ++unfinished;
    if (spec.quota && f.spec.quota && f.spec.quota->key == spec.quota->key) quota_held = true;
  }
  if (unfinished >= config_.capacity) why.push_back(SpawnErrorCode::QueueFull);
  if (spec.quota) {
    const auto used = quota_starts_.find(spec.quota->key);
    if (spec.quota->max_attempts != 0 && used != quota_starts_.end() && used->second >= spec.quota->max_attempts) {
      why.push_back(SpawnErrorCode::QuotaExhausted);
    }
    if (spec.quota->single_flight && quota_held) why.push_back(SpawnErrorCode::SingleFlightBusy);
  }
  return why;
}

// The newest unfinished task of the same owner that holds the spec's dedup key.
std::optional<TaskId> KernelHarness::dedup_holder(const TaskSpec& spec) const {
  std::optional<TaskId> holder;
  for (const auto& [id, f] : tasks_) {
    if (f.in_kernel && f.phase != Phase::Terminal && f.spec.dedup && f.spec.owner == spec.owner &&
        f.spec.dedup->key == spec.dedup->key) {
      holder = id;
    }
  }
  return holder;
}

void KernelHarness::spawn(const TaskSpec& spec, Duration skew) {
  begin_input(Input::Spawn, skew, false);
  auto reasons = spec_refusals(spec);
  const auto holder = reasons.empty() && spec.dedup ? dedup_holder(spec) : std::nullopt;
  const bool folds = holder && spec.dedup->mode == DedupMode::KeepExisting;
  const bool replaces = holder && spec.dedup->mode == DedupMode::ReplacePending && tasks_.at(*holder).phase == Phase::Pending;
  if (reasons.empty() && !folds) reasons = admission_refusals(spec, replaces ? holder : std::nullopt);
  if (replaces && reasons.empty()) scope_.replaced = holder;
  record(event::Spawn{spec});
  const auto result = kernel_.admit(spec, now_);
  if (folds) {
    HARNESS_EXPECT(result.has_value() && result.value() == (Admission{*holder, true, std::nullopt}),
                   "a spawn whose dedup key " + to_string(*holder) + " holds must answer that id, deduplicated");
    ++expected_stats_.deduplicated;
    Coverage::instance().hit(tasks_.at(*holder).phase == Phase::Running ? "spawn deduplicated onto a running task"
                                                                        : "spawn deduplicated onto a pending task");
  } else if (reasons.empty()) {
    HARNESS_EXPECT(result.has_value(), "a valid spawn was refused: " + result.error().message);
    HARNESS_EXPECT(result.value().id == TaskId{next_id_}, "ids are bg_0, bg_1, ...: got " + to_string(result.value().id));
    HARNESS_EXPECT(!result.value().deduplicated && result.value().replaced == scope_.replaced,
                   "the admission must name the task it replaced, and only that");
    TaskFacts f;
    f.spec = spec;
    f.created_at = now_;
    f.due = now_ + spec.run_after;
    f.considered_at = now_;
    if (spec.repeat) {
      f.series = result.value().id;
      f.run = 1;
    }
    expect_dependency_verdicts_at_spawn(f);
    if (held(spec)) Coverage::instance().hit("spawn paused by a rule");
    tasks_.emplace(result.value().id, std::move(f));
    unflushed_[result.value().id] = UnflushedFacts{spec.key.to_optional(), false, std::nullopt};
    ++next_id_;
    ++expected_stats_.spawned;
    Coverage::instance().hit("spawn accepted");
    if (holder && !replaces) Coverage::instance().hit("spawn beside a running holder of its dedup key");
  } else {
    std::ostringstream why;
    for (const auto code : reasons) why << to_string(code) << " ";
    HARNESS_EXPECT(!result.has_value(), "spawn accepted as " + (result ? to_string(result.value().id) : std::string()) +
                                            " though it must be refused for: " + why.str());
    HARNESS_EXPECT(contains(reasons, result.error().code),
                   std::string("refused with ") + to_string(result.error().code) + ", expected one of: " + why.str());
    HARNESS_EXPECT(!result.error().message.empty(), "a refusal must say what to fix");
    ++expected_stats_.refused;
    Coverage::instance().hit(std::string("spawn refused: ") + to_string(result.error().code));
  }
  process(drain());
  if (scope_.replaced) {
    const TaskFacts& old = tasks_.at(*scope_.replaced);
    HARNESS_EXPECT(old.phase == Phase::Terminal && old.final_status == TaskStatus::Cancelled,
                   "the pending task a dedup key replaced must end Cancelled");
    const std::optional<TaskInfo> info = kernel_.get(*scope_.replaced);
    const std::string expected = "replaced by " + to_string(TaskId{next_id_ - 1}) + " (dedup key '" + spec.dedup->key + "')";
    HARNESS_EXPECT(!info.has_value() || info->error == expected, "a replaced task's error must be '" + expected + "'");
    Coverage::instance().hit("spawn replaced a pending task");
  }
  end_input();
}

// ---- complete -----------------------------------------------------------------------------------

void KernelHarness::complete_current(std::size_t pick, const Outcome& outcome, Duration skew) {
  std::vector<TaskId> running;
  for (const auto& [id, f] : tasks_) {
    if (f.in_kernel && f.phase == Phase::Running) running.push_back(id);
  }
  if (running.empty()) return complete_unknown(pick, outcome);
  const TaskId id = running[pick % running.size()];
  complete_attempt(id, tasks_.at(id).attempt, outcome, skew);
}

void KernelHarness::complete_late(std::size_t pick, const Outcome& outcome, Duration past_deadline) {
  std::vector<TaskId> timed;
  for (const auto& [id, f] : tasks_) {
    if (f.in_kernel && f.phase == Phase::Running && attempt_end(f)) timed.push_back(id);
  }
  if (timed.empty()) return complete_current(pick, outcome, past_deadline);
  const TaskFacts& f = tasks_.at(timed[pick % timed.size()]);
  const Time at = std::max(now_, *attempt_end(f) + past_deadline);
  complete_attempt(timed[pick % timed.size()], f.attempt, outcome, at - now_);
}

void KernelHarness::complete_attempt(TaskId id, std::uint32_t attempt, const Outcome& outcome, Duration skew) {
  begin_input(Input::Complete, skew, true);
  TaskFacts* f = live_facts(id);
  // A deadline at or before the completion's time wins: the attempt timed out first.
  const bool applies = f && f->phase == Phase::Running && f->attempt == attempt && !(attempt_end(*f) && *attempt_end(*f) <= now_);
  const bool was_cancelling = applies && f->cancel_requested;
  bool retries = false;
  if (applies) {
    f->phase = Phase::AttemptEnded;
    f->ended_by = EndedBy::Completion;
    f->deadline.reset();
    f->heartbeat_deadline.reset();
    scope_.completed = id;
    scope_.completed_ok = outcome.ok;
    const auto& fatal = f->spec.retry.non_retryable_errors;
    const bool retryable = outcome.retryable && (outcome.error_type.empty() || !contains(fatal, outcome.error_type));
    retries = !outcome.ok && !was_cancelling && retryable && attempt < f->spec.retry.max_attempts;
    Coverage::instance().hit("completion applied");
  } else {
    ++expected_stats_.ignored_completions;
    Coverage::instance().hit("completion after its deadline");
  }
  record(event::Complete{id, attempt, outcome});
  kernel_.complete(id, attempt, outcome, now_);
  process(drain());
  forget_oldest_terminal();  // the waiters a failure ends may push this task out of the retained window
  if (applies && tasks_.at(id).in_kernel) {
    const std::optional<TaskInfo> info = kernel_.get(id);
    HARNESS_EXPECT(info.has_value(), "a completed task was forgotten");
    if (was_cancelling) {
      HARNESS_EXPECT(info->status == TaskStatus::Cancelled, "a task asked to stop ends Cancelled when its work returns");
    } else if (outcome.ok) {
      HARNESS_EXPECT(info->status == TaskStatus::Completed && info->result == outcome.result,
                     std::string("success must end Completed with its result, got ") + to_string(info->status));
    } else if (retries) {
      const bool quota_refused = info->status == TaskStatus::Failed && info->error &&
                                 info->error->rfind("attempt quota for '", 0) == 0;  // the retry found the quota used up
      HARNESS_EXPECT((!is_terminal(info->status) && info->error == outcome.error) || quota_refused,
                     std::string("a retryable failure with attempts left must wait for a retry, got ") +
                         to_string(info->status));
    } else {
      HARNESS_EXPECT(info->status == TaskStatus::Failed && info->error == outcome.error,
                     std::string("a final failure must end Failed with its error, got ") + to_string(info->status));
    }
  }
  end_input();
}

// The kernel must ignore this completion and change nothing but the counter.
void KernelHarness::complete_ignored(TaskId id, std::uint32_t attempt, const Outcome& outcome) {
  std::vector<std::optional<TaskInfo>> before;
  for (std::uint64_t i = 0; i <= next_id_; ++i) {
    const std::optional<TaskInfo> info = kernel_.get(TaskId{i});
    before.push_back(info ? std::optional<TaskInfo>(*info) : std::nullopt);
  }
  KernelStats stats_before = kernel_.stats();
  const Snapshot snapshot_before = kernel_.snapshot();
  const auto deadline_before = kernel_.next_deadline();
  const std::size_t running_before = kernel_.running();
  const std::size_t unfinished_before = kernel_.unfinished();

  begin_input(Input::Complete, Duration{0}, true);
  ++expected_stats_.ignored_completions;
  Coverage::instance().hit("completion ignored");
  record(event::Complete{id, attempt, outcome});
  kernel_.complete(id, attempt, outcome, now_);
  const auto batch = drain();
  HARNESS_EXPECT(batch.empty(), "an ignored completion emitted " + describe(batch.front()));
  for (std::uint64_t i = 0; i <= next_id_; ++i) {
    const std::optional<TaskInfo> info = kernel_.get(TaskId{i});
    HARNESS_EXPECT((info ? std::optional<TaskInfo>(*info) : std::nullopt) == before[i],
                   "an ignored completion changed " + to_string(TaskId{i}));
  }
  ++stats_before.ignored_completions;
  HARNESS_EXPECT(kernel_.stats() == stats_before, "an ignored completion changed a counter other than ignored_completions");
  HARNESS_EXPECT(kernel_.snapshot() == snapshot_before, "an ignored completion changed the snapshot");
  HARNESS_EXPECT(kernel_.next_deadline() == deadline_before, "an ignored completion moved next_deadline()");
  HARNESS_EXPECT(kernel_.running() == running_before && kernel_.unfinished() == unfinished_before,
                 "an ignored completion changed running() or unfinished()");
  end_input();
}

// So that an ignored completion is measured alone, due timers fire first (in a tick of their own).
void KernelHarness::fire_due_timers() {
  const auto due = kernel_.next_deadline();
  if (!seen_input_ || (due && *due <= now_)) tick_by(Duration{0});
}

void KernelHarness::complete_stale(std::size_t pick, const Outcome& outcome) {
  fire_due_timers();
  std::vector<std::pair<TaskId, std::uint32_t>> stale;
  for (const auto& [id, f] : tasks_) {
    for (std::uint32_t a = 0; a <= f.attempt + 1; ++a) {
      if (!(f.in_kernel && f.phase == Phase::Running && a == f.attempt)) stale.emplace_back(id, a);
    }
  }
  if (stale.empty()) return complete_unknown(pick, outcome);
  const auto [id, attempt] = stale[pick % stale.size()];
  complete_ignored(id, attempt, outcome);
}

void KernelHarness::complete_unknown(std::uint64_t beyond, const Outcome& outcome) {
  fire_due_timers();
  complete_ignored(TaskId{next_id_ + beyond % 4}, 1 + static_cast<std::uint32_t>(beyond % 3), outcome);
}

// ---- heartbeat ----------------------------------------------------------------------------------

// Due timers fire in a tick of their own first, so that the heartbeat is measured alone: it emits
// nothing, and either moves the attempt's heartbeat deadline or is ignored and counted.
void KernelHarness::heartbeat(std::size_t pick, bool current) {
  fire_due_timers();
  std::vector<std::pair<TaskId, std::uint32_t>> choices;
  for (const auto& [id, f] : tasks_) {
    for (std::uint32_t a = 0; a <= f.attempt + 1; ++a) {
      const bool live = f.in_kernel && f.phase == Phase::Running && a == f.attempt;
      if (live == current) choices.emplace_back(id, a);
    }
  }
  if (choices.empty()) choices.emplace_back(TaskId{next_id_ + pick % 4}, 1 + static_cast<std::uint32_t>(pick % 3));
  const auto [id, attempt] = choices[pick % choices.size()];
  const Snapshot snapshot_before = kernel_.snapshot();
  begin_input(Input::Heartbeat, Duration{0}, true);
  TaskFacts* f = live_facts(id);
  const bool applies = f && f->phase == Phase::Running && f->attempt == attempt;
  if (!applies) {
    ++expected_stats_.ignored_heartbeats;
    Coverage::instance().hit("heartbeat ignored");
  } else if (f->spec.heartbeat) {
    f->heartbeat_deadline = now_ + *f->spec.heartbeat;
    Coverage::instance().hit("heartbeat moved its deadline");
  } else {
    Coverage::instance().hit("heartbeat of a task without an interval");
  }
  record(event::Heartbeat{id, attempt});
  kernel_.heartbeat(id, attempt, now_);
  const auto batch = drain();
  HARNESS_EXPECT(batch.empty(), "a heartbeat emitted " + describe(batch.front()));
  HARNESS_EXPECT(kernel_.snapshot() == snapshot_before, "a heartbeat changed the durable state");
  end_input();
}

// ---- time ---------------------------------------------------------------------------------------

void KernelHarness::tick_by(Duration d) {
  begin_input(Input::Tick, d, true);
  record(event::Tick{});
  kernel_.tick(now_);
  process(drain());
  end_input();
}

void KernelHarness::tick_in_the_past(Duration ago) {
  if (!seen_input_) return tick_by(Duration{0});  // the first input sets the kernel's clock
  begin_input(Input::Tick, Duration{0}, true);
  lifetimes_.back().events.push_back(TimedEvent{now_ - ago, event::Tick{}});
  kernel_.tick(now_ - ago);
  process(drain());
  end_input();
}

void KernelHarness::tick_to_deadline(Duration before) {
  const auto due = kernel_.next_deadline();
  if (!due) return tick_by(milliseconds(1));
  tick_by(std::max(Duration{0}, *due - before - now_));
}

// ---- queued-work runner -------------------------------------------------------------------------

void KernelHarness::poke(const std::optional<std::string>& session, const std::string& reason, Duration skew) {
  begin_input(Input::Poke, skew, false);
  if (config_.queued_work_runner && !stopped_) runner_.poke(session, reason);
  record(event::Poke{session, reason});
  kernel_.poke(session, reason, now_);
  process(drain());
  end_input();
}

void KernelHarness::complete_session(const std::string& session, const std::string& reason, Duration skew) {
  begin_input(Input::SessionDone, skew, false);
  if (config_.queued_work_runner && !stopped_) runner_.complete(session, reason);
  record(event::SessionComplete{session, reason});
  kernel_.complete_session(session, reason, now_);
  process(drain());
  end_input();
}

void KernelHarness::answer_queued_work(bool outstanding, std::uint64_t wrong_offset,
                                       const std::optional<std::string>& submitted) {
  begin_input(Input::Answer, Duration{0}, false);
  const auto awaiting = runner_.awaiting();
  const std::uint64_t request = outstanding && awaiting ? *awaiting : runner_.next_request() + wrong_offset;
  const bool accepted = runner_.answer(request, submitted);
  // While the runner is off an answer changes nothing, not even the count of ignored inputs.
  if (!accepted && kernel_.config().queued_work_runner) ++expected_stats_.ignored_completions;
  Coverage::instance().hit(accepted ? "queued-work answer accepted" : "queued-work answer ignored");
  record(event::QueuedWorkAnswer{request, submitted});
  kernel_.answer_queued_work(request, submitted, now_);
  process(drain());
  end_input();
}

// ---- abort --------------------------------------------------------------------------------------

// A tree passes through tasks the kernel no longer has (forgotten, or lost in a restart) to reach
// the live descendants below them; only the tasks it has are selected.
void KernelHarness::collect_tree(TaskId root, std::vector<TaskId>& into) const {
  if (live_facts(root)) into.push_back(root);
  for (const auto& [id, f] : tasks_) {
    if (f.indexed && f.spec.parent.task == root) collect_tree(id, into);
  }
}

// What each selector reaches, from the spawn records alone (seed 003's tree, owner, run, all).
std::vector<TaskId> KernelHarness::select(const AbortSelector& which) const {
  std::vector<TaskId> ids;
  if (const auto* s = std::get_if<abort_selector::Task>(&which)) {
    if (live_facts(s->id)) ids.push_back(s->id);
    for (const auto& [id, f] : tasks_) {  // a series' id also names its current run
      if (id != s->id && f.in_kernel && f.phase != Phase::Terminal && f.series == s->id) ids.push_back(id);
    }
  } else if (const auto* t = std::get_if<abort_selector::Tree>(&which)) {
    collect_tree(t->root, ids);
    for (const auto& [id, f] : tasks_) {  // a series' id also roots its current run's tree
      if (id != t->root && f.in_kernel && f.phase != Phase::Terminal && f.series == t->root) collect_tree(id, ids);
    }
  } else if (const auto* o = std::get_if<abort_selector::Owner>(&which)) {
    for (const auto& [id, f] : tasks_) {
      if (f.in_kernel && f.spec.owner == o->owner) ids.push_back(id);
    }
  } else if (const auto* r = std::get_if<abort_selector::Run>(&which)) {
    for (const auto& [id, f] : tasks_) {
      if (f.indexed && !f.spec.parent.task && f.spec.parent.run == r->run) collect_tree(id, ids);
    }
  } else {
    for (const auto& [id, f] : tasks_) {
      if (f.in_kernel) ids.push_back(id);
    }
  }
  return ids;
}

void KernelHarness::abort(const AbortSelector& which, bool via_cancel, Duration skew) {
  begin_input(Input::Abort, skew, false);
  const auto reached = select(which);
  scope_.selected.insert(reached.begin(), reached.end());
  std::size_t expected = 0;
  for (const TaskId id : reached) {
    const TaskFacts& f = tasks_.at(id);
    if (f.phase != Phase::Terminal && !f.cancel_requested) ++expected;
  }
  record(event::Abort{which});
  std::size_t got = 0;
  const auto* one = std::get_if<abort_selector::Task>(&which);
  if (via_cancel && one) {
    got = kernel_.cancel(one->id, now_) ? 1 : 0;
  } else {
    got = kernel_.abort(which, now_);
  }
  process(drain());
  HARNESS_EXPECT(got == expected, "abort " + describe(which) + " returned " + std::to_string(got) + ", expected " +
                                      std::to_string(expected) + " newly cancelled (a terminal or already "
                                                                 "cancelling task counts 0)");
  Coverage::instance().hit(got > 0 ? "abort cancelled some" : "abort cancelled none");
  if (std::holds_alternative<abort_selector::Tree>(which) && reached.size() > 1) {
    Coverage::instance().hit("abort of a tree with descendants");
  }
  for (const TaskId id : reached) {  // invariant 6: every live task reached is cancelled or stopping
    const TaskFacts& f = tasks_.at(id);
    HARNESS_EXPECT(f.phase == Phase::Terminal || f.cancel_requested,
                   to_string(id) + " was reached by abort " + describe(which) + " but is neither ended nor stopping");
  }
  end_input();
}

// ---- flush --------------------------------------------------------------------------------------

void KernelHarness::flush(const FlushSelector& which, Duration skew) {
  begin_input(Input::Flush, skew, false);
  const FlushId expected_id = next_flush_++;
  FlushFacts taken;
  for (auto it = unflushed_.begin(); it != unflushed_.end();) {
    const auto& key = it->second.key;
    const bool match = std::visit(
        [&](const auto& s) -> bool {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, flush_selector::All>) return true;
          else if constexpr (std::is_same_v<S, flush_selector::Scope>) return key && key->scope == s.scope;
          else if constexpr (std::is_same_v<S, flush_selector::Purpose>) return key && key->purpose == s.purpose;
          else return key && key->scope == s.scope && key->purpose == s.purpose;
        },
        which);
    if (!match) {
      ++it;
      continue;
    }
    if (it->second.terminal) {
      if (it->second.error) taken.note_error(it->first, *it->second.error);
      if (it->second.kept_across_restart) Coverage::instance().hit("a flush takes an error kept across a restart");
    } else {
      taken.live.insert(it->first);
      claimed_by_[it->first] = expected_id;
    }
    it = unflushed_.erase(it);
  }
  flushes_.emplace(expected_id, std::move(taken));
  scope_.new_flush = expected_id;
  record(event::Flush{which});
  const FlushId got = kernel_.flush(which, now_);
  HARNESS_EXPECT(got == expected_id, "flush ids count 1, 2, ... per kernel: got " + std::to_string(got));
  process(drain());
  end_input();
}

// ---- send ---------------------------------------------------------------------------------------

std::vector<SendErrorCode> KernelHarness::send_refusals(TaskId to, const std::string& from, const Json& message) const {
  const TaskFacts* f = live_facts(to);
  if (!f) return {SendErrorCode::TaskNotFound};
  std::vector<SendErrorCode> why;
  if (f->spec.owner != from) why.push_back(SendErrorCode::NotOwner);
  if (f->phase == Phase::Terminal) why.push_back(SendErrorCode::TaskTerminated);
  if (!f->spec.inbox) why.push_back(SendErrorCode::NoInbox);
  if (f->cancel_requested || stopping_) why.push_back(SendErrorCode::InboxClosed);
  const auto size = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace).size(); };
  if (size(message) > config_.max_payload_bytes) why.push_back(SendErrorCode::MessageTooLarge);
  if (f->phase != Phase::Running && !f->undelivered.empty()) {  // the generator's messages nest only a few levels
    std::size_t bytes = size(message);
    for (const Json& m : f->undelivered) bytes += size(m);
    if (f->undelivered.size() >= 256 || bytes > config_.max_payload_bytes) why.push_back(SendErrorCode::InboxFull);
  }
  return why;
}

void KernelHarness::send(TaskId to, const std::optional<std::string>& from, const Json& message, Duration skew) {
  begin_input(Input::Send, skew, false);
  const TaskFacts* target = live_facts(to);
  const std::string sender = from ? *from : target ? target->spec.owner : std::string("alice");
  const auto reasons = send_refusals(to, sender, message);
  record(event::Send{to, sender, message});
  const auto result = kernel_.send(to, sender, message, now_);
  if (reasons.empty()) {
    HARNESS_EXPECT(result.has_value(), "a valid send was refused: " + result.error().message);
    tasks_.at(to).undelivered.push_back(message);  // delivered now if running, at the next start if not
    Coverage::instance().hit(target->phase == Phase::Running ? "send delivered at once" : "send kept for the start");
  } else {
    HARNESS_EXPECT(!result.has_value(), "send to " + to_string(to) + " must be refused");
    Coverage::instance().hit(std::string("send refused: ") + to_string(result.error().code));
    HARNESS_EXPECT(contains(reasons, result.error().code),
                   std::string("send refused with ") + to_string(result.error().code) + ": not a reason that applies");
  }
  process(drain());
  end_input();
}

// ---- shutdown -----------------------------------------------------------------------------------

void KernelHarness::shutdown(ShutdownMode mode) {
  begin_input(Input::Shutdown, Duration{0}, false);
  stopping_ = true;
  scope_.shutdown = mode;
  Coverage::instance().hit(mode == ShutdownMode::Drain ? "shutdown drain" : "shutdown cancel");
  record(event::Shutdown{mode});
  kernel_.shutdown(mode, now_);
  process(drain());
  if (mode == ShutdownMode::Cancel) {
    for (const auto& [id, f] : tasks_) {
      HARNESS_EXPECT(!(f.in_kernel && f.phase == Phase::Running && !f.cancel_requested),
                     "shutdown(Cancel) must ask every running attempt to stop: " + to_string(id));
    }
  }
  end_input();
}

// ---- failure ------------------------------------------------------------------------------------

void KernelHarness::fail(const char* condition, const std::string& message, int line) const {
  std::ostringstream os;
  os << message << "\n  check: " << condition << " (harness line " << line << ")\n  config: " << describe(config_)
     << "\n  trace of kernel lifetime " << lifetimes_.size() - 1 << " (time: input -> commands):\n";
  const Lifetime& life = lifetimes_.back();
  const std::size_t from = life.events.size() > 60 ? life.events.size() - 60 : 0;
  for (std::size_t i = from; i < life.events.size(); ++i) {
    os << "    " << describe(life.events[i].at) << ": " << describe(life.events[i].event);
    if (i < life.outputs.size()) {
      os << " ->";
      for (const auto& c : life.outputs[i]) os << " [" << describe(c) << "]";
    }
    os << "\n";
  }
  if (const auto file = write_failure_trace(config_, life.events); !file.empty()) {
    os << "  the whole lifetime replays from " << file.string() << " (tasklane replay " << file.string() << ")\n";
  }
  throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Failure, os.str());
}

}  // namespace tasklane::property
