// Journal record and snapshot bodies: binary v1 written, binary v1 and JSON read (record_codec.hpp).
#include "tasklane/drivers/record_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <utility>

#include "byte_codec.hpp"
#include "tasklane/json.hpp"

namespace tasklane::drivers {
namespace {

using bytes::ByteReader;
using bytes::ByteWriter;

constexpr std::size_t max_json_nesting = 512;  // as the JSON codec: deeper embedded values are refused
constexpr std::size_t min_task_bytes = 8;       // length, fields, id, status, attempt, created, due, kind length

// The field bits of a binary task record, in the order their values follow the fixed part.
enum Field : std::uint64_t {
  durable = 1ull << 0,
  owner = 1ull << 1,
  payload = 1ull << 2,
  run_after = 1ull << 3,
  finished_at = 1ull << 4,
  error = 1ull << 5,
  result = 1ull << 6,
  cancel_requested = 1ull << 7,
  description = 1ull << 8,
  name = 1ull << 9,
  priority = 1ull << 10,
  key = 1ull << 11,
  timeout = 1ull << 12,
  heartbeat = 1ull << 13,
  retry = 1ull << 14,
  quota = 1ull << 15,
  dedup = 1ull << 16,
  rate_limit = 1ull << 17,
  after = 1ull << 18,
  repeat = 1ull << 19,
  parent = 1ull << 20,
  inbox = 1ull << 21,
  waiting_for = 1ull << 22,
  paused = 1ull << 23,
  series = 1ull << 24,
  run = 1ull << 25,
  series_end = 1ull << 26,
  error_unflushed = 1ull << 27,
  undelivered = 1ull << 28,
  known_fields = (1ull << 29) - 1,
};

// ---- encoding ----------------------------------------------------------------------------------

std::uint64_t fields_of(const TaskInfo& t) {
  const TaskSpec& s = t.spec;
  const auto bit = [](bool set, Field f) { return set ? static_cast<std::uint64_t>(f) : 0; };
  return bit(s.durable, durable) | bit(!s.owner.empty(), owner) | bit(!s.payload.is_null(), payload) |
         bit(s.run_after.count() != 0, run_after) | bit(t.finished_at.has_value(), finished_at) |
         bit(t.error.has_value(), error) | bit(!t.result.is_null(), result) | bit(t.cancel_requested, cancel_requested) |
         bit(!s.description.empty(), description) | bit(s.name.has_value(), name) |
         bit(s.priority != Priority::Normal, priority) | bit(s.key.has_value(), key) | bit(s.timeout.has_value(), timeout) |
         bit(s.heartbeat.has_value(), heartbeat) | bit(!(s.retry == RetryPolicy{}), retry) |
         bit(s.quota.has_value(), quota) | bit(s.dedup.has_value(), dedup) | bit(s.rate_limit.has_value(), rate_limit) |
         bit(!s.after.empty() || s.after_mode != DependencyMode::AllSucceeded, after) |
         bit(s.repeat.has_value(), repeat) | bit(!(s.parent == ParentContext{}), parent) |
         bit(s.inbox, inbox) | bit(!t.waiting_for.empty(), waiting_for) | bit(t.paused, paused) |
         bit(t.series.has_value(), series) | bit(t.run != 0, run) | bit(t.series_end.has_value(), series_end) |
         bit(t.error_unflushed, error_unflushed) | bit(t.undelivered && !t.undelivered->empty(), undelivered);
}

void write_ids(ByteWriter& w, const std::vector<TaskId>& ids) {
  w.varint(ids.size());
  for (const TaskId id : ids) w.varint(id.value);
}

void write_task(ByteWriter& w, const TaskInfo& t) {
  const TaskSpec& s = t.spec;
  const std::uint64_t f = fields_of(t);
  w.varint(f);
  w.varint(t.id.value);
  w.u8(static_cast<std::uint8_t>(t.status));
  w.varint(t.attempt);
  w.time(t.created_at);
  w.time(t.due);
  w.str(s.kind);
  if (f & owner) w.str(s.owner);
  if (f & payload) w.json(s.payload);
  if (f & run_after) w.time(s.run_after);
  if (f & finished_at) w.time(*t.finished_at);
  if (f & error) w.str(*t.error);
  if (f & result) w.json(t.result);
  if (f & description) w.str(s.description);
  if (f & name) w.str(*s.name);
  if (f & priority) w.u8(static_cast<std::uint8_t>(s.priority));
  if (f & key) {
    w.str(s.key->agent);
    w.str(s.key->scope);
    w.str(s.key->purpose);
  }
  if (f & timeout) w.time(*s.timeout);
  if (f & heartbeat) w.time(*s.heartbeat);
  if (f & retry) {
    const RetryPolicy& r = s.retry;
    w.varint(r.max_attempts);
    w.time(r.initial_backoff);
    w.f64(r.multiplier);
    w.time(r.max_backoff);
    w.f64(r.jitter);
    w.varint(r.non_retryable_errors.size());
    for (const auto& e : r.non_retryable_errors) w.str(e);
    w.u8(r.requeue_on_restart ? 1 : 0);
  }
  if (f & quota) {
    w.str(s.quota->key);
    w.time(s.quota->cooldown);
    w.varint(s.quota->max_attempts);
    w.u8(s.quota->single_flight ? 1 : 0);
  }
  if (f & dedup) {
    w.str(s.dedup->key);
    w.u8(static_cast<std::uint8_t>(s.dedup->mode));
  }
  if (f & rate_limit) {
    w.str(s.rate_limit->key);
    w.varint(s.rate_limit->starts);
    w.time(s.rate_limit->interval);
  }
  if (f & after) {
    write_ids(w, s.after);
    w.u8(static_cast<std::uint8_t>(s.after_mode));
  }
  if (f & repeat) {
    w.time(s.repeat->every);
    w.u8(static_cast<std::uint8_t>(s.repeat->mode));
    w.varint(s.repeat->times.value_or(0));
  }
  if (f & parent) {
    const ParentContext& p = s.parent;
    w.u8(static_cast<std::uint8_t>((p.task ? 1 : 0) | (p.run ? 2 : 0) | (p.call ? 4 : 0) | (p.agent ? 8 : 0)));
    if (p.task) w.varint(p.task->value);
    if (p.run) w.str(*p.run);
    if (p.call) w.str(*p.call);
    if (p.agent) w.str(*p.agent);
  }
  if (f & waiting_for) write_ids(w, t.waiting_for);
  if (f & series) w.varint(t.series->value);
  if (f & run) w.varint(t.run);
  if (f & series_end) w.str(*t.series_end);
  if (f & undelivered) {
    w.varint(t.undelivered->size());
    for (const InboxMessage& m : *t.undelivered) {
      w.str(m.from);
      w.json(m.message);
    }
  }
}

// ---- decoding ----------------------------------------------------------------------------------

// nlohmann's DOM builder, refusing values nested deeper than max_json_nesting before the (recursive)
// MessagePack reader descends further, and reading a non-finite number as null.
class NestingLimitedDom : public nlohmann::detail::json_sax_dom_parser<Json> {
  using Base = nlohmann::detail::json_sax_dom_parser<Json>;

 public:
  explicit NestingLimitedDom(Json& out) : Base(out, false) {}
  bool start_object(std::size_t n) { return enter() && Base::start_object(n); }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool start_array(std::size_t n) { return enter() && Base::start_array(n); }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }
  // As in the JSON text the journal held before (dump() writes NaN and infinity as null).
  bool number_float(double value, const std::string& text) {
    return std::isfinite(value) ? Base::number_float(value, text) : Base::null();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& ex) {
    if (problem_.empty()) problem_ = ex.what();
    return Base::parse_error(position, token, ex);
  }
  const std::string& problem() const { return problem_; }

 private:
  bool enter() {
    if (++depth_ <= max_json_nesting) return true;
    problem_ = "nested more than " + std::to_string(max_json_nesting) + " levels deep";
    return false;
  }
  std::size_t depth_ = 0;
  std::string problem_;
};

Json read_json(ByteReader& r, const char* what) {
  const std::string_view packed = r.view(what);
  if (r.failed()) return nullptr;
  Json out;
  NestingLimitedDom dom(out);
  bool ok = false;
  std::string thrown;
  try {
    ok = Json::sax_parse(packed.begin(), packed.end(), &dom, nlohmann::json::input_format_t::msgpack, true);
  } catch (const std::exception& e) {
    thrown = e.what();
  }
  if (!thrown.empty() && dom.problem().empty()) {
    r.fail(std::string(what) + ": not a valid MessagePack value (" + thrown + ")");
    return nullptr;
  }
  if (!ok || !dom.problem().empty()) {
    r.fail(std::string(what) + ": not a valid MessagePack value" +
           (dom.problem().empty() ? std::string() : " (" + dom.problem() + ")"));
    return nullptr;
  }
  return out;
}

template <class Enum>
Enum read_enum(ByteReader& r, const char* what, int count) {
  const auto v = r.u8(what);
  if (!r.failed() && v >= count) r.fail(std::string(what) + ": " + std::to_string(v) + " is no known value (0.." + std::to_string(count - 1) + ")");
  return static_cast<Enum>(r.failed() ? 0 : v);
}

std::vector<TaskId> read_ids(ByteReader& r, const char* what) {
  const std::size_t n = r.length(what);
  std::vector<TaskId> ids;
  ids.reserve(n);
  for (std::size_t i = 0; i < n && !r.failed(); ++i) ids.push_back(TaskId{r.varint(what)});
  return ids;
}

void read_task(ByteReader& r, TaskInfo& t) {
  TaskSpec& s = t.spec;
  const std::uint64_t f = r.varint("fields");
  if (!r.failed() && (f & ~static_cast<std::uint64_t>(known_fields)) != 0) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(f & ~static_cast<std::uint64_t>(known_fields)));
    return r.fail(std::string("fields: unknown field bits ") + hex);
  }
  t.id = TaskId{r.varint("id")};
  t.status = read_enum<TaskStatus>(r, "status", 6);
  t.attempt = r.u32("attempt");
  t.created_at = r.time("created_at");
  t.due = r.time("due");
  s.kind = r.str("spec.kind");
  s.durable = (f & durable) != 0;
  t.cancel_requested = (f & cancel_requested) != 0;
  s.inbox = (f & inbox) != 0;
  t.paused = (f & paused) != 0;
  t.error_unflushed = (f & error_unflushed) != 0;
  if (f & owner) s.owner = r.str("spec.owner");
  if (f & payload) s.payload = read_json(r, "spec.payload");
  if (f & run_after) s.run_after = r.time("spec.run_after");
  if (f & finished_at) t.finished_at = r.time("finished_at");
  if (f & error) t.error = r.str("error");
  if (f & result) t.result = read_json(r, "result");
  if (f & description) s.description = r.str("spec.description");
  if (f & name) s.name = r.str("spec.name");
  if (f & priority) s.priority = read_enum<Priority>(r, "spec.priority", priority_count);
  if (f & key) {
    SequenceKey k;
    k.agent = r.str("spec.key.agent");
    k.scope = r.str("spec.key.scope");
    k.purpose = r.str("spec.key.purpose");
    s.key = std::move(k);
  }
  if (f & timeout) s.timeout = r.time("spec.timeout");
  if (f & heartbeat) s.heartbeat = r.time("spec.heartbeat");
  if (f & retry) {
    RetryPolicy& p = s.retry;
    p.max_attempts = r.u32("spec.retry.max_attempts");
    p.initial_backoff = r.time("spec.retry.initial_backoff");
    p.multiplier = r.f64("spec.retry.multiplier");
    p.max_backoff = r.time("spec.retry.max_backoff");
    p.jitter = r.f64("spec.retry.jitter");
    const std::size_t n = r.length("spec.retry.non_retryable_errors");
    p.non_retryable_errors.reserve(n);
    for (std::size_t i = 0; i < n && !r.failed(); ++i) p.non_retryable_errors.push_back(r.str("spec.retry.non_retryable_errors"));
    p.requeue_on_restart = r.flag("spec.retry.requeue_on_restart");
  }
  if (f & quota) {
    QuotaSpec q;
    q.key = r.str("spec.quota.key");
    q.cooldown = r.time("spec.quota.cooldown");
    q.max_attempts = r.u32("spec.quota.max_attempts");
    q.single_flight = r.flag("spec.quota.single_flight");
    s.quota = std::move(q);
  }
  if (f & dedup) {
    DedupSpec d;
    d.key = r.str("spec.dedup.key");
    d.mode = read_enum<DedupMode>(r, "spec.dedup.mode", 2);
    s.dedup = std::move(d);
  }
  if (f & rate_limit) {
    RateLimit l;
    l.key = r.str("spec.rate_limit.key");
    l.starts = r.u32("spec.rate_limit.starts");
    l.interval = r.time("spec.rate_limit.interval");
    s.rate_limit = std::move(l);
  }
  if (f & after) {
    s.after = read_ids(r, "spec.after");
    s.after_mode = read_enum<DependencyMode>(r, "spec.after_mode", 2);
  }
  if (f & repeat) {
    Repeat rep;
    rep.every = r.time("spec.repeat.every");
    rep.mode = read_enum<RepeatMode>(r, "spec.repeat.mode", 2);
    const std::uint32_t times = r.u32("spec.repeat.times");
    if (times != 0) rep.times = times;
    // As the JSON decoder: what spawn refuses never reaches a record, and must not divide by zero at restore.
    if (!r.failed() && (rep.every.count() <= 0 || rep.every > ten_years)) {
      return r.fail("spec.repeat.every: must be positive and at most ten years (got " + std::to_string(rep.every.count()) + ")");
    }
    s.repeat = rep;
  }
  if (f & parent) {
    const auto parts = r.u8("spec.parent");
    if (!r.failed() && parts > 15) return r.fail("spec.parent: unknown part bits " + std::to_string(parts));
    ParentContext& p = s.parent;
    if (parts & 1) p.task = TaskId{r.varint("spec.parent.task")};
    if (parts & 2) p.run = r.str("spec.parent.run");
    if (parts & 4) p.call = r.str("spec.parent.call");
    if (parts & 8) p.agent = r.str("spec.parent.agent");
  }
  if (f & waiting_for) t.waiting_for = read_ids(r, "waiting_for");
  if (f & series) t.series = TaskId{r.varint("series")};
  if (f & run) t.run = r.u32("run");
  if (f & series_end) t.series_end = r.str("series_end");
  if (f & undelivered) {
    const std::size_t n = r.length("undelivered");
    std::vector<InboxMessage> messages;
    messages.reserve(std::min<std::size_t>(n, 256));  // n is bounded by the bytes left, not by memory
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
      InboxMessage m;
      m.from = r.str("undelivered.from");
      m.message = read_json(r, "undelivered.message");
      messages.push_back(std::move(m));
    }
    if (!messages.empty()) t.undelivered = std::move(messages);  // none: as when the bit is clear
  }
}

std::string tag_name(std::uint8_t tag) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", tag);
  return hex;
}

// A body read to its end, or the first error in it ("<kind>: <what> (at byte N)").
template <class T>
Result<T, BodyError> finish(T value, const std::string& problem, ByteReader& r, const char* kind) {
  if (problem.empty()) r.end();
  if (!problem.empty()) {
    return Failure{BodyError{std::string(kind) + ": " + problem + " (at byte " + std::to_string(r.error_at()) + ")", r.error_at()}};
  }
  return value;
}

Result<JournalRecord, BodyError> decode_json_record(std::string_view body) {
  const auto json = parse_json(body);
  if (!json) return Failure{BodyError{json.error().message, 0}};
  const Json& j = json.value();
  if (j.is_object()) {
    const auto it = j.find("ids_reserved_below");
    if (it != j.end()) {
      if (!it->is_number_unsigned()) return Failure{BodyError{"ids_reserved_below must be an unsigned integer", 0}};
      return JournalRecord(IdsReserved{it->get<std::uint64_t>()});
    }
  }
  auto record = task_info_from_json(j);
  if (!record) return Failure{BodyError{record.error().message, 0}};
  return JournalRecord(std::move(record).value());
}

}  // namespace

void append_task_body(std::string& out, const TaskInfo& record) {
  ByteWriter w(out);
  w.u8(body_tag_task_v1);
  write_task(w, record);
}

void append_ids_reserved_body(std::string& out, std::uint64_t below) {
  ByteWriter w(out);
  w.u8(body_tag_ids_reserved_v1);
  w.varint(below);
}

Result<JournalRecord, BodyError> decode_record_body(std::string_view body) {
  if (body.empty()) return Failure{BodyError{"empty record", 0}};
  const auto tag = static_cast<std::uint8_t>(body[0]);
  if (body[0] == body_tag_json) return decode_json_record(body);
  std::string problem;
  ByteReader r(body.substr(1), &problem, 1);
  if (tag == body_tag_task_v1) {
    try {
      JournalRecord record(std::in_place_type<TaskInfo>);
      read_task(r, std::get<TaskInfo>(record));
      return finish(std::move(record), problem, r, "binary task record");
    } catch (const std::exception& e) {  // an allocation failure: refuse the record, never throw
      return Failure{BodyError{std::string("binary task record: cannot decode (") + e.what() + ")", 0}};
    }
  }
  if (tag == body_tag_ids_reserved_v1) {
    const IdsReserved reserved{r.varint("ids_reserved_below")};
    return finish(JournalRecord(reserved), problem, r, "binary id reservation");
  }
  return Failure{BodyError{"unknown record tag " + tag_name(tag) + " (not JSON '{', binary task 0x01 or id reservation 0x02)", 0}};
}

std::string encode_snapshot_body(const Snapshot& snapshot) {
  std::string out;
  ByteWriter w(out);
  w.u8(body_tag_snapshot_v1);
  w.varint(snapshot.next_id);
  w.varint(snapshot.rng_state);
  w.varint(snapshot.tasks.size());
  std::string task;
  for (const auto& t : snapshot.tasks) {
    task.clear();
    ByteWriter tw(task);
    write_task(tw, t);
    w.str(task);
  }
  w.varint(snapshot.quotas.size());
  for (const auto& q : snapshot.quotas) {
    w.str(q.key);
    w.varint(q.attempts);
    w.u8(q.last_start ? 1 : 0);
    if (q.last_start) w.time(*q.last_start);
  }
  w.varint(snapshot.rate_limits.size());
  for (const auto& l : snapshot.rate_limits) {
    w.str(l.key);
    w.varint(l.tokens);
    w.time(l.refilled_at);
  }
  for (const auto* names : {&snapshot.paused_owners, &snapshot.paused_purposes}) {
    w.varint(names->size());
    for (const auto& n : *names) w.str(n);
  }
  return out;
}

Result<Snapshot, BodyError> decode_snapshot_body(std::string_view body) {
  if (body.empty()) return Failure{BodyError{"empty snapshot body", 0}};
  if (body[0] == body_tag_json) {
    const auto json = parse_json(body);
    if (!json) return Failure{BodyError{json.error().message, 0}};
    auto snapshot = snapshot_from_json(json.value());
    if (!snapshot) return Failure{BodyError{snapshot.error().message, 0}};
    return std::move(snapshot).value();
  }
  const auto tag = static_cast<std::uint8_t>(body[0]);
  if (tag != body_tag_snapshot_v1) {
    return Failure{BodyError{"unknown snapshot tag " + tag_name(tag) + " (not JSON '{' or binary snapshot 0x01)", 0}};
  }
  std::string problem;
  ByteReader r(body.substr(1), &problem, 1);
  Snapshot s;
  try {
    s.next_id = r.varint("next_id");
    s.rng_state = r.varint("rng_state");
    const std::size_t tasks = r.length("tasks");
    if (!r.failed() && tasks > r.left() / min_task_bytes) r.fail("tasks: " + std::to_string(tasks) + " tasks cannot fit in the bytes left");
    s.tasks.reserve(r.failed() ? 0 : tasks);
    for (std::size_t i = 0; i < tasks && !r.failed(); ++i) {
      const std::string_view one = r.view("tasks");
      if (r.failed()) break;
      std::string task_problem;
      ByteReader tr(one, &task_problem, static_cast<std::uint64_t>(one.data() - body.data()));
      read_task(tr, s.tasks.emplace_back());
      tr.end();
      if (!task_problem.empty()) {
        return Failure{BodyError{"binary snapshot: tasks[" + std::to_string(i) + "]: " + task_problem + " (at byte " +
                                     std::to_string(tr.error_at()) + ")",
                                 tr.error_at()}};
      }
    }
    const std::size_t quotas = r.length("quotas");
    for (std::size_t i = 0; i < quotas && !r.failed(); ++i) {
      QuotaUsage& q = s.quotas.emplace_back();
      q.key = r.str("quotas.key");
      q.attempts = r.u32("quotas.attempts");
      if (r.flag("quotas.last_start")) q.last_start = r.time("quotas.last_start");
    }
    const std::size_t limits = r.length("rate_limits");
    for (std::size_t i = 0; i < limits && !r.failed(); ++i) {
      RateLimitUsage& l = s.rate_limits.emplace_back();
      l.key = r.str("rate_limits.key");
      l.tokens = r.u32("rate_limits.tokens");
      l.refilled_at = r.time("rate_limits.refilled_at");
    }
    for (auto* names : {&s.paused_owners, &s.paused_purposes}) {
      const char* what = names == &s.paused_owners ? "paused_owners" : "paused_purposes";
      const std::size_t n = r.length(what);
      for (std::size_t i = 0; i < n && !r.failed(); ++i) names->push_back(r.str(what));
    }
  } catch (const std::exception& e) {
    return Failure{BodyError{std::string("binary snapshot: cannot decode (") + e.what() + ")", 0}};
  }
  return finish(std::move(s), problem, r, "binary snapshot");
}

}  // namespace tasklane::drivers
