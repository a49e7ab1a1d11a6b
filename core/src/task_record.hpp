// TaskRecord: the kernel's compact form of one task, the TaskInfo it answers with Kernel::get.
//
// A TaskInfo is 480 bytes, and the kernel held one per task: at a million pending tasks that was
// most of the 579 bytes each cost. A TaskRecord keeps the same facts in 136 bytes:
//   - the kind and the owner are pooled strings (8 bytes, one copy per distinct name: StringPool);
//   - the retry policy is boxed, empty when it is RetryPolicy{} (most tasks: 8 bytes, not 72);
//   - the optional times and durations are a value beside a flag bit, not std::optional (8, not 16);
//   - what most tasks leave empty (name, description, quota, dedup, rate limit, dependencies,
//     repeat, parent, series, undelivered messages) is one boxed RecordExtras (8 bytes when unset).
// Everything a task's life reads on the hot path (status, attempt, due, priority, key, payload) is
// inline. make() and to_info() convert exactly: make(x).to_info(x.id) == x for every TaskInfo (tested).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "string_pool.hpp"
#include "tasklane/task_info.hpp"

namespace tasklane::detail {

template <class T>
const T* pointer_to(const Boxed<T>& box) {
  return box ? &*box : nullptr;
}

// The fields most tasks leave at their defaults, boxed together in a TaskRecord.
struct RecordExtras {
  Boxed<std::string> name;
  std::string description;
  Boxed<QuotaSpec> quota;
  Boxed<DedupSpec> dedup;
  Boxed<RateLimit> rate_limit;
  std::vector<TaskId> after;
  Boxed<Repeat> repeat;
  ParentContext parent;
  std::vector<TaskId> waiting_for;
  std::optional<TaskId> series;
  Boxed<std::string> series_end;
  Boxed<std::vector<InboxMessage>> undelivered;
  // Not a TaskInfo field: the JSON bytes of `undelivered`'s messages, which the kernel keeps beside
  // them so that Kernel::send checks its bound without measuring them again.
  std::size_t undelivered_bytes = 0;
};

class TaskRecord {
 public:
  TaskRecord() = default;
  TaskRecord(TaskRecord&&) noexcept = default;
  TaskRecord& operator=(TaskRecord&&) noexcept = default;

  // A new task's record: moves from `spec`, takes its kind and owner from the pools.
  static TaskRecord make(TaskSpec&& spec, StringPool& kinds, StringPool& owners) {
    TaskRecord r;
    r.adopt_spec(std::move(spec), kinds, owners);
    return r;
  }
  // A restored task's record.
  static TaskRecord make(const TaskInfo& info, StringPool& kinds, StringPool& owners) {
    TaskRecord r;
    r.adopt_spec(info.spec, kinds, owners);
    r.status = info.status;
    r.cancel_requested = info.cancel_requested;
    r.paused = info.paused;
    r.error_unflushed = info.error_unflushed;
    r.attempt = info.attempt;
    r.created_at = info.created_at;
    r.due = info.due;
    r.set_finished_at(info.finished_at);
    r.error = info.error;
    r.set_result(Json(info.result));
    r.run = info.run;
    if (!info.waiting_for.empty()) r.extras_mut().waiting_for = info.waiting_for;
    if (info.series) r.extras_mut().series = info.series;
    if (info.series_end) r.extras_mut().series_end = info.series_end;
    if (info.undelivered) r.extras_mut().undelivered = info.undelivered;
    return r;
  }

  // A record from damaged input (a snapshot built by hand) may hold enum values that spawn refuses:
  // each reads as its default (the ready queues and load counters index by priority).
  void default_unknown_enums() {
    if (static_cast<unsigned>(priority) >= priority_count) priority = Priority::Normal;
    if (static_cast<unsigned>(after_mode) >= dependency_mode_count) after_mode = DependencyMode::AllSucceeded;
    if (!extras_) return;
    RecordExtras& x = *extras_;
    if (x.dedup && static_cast<unsigned>(x.dedup->mode) >= dedup_mode_count) x.dedup->mode = DedupMode::KeepExisting;
    if (x.repeat && static_cast<unsigned>(x.repeat->mode) >= repeat_mode_count) x.repeat->mode = RepeatMode::FixedRate;
  }

  // Gives the pooled strings back: before the record is dropped, else they stay in the pools.
  void release(StringPool& kinds, StringPool& owners) {
    kinds.give_back(kind_);
    owners.give_back(owner_);
  }

  // The TaskInfo this record stands for.
  TaskInfo to_info(TaskId id) const {
    TaskInfo i;
    i.id = id;
    i.spec = spec();
    i.status = status;
    i.cancel_requested = cancel_requested;
    i.paused = paused;
    i.error_unflushed = error_unflushed;
    i.attempt = attempt;
    i.created_at = created_at;
    i.due = due;
    i.finished_at = finished_at();
    i.error = error;
    i.result = result();
    i.run = run;
    if (extras_) {
      i.waiting_for = extras_->waiting_for;
      i.series = extras_->series;
      i.series_end = extras_->series_end;
      i.undelivered = extras_->undelivered;
    }
    return i;
  }

  TaskSpec spec() const {
    TaskSpec s;
    s.kind = kind();
    s.payload = payload;
    s.owner = owner();
    s.key = key;
    s.run_after = run_after;
    s.timeout = timeout();
    s.heartbeat = heartbeat();
    s.retry = retry();
    if (extras_) {
      const RecordExtras& x = *extras_;
      s.name = x.name;
      s.description = x.description;
      s.quota = x.quota;
      s.dedup = x.dedup;
      s.rate_limit = x.rate_limit;
      s.after = x.after;
      s.repeat = x.repeat;
      s.parent = x.parent;
    }
    s.priority = priority;
    s.after_mode = after_mode;
    s.inbox = inbox;
    s.durable = durable;
    return s;
  }

  // ---- the spec's fields ----
  const std::string& kind() const { return kind_.str(); }
  const std::string& owner() const { return owner_.str(); }
  const RetryPolicy& retry() const { return retry_ ? *retry_ : default_retry(); }
  std::optional<Duration> timeout() const { return has_timeout_ ? std::optional<Duration>(timeout_) : std::nullopt; }
  std::optional<Duration> heartbeat() const {
    return has_heartbeat_ ? std::optional<Duration>(heartbeat_) : std::nullopt;
  }
  const std::string* name() const { return extras_ ? pointer_to(extras_->name) : nullptr; }
  const QuotaSpec* quota() const { return extras_ ? pointer_to(extras_->quota) : nullptr; }
  const DedupSpec* dedup() const { return extras_ ? pointer_to(extras_->dedup) : nullptr; }
  const RateLimit* rate_limit() const { return extras_ ? pointer_to(extras_->rate_limit) : nullptr; }
  const Repeat* repeat() const { return extras_ ? pointer_to(extras_->repeat) : nullptr; }
  const std::vector<TaskId>& after() const { return extras_ ? extras_->after : no_ids(); }
  const ParentContext& parent() const { return extras_ ? extras_->parent : no_parent(); }

  // ---- the task's state ----
  std::optional<Time> finished_at() const {
    return has_finished_at_ ? std::optional<Time>(finished_at_) : std::nullopt;
  }
  void set_finished_at(std::optional<Time> t) {
    has_finished_at_ = t.has_value();
    finished_at_ = t.value_or(Time{0});
  }
  const std::vector<TaskId>& waiting_for() const { return extras_ ? extras_->waiting_for : no_ids(); }
  std::optional<TaskId> series() const { return extras_ ? extras_->series : std::nullopt; }
  // The successful attempt's result, null otherwise (boxed: a pending task holds none).
  const Json& result() const { return result_ ? *result_ : null_json(); }
  void set_result(Json&& value) {
    if (value.is_null()) {
      result_.reset();
    } else {
      result_ = std::move(value);
    }
  }
  std::vector<TaskId>& waiting_for_mut() { return extras_mut().waiting_for; }
  std::vector<InboxMessage>* undelivered() { return extras_ && extras_->undelivered ? &*extras_->undelivered : nullptr; }
  // Hands the waiting messages over (to their Deliver commands, or to nobody), leaving none.
  void drop_undelivered() {
    if (!extras_) return;
    extras_->undelivered.reset();
    extras_->undelivered_bytes = 0;
  }
  // A message for the next attempt, `bytes` long as JSON.
  void add_undelivered(InboxMessage m, std::size_t bytes) {
    RecordExtras& x = extras_mut();
    if (!x.undelivered) x.undelivered.emplace();
    x.undelivered->push_back(std::move(m));
    x.undelivered_bytes += bytes;
  }
  std::size_t undelivered_bytes() const { return extras_ ? extras_->undelivered_bytes : 0; }
  // Counts the waiting messages' bytes again (a restored record brings none), `size_of` measuring one.
  template <class SizeOf>
  void recount_undelivered(SizeOf size_of) {
    if (!extras_) return;
    extras_->undelivered_bytes = 0;
    if (!extras_->undelivered) return;
    for (const InboxMessage& m : *extras_->undelivered) extras_->undelivered_bytes += size_of(m.message);
  }
  void set_series(std::optional<TaskId> id, std::uint32_t number) {
    if (id) extras_mut().series = id;
    run = number;
  }
  void set_series_end(std::string why) { extras_mut().series_end = std::move(why); }
  // The parent context, moved out (a forgotten task hands it to the tree indexes).
  ParentContext take_parent() { return extras_ ? std::move(extras_->parent) : ParentContext{}; }
  // The boxed rarely-set fields, made on first write.
  bool has_extras() const { return extras_.has_value(); }
  RecordExtras& extras_mut() {
    if (!extras_) extras_.emplace();
    return *extras_;
  }

  Json payload;
  Boxed<SequenceKey> key;
  Boxed<std::string> error;
  Time created_at{0};
  Time due{0};
  Duration run_after{0};
  TaskStatus status = TaskStatus::Pending;
  Priority priority = Priority::Normal;
  DependencyMode after_mode = DependencyMode::AllSucceeded;
  bool inbox : 1 = false;
  bool durable : 1 = false;
  bool cancel_requested : 1 = false;
  bool paused : 1 = false;
  bool error_unflushed : 1 = false;

 private:
  // In the byte of the flags above (the kernel's bookkeeping starts in the record's tail padding).
  bool has_timeout_ : 1 = false;
  bool has_heartbeat_ : 1 = false;
  bool has_finished_at_ : 1 = false;

 public:
  std::uint32_t attempt = 0;  // attempts started so far

  // A new (default-made) record takes `spec`, in place: what make() does without a record to move.
  // Moves from an rvalue spec; from a const one it copies only the fields the record keeps (the
  // kind and owner are interned by the pools either way).
  template <class Spec>
  void adopt_spec(Spec&& spec, StringPool& kinds, StringPool& owners) {
    static_assert(std::is_same_v<std::remove_cvref_t<Spec>, TaskSpec>);
    const TaskSpec& s = spec;  // reads; a kept field is taken with std::forward<Spec>(spec).field
    kind_ = kinds.take(s.kind);
    owner_ = owners.take(s.owner);
    if (!s.payload.is_null() || !payload.is_null()) payload = std::forward<Spec>(spec).payload;  // null: no calls
    key = std::forward<Spec>(spec).key;
    run_after = s.run_after;
    has_timeout_ = s.timeout.has_value();
    timeout_ = s.timeout.value_or(Duration{0});
    has_heartbeat_ = s.heartbeat.has_value();
    heartbeat_ = s.heartbeat.value_or(Duration{0});
    if (!(s.retry == default_retry())) retry_ = std::forward<Spec>(spec).retry;
    const ParentContext& p = s.parent;  // field by field: comparing with a ParentContext{} built one
    static_assert(sizeof(ParentContext) == sizeof(std::optional<TaskId>) + 3 * sizeof(Boxed<std::string>),
                  "ParentContext has a new field: count it here");
    const bool plain = !s.name && s.description.empty() && !s.quota && !s.dedup && !s.rate_limit && s.after.empty() &&
                       !s.repeat && !p.task && !p.run && !p.call && !p.agent;
    if (!plain) {
      RecordExtras& x = extras_mut();
      x.name = std::forward<Spec>(spec).name;
      x.description = std::forward<Spec>(spec).description;
      x.quota = std::forward<Spec>(spec).quota;
      x.dedup = std::forward<Spec>(spec).dedup;
      x.rate_limit = std::forward<Spec>(spec).rate_limit;
      x.after = std::forward<Spec>(spec).after;
      x.repeat = std::forward<Spec>(spec).repeat;
      x.parent = std::forward<Spec>(spec).parent;
    }
    priority = s.priority;
    after_mode = s.after_mode;
    inbox = s.inbox;
    durable = s.durable;
  }

 private:
  static const RetryPolicy& default_retry() { return default_retry_; }
  static const std::vector<TaskId>& no_ids() { return no_ids_; }
  static const Json& null_json() {  // a Json cannot be constant-initialized
    static const Json null;
    return null;
  }
  static const ParentContext& no_parent() { return no_parent_; }

  // Constant-initialized: no guard to check at each read (a function's static had one, out of line).
  static inline constinit const std::vector<TaskId> no_ids_{};
  static inline constinit const ParentContext no_parent_{};
  static inline constinit const RetryPolicy default_retry_{};

  PooledString kind_;
  PooledString owner_;
  Boxed<RetryPolicy> retry_;  // empty: RetryPolicy{}
  Boxed<RecordExtras> extras_;
  Boxed<Json> result_;
  Time finished_at_{0};
  Duration timeout_{0};
  Duration heartbeat_{0};

 public:
  std::uint32_t run = 0;  // the run's number in its series; 0 when it does not repeat
  // Declared in this order so that the record's data ends at 132 bytes: the kernel's bookkeeping
  // (a derived class) starts in its tail padding.
};

}  // namespace tasklane::detail
