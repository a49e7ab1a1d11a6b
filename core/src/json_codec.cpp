// The JSON form of every kernel value (see tasklane/json.hpp).
//
// Shape, shared by the journal, traces and the HTTP driver:
//   - Field names are snake_case and match the C++ members, except that times and durations are
//     integers in microseconds named with a `_us` suffix ("run_after_us", "created_at_us").
//   - A TaskId is the string "bg_N"; enums are their lowercase names from names.cpp ("high",
//     "timed_out", "requested"; ShutdownMode is "drain" or "cancel").
//   - std::optional fields are left out when empty; on decode a missing member and `null` both mean
//     empty. Json members (payload, result, message) are always written and decode a missing
//     member as null.
//   - TaskSpec: every field except "kind" may be left out (here and inside key, retry, quota and
//     parent), taking the struct's default, so {"kind":"sleep","owner":"alice","payload":{"ms":5}}
//     is a whole spawn body. Every other struct requires its non-optional, non-Json fields.
//       spec   {"kind","payload","owner","name","description","priority","key","run_after_us",
//               "timeout_us","heartbeat_us","retry","quota","dedup","rate_limit","after":["bg_1"..],
//               "after_mode":"all_succeeded"|"all_finished","repeat","parent","inbox","durable"}
//               (after: left out while empty; after_mode: left out while after is empty and the
//               mode is all_succeeded, the default)
//       A priority or mode outside its enum (a caller's cast from a bad number, which spawn refuses)
//       is written as its number, and a number 0..255 is read back, so that a trace replays the refusal.
//       key    {"agent","scope","purpose"}
//       retry  {"max_attempts","initial_backoff_us","multiplier","max_backoff_us","jitter",
//               "non_retryable_errors":[..],"requeue_on_restart"}
//       quota  {"key","cooldown_us","max_attempts","single_flight"}
//       dedup  {"key","mode":"keep_existing"|"replace_pending"}
//       rate_limit {"key","starts","interval_us"}
//       repeat {"every_us","mode":"fixed_rate"|"fixed_delay","times"}  (times: left out when unset)
//       parent {"task":"bg_1","run","call","agent"}
//       task   {"id","spec","status","attempt","created_at_us","due_us","finished_at_us","error",
//               "result","cancel_requested","waiting_for":["bg_1"..],"paused":true,"series":"bg_1",
//               "run","series_end","error_unflushed":true,"undelivered":[{"from","message"}..]}
//               (waiting_for and undelivered: left out when empty, paused and error_unflushed when
//               false, run when 0)
//       snapshot {"next_id","rng_state","tasks":[task..],"quotas":[{"key","attempts","last_start_us"}..],
//                 "rate_limits":[{"key","tokens","refilled_at_us"}..],"paused_owners":[..],
//                 "paused_purposes":[..]}  (rate_limits and the paused lists: left out when empty)
//   - Variants are objects naming their alternative in snake_case, beside the alternative's fields:
//       event   {"type": "spawn"|"complete"|"tick"|"poke"|"queued_work_answer"|"session_complete"|
//                        "abort"|"flush"|"send"|"shutdown"|"restore"|"heartbeat"|"pause"|"resume", ...}
//       command {"type": "start"|"cancel"|"persist"|"persist_snapshot"|"notify"|"deliver"|
//                        "flush_done"|"stopped"|"run_queued_work", ...}
//       abort selector {"select": "task" (+"id") | "tree" (+"root") | "owner" (+"owner") |
//                                 "run" (+"run") | "all"}
//       pause selector {"select": "owner" (+"owner") | "purpose" (+"purpose")}
//       flush selector {"select": "all" | "scope" (+"scope") | "purpose" (+"purpose") |
//                                 "scope_purpose" (+"scope","purpose")}
//     e.g. {"type":"complete","id":"bg_3","attempt":1,"outcome":{"ok":true,"result":{..},
//           "error":"","error_type":"","retryable":true}}; {"type":"abort","which":{"select":"all"}}.
//   - TimedEvent: {"at_us": N, "event": {...}}.
//   - Doubles (multiplier, jitter) are JSON numbers and round-trip exactly; an integer is accepted.
//     Integer fields accept no fraction: 3.0 is refused where an integer is expected.
//
// Decoding never throws. Every member is type- and range-checked, unknown members are ignored, and
// the first problem becomes a DecodeError "<path>: <what is wrong>", the path running from the
// value's kind ("spec.retry.max_attempts: expected an unsigned integer, got -1",
// "snapshot.tasks[2].status: unknown task status \"done\""). Embedded Json values (payload, result,
// message) nested deeper than max_nesting are refused, because copying a value recurses once per
// level and untrusted input must not be able to overflow the stack.
//
// decode(to_json(x)) == x for every value. Through text, decode(parse_json(to_json(x).dump())) == x
// too, provided the value's doubles are finite (dump() writes NaN and infinity as null) and its
// strings are valid UTF-8 (dump() throws on anything else unless given error_handler_t::replace).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tasklane/json.hpp"

namespace tasklane {
namespace {

constexpr std::size_t max_nesting = 512;  // levels of arrays and objects inside one embedded Json value

// ---- names that names.cpp does not have --------------------------------------------------------

constexpr std::array<const char*, 2> shutdown_mode_names{"drain", "cancel"};

std::optional<ShutdownMode> parse_shutdown_mode(std::string_view text) {
  for (std::size_t i = 0; i < shutdown_mode_names.size(); ++i) {
    if (text == shutdown_mode_names[i]) return static_cast<ShutdownMode>(i);
  }
  return std::nullopt;
}

std::optional<CancelReason> parse_cancel_reason(std::string_view text) {
  for (const auto reason : {CancelReason::Requested, CancelReason::TimedOut, CancelReason::Shutdown}) {
    if (text == to_string(reason)) return reason;
  }
  return std::nullopt;
}

// The alternatives' names, in the order of their variant.
constexpr std::array<const char*, std::variant_size_v<Event>> event_types{
    "spawn", "complete", "tick",  "poke",     "queued_work_answer", "session_complete",
    "abort", "flush",    "send",  "shutdown", "restore",            "heartbeat", "pause", "resume"};
constexpr std::array<const char*, std::variant_size_v<Command>> command_types{
    "start", "cancel", "persist", "persist_snapshot", "notify", "deliver", "flush_done", "stopped", "run_queued_work"};
constexpr std::array<const char*, std::variant_size_v<AbortSelector>> abort_selects{"task", "tree", "owner", "run",
                                                                                    "all"};
constexpr std::array<const char*, std::variant_size_v<FlushSelector>> flush_selects{"all", "scope", "purpose",
                                                                                    "scope_purpose"};
constexpr std::array<const char*, std::variant_size_v<PauseSelector>> pause_selects{"owner", "purpose"};

template <std::size_t N>
constexpr bool all_named(const std::array<const char*, N>& names) {
  return std::none_of(names.begin(), names.end(), [](const char* name) { return name == nullptr; });
}
static_assert(all_named(event_types) && all_named(command_types) && all_named(abort_selects) &&
              all_named(flush_selects) && all_named(pause_selects));

// ---- encoding ----------------------------------------------------------------------------------

void put(Json& j, const char* key, const std::optional<std::string>& value) {
  if (value) j[key] = *value;
}
void put(Json& j, const char* key, const Boxed<std::string>& value) {
  if (value) j[key] = *value;
}
void put(Json& j, const char* key, const std::optional<Duration>& value) {
  if (value) j[key] = value->count();
}
void put(Json& j, const char* key, const std::optional<TaskId>& value) {
  if (value) j[key] = to_string(*value);
}

Json with_tag(Json fields, const char* tag, const char* name) {
  fields[tag] = name;
  return fields;
}

Json write(const SequenceKey& key) {
  return {{"agent", key.agent}, {"scope", key.scope}, {"purpose", key.purpose}};
}

Json write(const RetryPolicy& retry) {
  return {{"max_attempts", retry.max_attempts},
          {"initial_backoff_us", retry.initial_backoff.count()},
          {"multiplier", retry.multiplier},
          {"max_backoff_us", retry.max_backoff.count()},
          {"jitter", retry.jitter},
          {"non_retryable_errors", retry.non_retryable_errors},
          {"requeue_on_restart", retry.requeue_on_restart}};
}

// The enums a caller sets, by name; a value outside its enum (a caller's cast from a bad number:
// a spawn the kernel refuses, recorded in a trace before it is checked) as its number, so that a
// replay feeds the kernel the same value.
template <class Enum>
Json name_or_number(Enum value, std::size_t count, const char* name) {
  if (static_cast<std::size_t>(value) < count) return name;
  return static_cast<unsigned>(value);
}
Json write(Priority p) { return name_or_number(p, priority_count, to_string(p)); }
Json write(DedupMode m) { return name_or_number(m, dedup_mode_count, to_string(m)); }
Json write(DependencyMode m) { return name_or_number(m, dependency_mode_count, to_string(m)); }
Json write(RepeatMode m) { return name_or_number(m, repeat_mode_count, to_string(m)); }
Json write(ShutdownMode m) {
  const auto i = static_cast<std::size_t>(m);
  return name_or_number(m, shutdown_mode_names.size(), i < shutdown_mode_names.size() ? shutdown_mode_names[i] : "");
}

Json write(const QuotaSpec& quota) {
  return {{"key", quota.key},
          {"cooldown_us", quota.cooldown.count()},
          {"max_attempts", quota.max_attempts},
          {"single_flight", quota.single_flight}};
}

Json write(const DedupSpec& dedup) { return {{"key", dedup.key}, {"mode", write(dedup.mode)}}; }

Json write(const RateLimit& limit) {
  return {{"key", limit.key}, {"starts", limit.starts}, {"interval_us", limit.interval.count()}};
}

Json write(const Repeat& repeat) {
  Json j = {{"every_us", repeat.every.count()}, {"mode", write(repeat.mode)}};
  if (repeat.times) j["times"] = *repeat.times;
  return j;
}

Json write(const ParentContext& parent) {
  Json j = Json::object();
  put(j, "task", parent.task);
  put(j, "run", parent.run);
  put(j, "call", parent.call);
  put(j, "agent", parent.agent);
  return j;
}

Json ids(const std::vector<TaskId>& list) {
  Json j = Json::array();
  for (const TaskId id : list) j.push_back(to_string(id));
  return j;
}

Json write(const TaskSpec& spec) {
  Json j = {{"kind", spec.kind},
            {"payload", spec.payload},
            {"owner", spec.owner},
            {"description", spec.description},
            {"priority", write(spec.priority)},
            {"run_after_us", spec.run_after.count()},
            {"retry", write(spec.retry)},
            {"parent", write(spec.parent)},
            {"inbox", spec.inbox},
            {"durable", spec.durable}};
  put(j, "name", spec.name);
  if (spec.key) j["key"] = write(*spec.key);
  put(j, "timeout_us", spec.timeout);
  put(j, "heartbeat_us", spec.heartbeat);
  if (spec.quota) j["quota"] = write(*spec.quota);
  if (spec.dedup) j["dedup"] = write(*spec.dedup);
  if (spec.rate_limit) j["rate_limit"] = write(*spec.rate_limit);
  if (!spec.after.empty()) j["after"] = ids(spec.after);
  // Also without `after` when it is not the default: a spec (and a snapshot) round-trips, and one
  // outside the enum makes a replay's spawn refused again.
  if (!spec.after.empty() || spec.after_mode != DependencyMode::AllSucceeded) j["after_mode"] = write(spec.after_mode);
  if (spec.repeat) j["repeat"] = write(*spec.repeat);
  return j;
}

Json write(const TaskInfo& task) {
  Json j = {{"id", to_string(task.id)},
            {"spec", write(task.spec)},
            {"status", to_string(task.status)},
            {"attempt", task.attempt},
            {"created_at_us", task.created_at.count()},
            {"due_us", task.due.count()},
            {"result", task.result},
            {"cancel_requested", task.cancel_requested}};
  put(j, "finished_at_us", task.finished_at);
  put(j, "error", task.error);
  if (!task.waiting_for.empty()) j["waiting_for"] = ids(task.waiting_for);
  if (task.paused) j["paused"] = true;
  put(j, "series", task.series);
  if (task.run != 0) j["run"] = task.run;
  put(j, "series_end", task.series_end);
  if (task.error_unflushed) j["error_unflushed"] = true;
  if (task.undelivered && !task.undelivered->empty()) {
    Json messages = Json::array();
    for (const InboxMessage& m : *task.undelivered) messages.push_back(Json{{"from", m.from}, {"message", m.message}});
    j["undelivered"] = std::move(messages);
  }
  return j;
}

Json write(const QuotaUsage& usage) {
  Json j = {{"key", usage.key}, {"attempts", usage.attempts}};
  put(j, "last_start_us", usage.last_start);
  return j;
}

Json write(const RateLimitUsage& usage) {
  return {{"key", usage.key}, {"tokens", usage.tokens}, {"refilled_at_us", usage.refilled_at.count()}};
}

Json write(const Snapshot& snapshot) {
  Json tasks = Json::array();
  for (const auto& task : snapshot.tasks) tasks.push_back(write(task));
  Json quotas = Json::array();
  for (const auto& usage : snapshot.quotas) quotas.push_back(write(usage));
  Json j = {{"next_id", snapshot.next_id},
            {"rng_state", snapshot.rng_state},
            {"tasks", std::move(tasks)},
            {"quotas", std::move(quotas)}};
  // Left out while no bucket exists, so a snapshot without rate limits reads as it always did.
  if (!snapshot.rate_limits.empty()) {
    Json rate_limits = Json::array();
    for (const auto& usage : snapshot.rate_limits) rate_limits.push_back(write(usage));
    j["rate_limits"] = std::move(rate_limits);
  }
  if (!snapshot.paused_owners.empty()) j["paused_owners"] = snapshot.paused_owners;
  if (!snapshot.paused_purposes.empty()) j["paused_purposes"] = snapshot.paused_purposes;
  return j;
}

Json write(const Outcome& outcome) {
  return {{"ok", outcome.ok},
          {"result", outcome.result},
          {"error", outcome.error},
          {"error_type", outcome.error_type},
          {"retryable", outcome.retryable}};
}

Json write(const abort_selector::Task& s) { return {{"id", to_string(s.id)}}; }
Json write(const abort_selector::Tree& s) { return {{"root", to_string(s.root)}}; }
Json write(const abort_selector::Owner& s) { return {{"owner", s.owner}}; }
Json write(const abort_selector::Run& s) { return {{"run", s.run}}; }
Json write(const abort_selector::All&) { return Json::object(); }
Json write(const AbortSelector& which) {
  return with_tag(std::visit([](const auto& s) { return write(s); }, which), "select", abort_selects[which.index()]);
}

Json write(const flush_selector::All&) { return Json::object(); }
Json write(const flush_selector::Scope& s) { return {{"scope", s.scope}}; }
Json write(const flush_selector::Purpose& s) { return {{"purpose", s.purpose}}; }
Json write(const flush_selector::ScopePurpose& s) { return {{"scope", s.scope}, {"purpose", s.purpose}}; }
Json write(const FlushSelector& which) {
  return with_tag(std::visit([](const auto& s) { return write(s); }, which), "select", flush_selects[which.index()]);
}

Json write(const pause_selector::Owner& s) { return {{"owner", s.owner}}; }
Json write(const pause_selector::Purpose& s) { return {{"purpose", s.purpose}}; }
Json write(const PauseSelector& which) {
  return with_tag(std::visit([](const auto& s) { return write(s); }, which), "select", pause_selects[which.index()]);
}

Json write(const event::Spawn& e) { return {{"spec", write(e.spec)}}; }
Json write(const event::Complete& e) {
  return {{"id", to_string(e.id)}, {"attempt", e.attempt}, {"outcome", write(e.outcome)}};
}
Json write(const event::Tick&) { return Json::object(); }
Json write(const event::Poke& e) {
  Json j = {{"reason", e.reason}};
  put(j, "session", e.session);
  return j;
}
Json write(const event::QueuedWorkAnswer& e) {
  Json j = {{"request", e.request}};
  put(j, "submitted", e.submitted);
  return j;
}
Json write(const event::SessionComplete& e) { return {{"session", e.session}, {"reason", e.reason}}; }
Json write(const event::Abort& e) { return {{"which", write(e.which)}}; }
Json write(const event::Flush& e) { return {{"which", write(e.which)}}; }
Json write(const event::Send& e) { return {{"to", to_string(e.to)}, {"from", e.from}, {"message", e.message}}; }
Json write(const event::Shutdown& e) { return {{"mode", write(e.mode)}}; }
Json write(const event::Restore& e) { return {{"snapshot", write(e.snapshot)}}; }
Json write(const event::Heartbeat& e) { return {{"id", to_string(e.id)}, {"attempt", e.attempt}}; }
Json write(const event::Pause& e) { return {{"which", write(e.which)}}; }
Json write(const event::Resume& e) { return {{"which", write(e.which)}}; }
Json write(const Event& event) {
  return with_tag(std::visit([](const auto& e) { return write(e); }, event), "type", event_types[event.index()]);
}

Json write(const command::Start& c) {
  Json j = {{"id", to_string(c.id)}, {"attempt", c.attempt}, {"kind", c.kind}, {"payload", c.payload}, {"inbox", c.inbox}};
  put(j, "deadline_us", c.deadline);
  return j;
}
Json write(const command::Cancel& c) {
  return {{"id", to_string(c.id)}, {"attempt", c.attempt}, {"reason", to_string(c.reason)}};
}
Json write(const command::Persist& c) { return {{"record", write(c.record)}}; }
Json write(const command::PersistSnapshot& c) { return {{"snapshot", write(c.snapshot)}}; }
Json write(const command::Notify& c) {
  Json j = {{"owner", c.owner}, {"id", to_string(c.id)}, {"status", to_string(c.status)}, {"result", c.result}};
  put(j, "error", c.error);
  put(j, "next_run", c.next_run);
  return j;
}
Json write(const command::Deliver& c) {
  return {{"to", to_string(c.to)}, {"attempt", c.attempt}, {"from", c.from}, {"message", c.message}};
}
Json write(const command::FlushDone& c) {
  Json j = {{"flush", c.flush}};
  put(j, "error", c.error);
  return j;
}
Json write(const command::Stopped&) { return Json::object(); }
Json write(const command::RunQueuedWork& c) {
  Json j = {{"request", c.request}, {"reason", c.reason}, {"trace_idle", c.trace_idle}};
  put(j, "session", c.session);
  return j;
}
Json write(const Command& command) {
  return with_tag(std::visit([](const auto& c) { return write(c); }, command), "type",
                  command_types[command.index()]);
}

// ---- decoding ----------------------------------------------------------------------------------

// Shows a string from the input inside a message: quoted, escaped, and cut short when long.
std::string quote(std::string_view text) {
  constexpr std::size_t shown = 64;
  std::string quoted = Json(std::string(text.substr(0, shown))).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > shown) quoted += "...";
  return quoted;
}

bool nested_deeper_than(const Json& root, std::size_t limit) {
  std::vector<std::pair<const Json*, std::size_t>> stack{{&root, 1}};
  while (!stack.empty()) {
    const auto [value, depth] = stack.back();
    stack.pop_back();
    if (!value->is_structured()) continue;
    if (depth > limit) return true;
    for (const auto& child : *value) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

// One JSON value being decoded, with the path that names it in messages ("spec.retry.jitter").
//
// The first error wins: it is kept in a string the top-level decode owns, and every later read does
// nothing. So a decoder reads field after field and looks for an error once, at the end.
//
// The path is not built while all is well: a Reader keeps only its parent and the member name (or
// array index) that leads to it, and fail() walks that chain. Readers live on the stack of the
// decode that walks down the value, so a child never outlives its parent.
class Reader {
 public:
  Reader(const Json* value, const char* root, std::string* error) : value_(value), key_(root), error_(error) {}

  const Json& json() const {
    static const Json null_value;
    return value_ != nullptr ? *value_ : null_value;
  }
  bool absent() const { return value_ == nullptr || value_->is_null(); }
  bool failed() const { return !error_->empty(); }

  void fail(const std::string& what) const {
    if (!failed()) *error_ = path() + ": " + what;
  }
  // "expected a string, got 5", "expected an object, got array"
  void fail_type(const char* expected) const {
    const Json& j = json();
    const bool show_value = j.is_number() || j.is_boolean() || j.is_null();
    fail(std::string("expected ") + expected + ", got " + (show_value ? j.dump() : std::string(j.type_name())));
  }

  // True when the value is an object; an error otherwise.
  bool object() const {
    if (failed()) return false;
    if (!json().is_object()) fail_type("an object");
    return !failed();
  }

  // A member of this object; absent when there is no such member (or this is no object).
  Reader field(const char* key) const {
    const Json* member = nullptr;
    if (json().is_object()) {
      const auto it = json().find(std::string_view(key));  // a view: no strlen per map node compared
      if (it != json().end()) member = &*it;
    }
    return Reader(member, this, key, 0);
  }
  Reader item(std::size_t index) const { return Reader(&json().at(index), this, nullptr, index); }

  // A member that must be there and not null.
  template <class T>
  void required(const char* key, T& out) const {
    if (failed()) return;
    const Reader member = field(key);
    if (member.absent()) return member.fail("missing");
    read(member, out);
  }
  // A member that may be missing or null: then `out` is left as it is (its default).
  template <class T>
  void defaulted(const char* key, T& out) const {
    if (failed()) return;
    const Reader member = field(key);
    if (!member.absent()) read(member, out);
  }
  // A member that may be missing or null: then `out` is nullopt (a std::optional or a Boxed).
  template <class Optional>
  void optional(const char* key, Optional& out) const {
    using T = typename Optional::value_type;
    if (failed()) return;
    const Reader member = field(key);
    if (member.absent()) {
      out.reset();
      return;
    }
    T value{};
    read(member, value);
    if (!failed()) out = std::move(value);
  }

 private:
  Reader(const Json* value, const Reader* parent, const char* key, std::size_t index)
      : value_(value), parent_(parent), key_(key), index_(index), error_(parent->error_) {}

  // "task.spec.retry.jitter", "snapshot.tasks[3].id": built only for an error message.
  std::string path() const {
    if (parent_ == nullptr) return key_;
    std::string out = parent_->path();
    if (key_ != nullptr) return out + "." + key_;
    return out + "[" + std::to_string(index_) + "]";
  }

  const Json* value_;                // nullptr: the member is missing
  const Reader* parent_ = nullptr;   // nullptr: the root
  const char* key_ = nullptr;        // the member name (the root's name at the root); nullptr: an array item
  std::size_t index_ = 0;            // the array index when key_ is nullptr
  std::string* error_;               // empty while all is well
};

// -- scalars. Each reads a value that is there (possibly null) and reports a wrong one.

void read(const Reader& r, std::string& out) {
  if (!r.json().is_string()) return r.fail_type("a string");
  out = r.json().get_ref<const std::string&>();
}

void read(const Reader& r, bool& out) {
  if (!r.json().is_boolean()) return r.fail_type("a boolean");
  out = r.json().get<bool>();
}

void read(const Reader& r, double& out) {
  if (!r.json().is_number()) return r.fail_type("a number");
  out = r.json().get<double>();
}

void read(const Reader& r, std::uint64_t& out) {
  const Json& j = r.json();
  if (j.is_number_unsigned()) {
    out = j.get<std::uint64_t>();
  } else if (j.is_number_integer()) {  // a negative number, or a value built in C++ from a signed int
    const auto value = j.get<std::int64_t>();
    if (value < 0) return r.fail("expected an unsigned integer, got " + std::to_string(value));
    out = static_cast<std::uint64_t>(value);
  } else {
    r.fail_type("an unsigned integer");
  }
}

void read(const Reader& r, std::uint32_t& out) {
  std::uint64_t wide = 0;
  read(r, wide);
  if (r.failed()) return;
  constexpr auto max = std::numeric_limits<std::uint32_t>::max();
  if (wide > max) return r.fail(std::to_string(wide) + " is out of range (at most " + std::to_string(max) + ")");
  out = static_cast<std::uint32_t>(wide);
}

// Times and durations: signed microseconds.
void read(const Reader& r, Duration& out) {
  const Json& j = r.json();
  if (!j.is_number_integer()) return r.fail_type("an integer (microseconds)");
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (j.is_number_unsigned() && j.get<std::uint64_t>() > max) {
    return r.fail(std::to_string(j.get<std::uint64_t>()) + " is out of range (at most " + std::to_string(max) + ")");
  }
  out = Duration{j.get<std::int64_t>()};
}

// A string member read in place, without a copy; nullptr (and an error) when it is no string.
const std::string* read_text(const Reader& r) {
  if (!r.json().is_string()) {
    r.fail_type("a string");
    return nullptr;
  }
  return &r.json().get_ref<const std::string&>();
}

void read(const Reader& r, TaskId& out) {
  const std::string* chars = read_text(r);
  if (chars == nullptr) return;
  const std::string& text = *chars;
  const auto id = parse_task_id(text);
  if (!id) return r.fail("expected a task id like \"bg_7\", got " + quote(text));
  out = *id;
}

template <class Enum>
void read_enum(const Reader& r, Enum& out, std::optional<Enum> (*parse)(std::string_view), const char* what) {
  const std::string* chars = read_text(r);
  if (chars == nullptr) return;
  const std::string& text = *chars;
  const auto value = parse(text);
  if (!value) return r.fail(std::string("unknown ") + what + " " + quote(text));
  out = *value;
}
// An enum a caller sets: by name, or a byte outside the enum as name_or_number wrote it.
template <class Enum>
void read_name_or_number(const Reader& r, Enum& out, std::optional<Enum> (*parse)(std::string_view), const char* what) {
  if (!r.json().is_number_integer()) return read_enum(r, out, parse, what);
  const auto value = r.json().get<std::int64_t>();
  if (value < 0 || value > 255) return r.fail(std::to_string(value) + " is out of range for a " + what);
  out = static_cast<Enum>(value);
}
void read(const Reader& r, Priority& out) { read_name_or_number(r, out, parse_priority, "priority"); }
void read(const Reader& r, DedupMode& out) { read_name_or_number(r, out, parse_dedup_mode, "dedup mode"); }
void read(const Reader& r, DependencyMode& out) { read_name_or_number(r, out, parse_dependency_mode, "dependency mode"); }
void read(const Reader& r, RepeatMode& out) { read_name_or_number(r, out, parse_repeat_mode, "repeat mode"); }
void read(const Reader& r, TaskStatus& out) { read_enum(r, out, parse_task_status, "task status"); }
void read(const Reader& r, CancelReason& out) { read_enum(r, out, parse_cancel_reason, "cancel reason"); }
void read(const Reader& r, ShutdownMode& out) { read_name_or_number(r, out, parse_shutdown_mode, "shutdown mode"); }

// Payloads, results and messages: any JSON, but not nested without end.
void read(const Reader& r, Json& out) {
  if (r.json().is_structured() && nested_deeper_than(r.json(), max_nesting)) {  // a scalar needs no walk
    return r.fail("nested more than " + std::to_string(max_nesting) + " levels deep");
  }
  out = r.json();
}

template <class T>
void read(const Reader& r, std::vector<T>& out) {
  if (!r.json().is_array()) return r.fail_type("an array");
  out.clear();
  out.reserve(r.json().size());
  for (std::size_t i = 0; i < r.json().size(); ++i) {
    T item{};
    read(r.item(i), item);
    if (r.failed()) return;
    out.push_back(std::move(item));
  }
}

// -- the spec: everything but the kind may be left out.

void read(const Reader& r, SequenceKey& out) {
  if (!r.object()) return;
  r.defaulted("agent", out.agent);
  r.defaulted("scope", out.scope);
  r.defaulted("purpose", out.purpose);
}

void read(const Reader& r, RetryPolicy& out) {
  if (!r.object()) return;
  r.defaulted("max_attempts", out.max_attempts);
  r.defaulted("initial_backoff_us", out.initial_backoff);
  r.defaulted("multiplier", out.multiplier);
  r.defaulted("max_backoff_us", out.max_backoff);
  r.defaulted("jitter", out.jitter);
  r.defaulted("non_retryable_errors", out.non_retryable_errors);
  r.defaulted("requeue_on_restart", out.requeue_on_restart);
}

void read(const Reader& r, QuotaSpec& out) {
  if (!r.object()) return;
  r.defaulted("key", out.key);
  r.defaulted("cooldown_us", out.cooldown);
  r.defaulted("max_attempts", out.max_attempts);
  r.defaulted("single_flight", out.single_flight);
}

void read(const Reader& r, DedupSpec& out) {
  if (!r.object()) return;
  r.defaulted("key", out.key);
  r.defaulted("mode", out.mode);
}

void read(const Reader& r, RateLimit& out) {
  if (!r.object()) return;
  r.defaulted("key", out.key);
  r.defaulted("starts", out.starts);
  r.defaulted("interval_us", out.interval);
}

void read(const Reader& r, Repeat& out) {
  if (!r.object()) return;
  r.required("every_us", out.every);
  r.defaulted("mode", out.mode);
  r.optional("times", out.times);
  if (r.failed()) return;
  // What spawn refuses never reaches a record: a damaged one must not divide by zero at restore.
  if (out.every.count() <= 0 || out.every > ten_years) {
    return r.field("every_us").fail("must be positive and at most ten years (got " + std::to_string(out.every.count()) + ")");
  }
  if (out.times && *out.times == 0) return r.field("times").fail("must be at least 1");
}

void read(const Reader& r, ParentContext& out) {
  if (!r.object()) return;
  r.optional("task", out.task);
  r.optional("run", out.run);
  r.optional("call", out.call);
  r.optional("agent", out.agent);
}

void read(const Reader& r, TaskSpec& out) {
  if (!r.object()) return;
  r.required("kind", out.kind);
  r.defaulted("payload", out.payload);
  r.defaulted("owner", out.owner);
  r.optional("name", out.name);
  r.defaulted("description", out.description);
  r.defaulted("priority", out.priority);
  r.optional("key", out.key);
  r.defaulted("run_after_us", out.run_after);
  r.optional("timeout_us", out.timeout);
  r.optional("heartbeat_us", out.heartbeat);
  r.defaulted("retry", out.retry);
  r.optional("quota", out.quota);
  r.optional("dedup", out.dedup);
  r.optional("rate_limit", out.rate_limit);
  r.defaulted("after", out.after);
  r.defaulted("after_mode", out.after_mode);
  r.optional("repeat", out.repeat);
  r.defaulted("parent", out.parent);
  r.defaulted("inbox", out.inbox);
  r.defaulted("durable", out.durable);
}

// -- records and snapshots: strict, they come from the journal.

void read(const Reader& r, InboxMessage& out) {
  if (!r.object()) return;
  r.required("from", out.from);
  r.defaulted("message", out.message);
}

void read(const Reader& r, TaskInfo& out) {
  if (!r.object()) return;
  r.required("id", out.id);
  r.required("spec", out.spec);
  r.required("status", out.status);
  r.required("attempt", out.attempt);
  r.required("created_at_us", out.created_at);
  r.required("due_us", out.due);
  r.optional("finished_at_us", out.finished_at);
  r.optional("error", out.error);
  r.defaulted("result", out.result);
  r.required("cancel_requested", out.cancel_requested);
  r.defaulted("waiting_for", out.waiting_for);  // journals written before dependencies have none
  r.defaulted("paused", out.paused);
  r.optional("series", out.series);  // journals written before repeating tasks have none
  r.defaulted("run", out.run);
  r.optional("series_end", out.series_end);
  r.defaulted("error_unflushed", out.error_unflushed);  // journals written before it have none
  r.optional("undelivered", out.undelivered);            // journals written before it have none
  if (out.undelivered && out.undelivered->empty()) out.undelivered.reset();  // [] reads as none, as written
}

void read(const Reader& r, QuotaUsage& out) {
  if (!r.object()) return;
  r.required("key", out.key);
  r.required("attempts", out.attempts);
  r.optional("last_start_us", out.last_start);
}

void read(const Reader& r, RateLimitUsage& out) {
  if (!r.object()) return;
  r.required("key", out.key);
  r.required("tokens", out.tokens);
  r.required("refilled_at_us", out.refilled_at);
}

void read(const Reader& r, Snapshot& out) {
  if (!r.object()) return;
  r.required("next_id", out.next_id);
  r.required("rng_state", out.rng_state);
  r.required("tasks", out.tasks);
  r.required("quotas", out.quotas);
  r.defaulted("rate_limits", out.rate_limits);
  r.defaulted("paused_owners", out.paused_owners);  // journals written before pause rules have none
  r.defaulted("paused_purposes", out.paused_purposes);  // journals written before pause rules have none
}

void read(const Reader& r, Outcome& out) {
  if (!r.object()) return;
  r.required("ok", out.ok);
  r.defaulted("result", out.result);
  r.required("error", out.error);
  r.required("error_type", out.error_type);
  r.required("retryable", out.retryable);
}

// -- variants: the tag member picks the alternative, whose fields sit beside it.

template <class Variant, std::size_t... I>
void read_alternative(const Reader& r, Variant& out, std::size_t index, std::index_sequence<I...>) {
  ((index == I ? read(r, out.template emplace<I>()) : void()), ...);
}

template <class Variant, std::size_t N>
void read_variant(const Reader& r, Variant& out, const char* tag, const std::array<const char*, N>& names,
                  const char* what) {
  static_assert(N == std::variant_size_v<Variant>);
  if (!r.object()) return;
  std::string name;
  r.required(tag, name);
  if (r.failed()) return;
  const auto found = std::find_if(names.begin(), names.end(), [&](const char* n) { return name == n; });
  if (found == names.end()) return r.field(tag).fail(std::string("unknown ") + what + " " + quote(name));
  read_alternative(r, out, static_cast<std::size_t>(found - names.begin()), std::make_index_sequence<N>{});
}

void read(const Reader& r, abort_selector::Task& out) { r.required("id", out.id); }
void read(const Reader& r, abort_selector::Tree& out) { r.required("root", out.root); }
void read(const Reader& r, abort_selector::Owner& out) { r.required("owner", out.owner); }
void read(const Reader& r, abort_selector::Run& out) { r.required("run", out.run); }
void read(const Reader&, abort_selector::All&) {}
void read(const Reader& r, AbortSelector& out) { read_variant(r, out, "select", abort_selects, "abort selector"); }

void read(const Reader&, flush_selector::All&) {}
void read(const Reader& r, flush_selector::Scope& out) { r.required("scope", out.scope); }
void read(const Reader& r, flush_selector::Purpose& out) { r.required("purpose", out.purpose); }
void read(const Reader& r, flush_selector::ScopePurpose& out) {
  r.required("scope", out.scope);
  r.required("purpose", out.purpose);
}
void read(const Reader& r, FlushSelector& out) { read_variant(r, out, "select", flush_selects, "flush selector"); }

void read(const Reader& r, pause_selector::Owner& out) { r.required("owner", out.owner); }
void read(const Reader& r, pause_selector::Purpose& out) { r.required("purpose", out.purpose); }
void read(const Reader& r, PauseSelector& out) { read_variant(r, out, "select", pause_selects, "pause selector"); }

void read(const Reader& r, event::Spawn& out) { r.required("spec", out.spec); }
void read(const Reader& r, event::Complete& out) {
  r.required("id", out.id);
  r.required("attempt", out.attempt);
  r.required("outcome", out.outcome);
}
void read(const Reader&, event::Tick&) {}
void read(const Reader& r, event::Poke& out) {
  r.optional("session", out.session);
  r.required("reason", out.reason);
}
void read(const Reader& r, event::QueuedWorkAnswer& out) {
  r.required("request", out.request);
  r.optional("submitted", out.submitted);
}
void read(const Reader& r, event::SessionComplete& out) {
  r.required("session", out.session);
  r.required("reason", out.reason);
}
void read(const Reader& r, event::Abort& out) { r.required("which", out.which); }
void read(const Reader& r, event::Flush& out) { r.required("which", out.which); }
void read(const Reader& r, event::Send& out) {
  r.required("to", out.to);
  r.required("from", out.from);
  r.defaulted("message", out.message);
}
void read(const Reader& r, event::Shutdown& out) { r.required("mode", out.mode); }
void read(const Reader& r, event::Restore& out) { r.required("snapshot", out.snapshot); }
void read(const Reader& r, event::Heartbeat& out) {
  r.required("id", out.id);
  r.required("attempt", out.attempt);
}
void read(const Reader& r, event::Pause& out) { r.required("which", out.which); }
void read(const Reader& r, event::Resume& out) { r.required("which", out.which); }
void read(const Reader& r, Event& out) { read_variant(r, out, "type", event_types, "event type"); }

void read(const Reader& r, TimedEvent& out) {
  if (!r.object()) return;
  r.required("at_us", out.at);
  r.required("event", out.event);
}

void read(const Reader& r, command::Start& out) {
  r.required("id", out.id);
  r.required("attempt", out.attempt);
  r.required("kind", out.kind);
  r.defaulted("payload", out.payload);
  r.optional("deadline_us", out.deadline);
  r.required("inbox", out.inbox);
}
void read(const Reader& r, command::Cancel& out) {
  r.required("id", out.id);
  r.required("attempt", out.attempt);
  r.required("reason", out.reason);
}
void read(const Reader& r, command::Persist& out) { r.required("record", out.record); }
void read(const Reader& r, command::PersistSnapshot& out) { r.required("snapshot", out.snapshot); }
void read(const Reader& r, command::Notify& out) {
  r.required("owner", out.owner);
  r.required("id", out.id);
  r.required("status", out.status);
  r.defaulted("result", out.result);
  r.optional("error", out.error);
  r.optional("next_run", out.next_run);
}
void read(const Reader& r, command::Deliver& out) {
  r.required("to", out.to);
  r.required("attempt", out.attempt);
  r.required("from", out.from);
  r.defaulted("message", out.message);
}
void read(const Reader& r, command::FlushDone& out) {
  r.required("flush", out.flush);
  r.optional("error", out.error);
}
void read(const Reader&, command::Stopped&) {}
void read(const Reader& r, command::RunQueuedWork& out) {
  r.required("request", out.request);
  r.optional("session", out.session);
  r.required("reason", out.reason);
  r.required("trace_idle", out.trace_idle);
}
void read(const Reader& r, Command& out) { read_variant(r, out, "type", command_types, "command type"); }

// Runs a decoder on untrusted input. Reader never throws by design; the catch is the last guard
// (an allocation failure, or a nlohmann precondition missed above) that keeps the promise anyway.
template <class T>
Result<T, DecodeError> decode(const Json& j, const char* root) {
  std::string error;
  T value{};
  try {
    read(Reader(&j, root, &error), value);
  } catch (const std::exception& e) {
    error = std::string(root) + ": cannot decode (" + e.what() + ")";
  } catch (...) {
    error = std::string(root) + ": cannot decode";
  }
  if (!error.empty()) return Failure{DecodeError{std::move(error)}};
  return value;
}

}  // namespace

Json to_json(const TaskSpec& spec) { return write(spec); }
Json to_json(const TaskInfo& record) { return write(record); }
Json to_json(const Snapshot& snapshot) { return write(snapshot); }
Json to_json(const Event& event) { return write(event); }
Json to_json(const TimedEvent& event) { return {{"at_us", event.at.count()}, {"event", write(event.event)}}; }
Json to_json(const Command& command) { return write(command); }

Result<TaskSpec, DecodeError> task_spec_from_json(const Json& j) { return decode<TaskSpec>(j, "spec"); }
Result<TaskInfo, DecodeError> task_info_from_json(const Json& j) { return decode<TaskInfo>(j, "task"); }
Result<Snapshot, DecodeError> snapshot_from_json(const Json& j) { return decode<Snapshot>(j, "snapshot"); }
Result<Event, DecodeError> event_from_json(const Json& j) { return decode<Event>(j, "event"); }
Result<TimedEvent, DecodeError> timed_event_from_json(const Json& j) { return decode<TimedEvent>(j, "timed_event"); }
Result<Command, DecodeError> command_from_json(const Json& j) { return decode<Command>(j, "command"); }

Result<Json, DecodeError> parse_json(std::string_view text) {
  try {
    Json j = Json::parse(text.data(), text.data() + text.size(), nullptr, false);
    if (j.is_discarded()) return Failure{DecodeError{"text is not valid JSON"}};
    return j;
  } catch (...) {  // parse itself does not throw with allow_exceptions off; an allocation might
    return Failure{DecodeError{"text could not be parsed"}};
  }
}

}  // namespace tasklane
