// TaskSpec: everything a caller says about one piece of background work.
//
//   TaskSpec spec;
//   spec.kind = "summarize";                       // selects the handler in the driver
//   spec.owner = "alice";                          // the session / thread that owns the task
//   spec.payload = {{"turn", 12}};
//   spec.priority = Priority::High;
//   spec.key = SequenceKey{"agent", "alice", "facts"};   // same key: one after another
//   spec.timeout = seconds(30);                    // per attempt
//   spec.retry.max_attempts = 3;
//   spec.dedup = DedupSpec{"refresh-index"};       // a second spawn answers the live task's id
//   spec.rate_limit = RateLimit{"openai", 60, seconds(60)};  // at most 60 starts a minute
//   spec.heartbeat = seconds(10);                  // the work calls heartbeat() at least every 10 s
//   spec.after = {fetch_id, parse_id};             // ready once both completed (DependencyMode)
//   spec.repeat = Repeat{minutes(5)};              // a new run every 5 minutes until cancelled
//
// Every field has a safe default; Kernel::spawn checks the spec and answers a SpawnError that
// says what to fix.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasklane/boxed.hpp"
#include "tasklane/task_id.hpp"
#include "tasklane/time.hpp"

namespace tasklane {

using Json = nlohmann::json;

// Low < Normal < High < Critical. A higher priority never waits behind a lower one that is ready.
// A value cast from any other number is refused at spawn (InvalidPriority); restore reads it as Normal.
enum class Priority : std::uint8_t { Low = 0, Normal = 1, High = 2, Critical = 3 };
inline constexpr int priority_count = 4;

// Tasks with equal keys run one after another, in spawn order, never overlapping.
// Flushes select by scope, by purpose, or both (seed 000).
struct SequenceKey {
  std::string agent;
  std::string scope;
  std::string purpose;
  friend auto operator<=>(const SequenceKey&, const SequenceKey&) = default;
};

// Where a task was spawned from (seed 003): the parent task makes trees; the run makes
// "cancel everything this run started" possible.
struct ParentContext {
  std::optional<TaskId> task;
  Boxed<std::string> run;
  Boxed<std::string> call;
  Boxed<std::string> agent;
  friend bool operator==(const ParentContext&, const ParentContext&) = default;
};

// How a failed attempt is tried again (seed 004, Temporal's retry policy).
// Backoff before attempt n+1 is min(initial_backoff * multiplier^(n-1), max_backoff), then
// reduced by up to `jitter` (0..1) of itself, drawn from the kernel's seeded generator.
struct RetryPolicy {
  std::uint32_t max_attempts = 1;  // 1: no retry
  Duration initial_backoff = seconds(1);
  double multiplier = 2.0;
  Duration max_backoff = seconds(60);
  double jitter = 0.0;
  std::vector<std::string> non_retryable_errors;  // Outcome::error_type values that fail at once
  bool requeue_on_restart = false;  // a task running at a crash runs again instead of failing as orphaned
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

// Quotas shared by all tasks with the same key, for example "session-7/compaction" (seed 002).
struct QuotaSpec {
  std::string key;
  Duration cooldown{0};            // minimum time between two starts under this key
  std::uint32_t max_attempts = 0;  // attempts ever started under this key; 0 means no limit
  bool single_flight = false;      // refuse a spawn while another task of this key is unfinished
  friend bool operator==(const QuotaSpec&, const QuotaSpec&) = default;
};

// A rate limit shared by all tasks with the same key, for example one per model provider: at most
// `starts` attempt starts per `interval`, as a token bucket that holds `starts` tokens and gains one
// every interval / starts. A task over the limit waits for a token; waiting tasks take the next
// token in priority order (then spawn order). Tasks sharing a key should give the same limit.
struct RateLimit {
  std::string key;                  // must not be empty
  std::uint32_t starts = 1;         // at least 1: the bucket's size, and its tokens per interval
  Duration interval = seconds(1);   // positive
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

// Deduplication (BullMQ's job id, Oban's unique jobs). Keys are per owner. While an unfinished task
// of the same owner holds the key, a spawn with it does not make a second task:
//   KeepExisting:   the spawn answers the live task's id (Admission::deduplicated says so).
//   ReplacePending: a debounce for work where only the newest matters. The newest holder, when still
//                   pending, ends Cancelled ("replaced by bg_N") and the new task takes its place;
//                   when it already runs, it is left alone and the new task is accepted beside it.
// A mode cast from any other number is refused at spawn (InvalidDedup).
enum class DedupMode : std::uint8_t { KeepExisting = 0, ReplacePending = 1 };
inline constexpr int dedup_mode_count = 2;

struct DedupSpec {
  std::string key;  // must not be empty
  DedupMode mode = DedupMode::KeepExisting;
  friend bool operator==(const DedupSpec&, const DedupSpec&) = default;
};

// Dependencies (TaskSpec::after): the task stays pending, and keeps its place in its sequence lane,
// until every dependency is terminal; then it is considered like any other pending task.
//   AllFinished:  any outcome of a dependency will do.
//   AllSucceeded: a dependency that ends Failed or TimedOut fails the waiter ("dependency bg_3
//                 failed: <its error>"); one that ends Cancelled cancels it ("dependency bg_3 was
//                 cancelled"). A dependency that is retried is not terminal: the waiter waits for
//                 its final outcome.
// Dependencies must already exist when the waiter is spawned, so ids only point back in time and
// no cycle can form. A dependency lost in a restart (it was not durable) counts as ended unsuccessfully.
// A mode cast from any other number is refused at spawn (InvalidDependencyMode), with `after` or without.
enum class DependencyMode : std::uint8_t { AllSucceeded = 0, AllFinished = 1 };
inline constexpr int dependency_mode_count = 2;

// Repeating tasks (BullMQ's repeatable jobs, Temporal's schedules). Each run is an ordinary task with
// its own id; TaskInfo::series names the first run's id, TaskInfo::run the run's number (1-based).
// When a run ends Completed, or Failed / TimedOut after its retries (a failed run does not end the
// series), the kernel spawns the next run in the same input, with the same spec except `after` (the
// dependencies gate the first run only) and run_after (the delay to the next slot):
//   FixedRate:  slots at first_due + k * every (first_due: the first run's spawn time + run_after);
//               the next run is due at the first slot strictly after the end; missed slots are
//               skipped (KernelStats::repeat_slots_skipped counts them), never run twice.
//   FixedDelay: the next run is due `every` after the previous one ended.
// The series stops after `times` runs (unset: until cancelled), when a run is cancelled (by id,
// tree, owner, run or all; Kernel::cancel(series id) cancels the current run, and a Tree abort rooted
// at the series id reaches the current run and its descendants too), at shutdown, after a
// run that never started (a dependency failed, the attempt quota was used up), and when the next
// run's spawn is refused (QueueFull, QuotaExhausted, SingleFlightBusy...): then the last run's
// TaskInfo::series_end says why. Every run is checked like any spawn, and quotas, cooldowns and
// rate limits apply to each one.
// Refused with InvalidRepeat: every not positive or over ten years, times == 0, and dedup mode
// ReplacePending (a replacement would cancel a run and so end the series it belongs to), and a
// mode cast from any other number.
enum class RepeatMode : std::uint8_t { FixedRate = 0, FixedDelay = 1 };
inline constexpr int repeat_mode_count = 2;

struct Repeat {
  Duration every{0};
  RepeatMode mode = RepeatMode::FixedRate;
  std::optional<std::uint32_t> times;  // runs in all, at least 1; unset: until cancelled
  friend bool operator==(const Repeat&, const Repeat&) = default;
};

struct TaskSpec {
  std::string kind;
  Json payload;  // null when absent
  std::string owner;
  Boxed<std::string> name;  // unique among the owner's live tasks; not a reserved name
  std::string description;
  Boxed<SequenceKey> key;
  Duration run_after{0};             // nothing starts before spawn time + run_after
  std::optional<Duration> timeout;   // per attempt; positive and at most ten years when given
  // Heartbeat timeout (Temporal's activity heartbeats): each attempt must call Kernel::heartbeat
  // within this interval of its start and of its previous heartbeat, else it ends timed out ("heartbeat
  // timeout: no heartbeat within N ms") and is retried like a per-attempt timeout. Positive, at most
  // ten years. When both this and `timeout` have passed, the earlier deadline names the end (a tie: timeout).
  std::optional<Duration> heartbeat;
  RetryPolicy retry;
  Boxed<QuotaSpec> quota;
  Boxed<DedupSpec> dedup;
  Boxed<RateLimit> rate_limit;
  std::vector<TaskId> after;  // dependencies: ids the kernel gave earlier (at most Config::max_dependencies)
  Boxed<Repeat> repeat;  // a series of runs (see Repeat)
  ParentContext parent;
  // The one-byte fields last, side by side (no padding between them; the kernel keeps a TaskSpec
  // per task). Designated initializers name fields in this order.
  Priority priority = Priority::Normal;
  DependencyMode after_mode = DependencyMode::AllSucceeded;  // how `after` gates the task
  bool inbox = false;    // a sub-agent: Kernel::send may deliver messages to it
  bool durable = false;  // every change is emitted as a Persist command
  friend bool operator==(const TaskSpec&, const TaskSpec&) = default;
};

const char* to_string(Priority p);  // "invalid" for a value outside the enum
std::optional<Priority> parse_priority(std::string_view text);
const char* to_string(DedupMode m);
std::optional<DedupMode> parse_dedup_mode(std::string_view text);
const char* to_string(DependencyMode m);
std::optional<DependencyMode> parse_dependency_mode(std::string_view text);
const char* to_string(RepeatMode m);
std::optional<RepeatMode> parse_repeat_mode(std::string_view text);

}  // namespace tasklane
