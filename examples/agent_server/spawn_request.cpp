#include "spawn_request.hpp"

#include <cstdint>
#include <limits>

#include "tasklane/task_info.hpp"

namespace agent_server {
namespace {

using tasklane::Json;

// Reads optional fields of one object, remembering the first error.
class Fields {
 public:
  Fields(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  template <class F>
  void field(const char* name, F&& read) {
    if (error_ || !object_.contains(name) || object_.at(name).is_null()) return;
    read(object_.at(name), path_ + name);
  }
  void fail(std::string message) {
    if (!error_) error_ = std::move(message);
  }
  const std::optional<std::string>& error() const { return error_; }

  std::string string(const Json& v, const std::string& at) {
    if (!v.is_string()) fail(at + ": expected a string");
    return v.is_string() ? v.get<std::string>() : std::string();
  }
  std::int64_t integer(const Json& v, const std::string& at, std::int64_t min, std::int64_t max) {
    // A number above int64 is unsigned in nlohmann's model: is_number_integer() but not in range.
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) ||
        v.get<std::int64_t>() < min || v.get<std::int64_t>() > max) {
      fail(at + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return min;
    }
    return v.get<std::int64_t>();
  }
  // A count that fits the spec's 32-bit fields.
  std::uint32_t count(const Json& v, const std::string& at, std::int64_t min) {
    return static_cast<std::uint32_t>(integer(v, at, min, std::numeric_limits<std::uint32_t>::max()));
  }
  // Milliseconds, at most ten years: every time the kernel computes from it stays far from overflow.
  tasklane::Duration millis(const Json& v, const std::string& at, std::int64_t min) {
    constexpr std::int64_t ten_years_ms = 10LL * 365 * 24 * 3600 * 1000;
    return tasklane::milliseconds(integer(v, at, min, ten_years_ms));
  }
  double number(const Json& v, const std::string& at) {
    if (!v.is_number()) fail(at + ": expected a number");
    return v.is_number() ? v.get<double>() : 0.0;
  }
  bool boolean(const Json& v, const std::string& at) {
    if (!v.is_boolean()) fail(at + ": expected true or false");
    return v.is_boolean() && v.get<bool>();
  }
  bool object(const Json& v, const std::string& at) {
    if (!v.is_object()) fail(at + ": expected an object");
    return v.is_object();
  }

 private:
  const Json& object_;
  std::string path_;
  std::optional<std::string> error_;
};

}  // namespace

tasklane::Result<tasklane::TaskSpec, BadRequest> parse_spawn_request(const Json& body) {
  if (!body.is_object()) return tasklane::Failure{BadRequest{"the body must be a JSON object"}};
  if (!body.contains("kind")) return tasklane::Failure{BadRequest{"kind: missing"}};
  tasklane::TaskSpec spec;
  spec.durable = true;
  Fields f(body, "");
  f.field("kind", [&](const Json& v, const std::string& at) { spec.kind = f.string(v, at); });
  f.field("owner", [&](const Json& v, const std::string& at) { spec.owner = f.string(v, at); });
  f.field("name", [&](const Json& v, const std::string& at) { spec.name = f.string(v, at); });
  f.field("description", [&](const Json& v, const std::string& at) { spec.description = f.string(v, at); });
  f.field("payload", [&](const Json& v, const std::string&) { spec.payload = v; });
  f.field("priority", [&](const Json& v, const std::string& at) {
    const auto p = tasklane::parse_priority(f.string(v, at));
    if (!p) return f.fail(at + ": expected low, normal, high or critical");
    spec.priority = *p;
  });
  f.field("run_after_ms", [&](const Json& v, const std::string& at) { spec.run_after = f.millis(v, at, 0); });
  f.field("timeout_ms", [&](const Json& v, const std::string& at) { spec.timeout = f.millis(v, at, 1); });
  f.field("heartbeat_ms", [&](const Json& v, const std::string& at) { spec.heartbeat = f.millis(v, at, 1); });
  f.field("durable", [&](const Json& v, const std::string& at) { spec.durable = f.boolean(v, at); });
  f.field("inbox", [&](const Json& v, const std::string& at) { spec.inbox = f.boolean(v, at); });
  f.field("key", [&](const Json& v, const std::string& at) {
    if (!f.object(v, at)) return;
    tasklane::SequenceKey key;
    Fields k(v, at + ".");
    k.field("agent", [&](const Json& x, const std::string& p) { key.agent = k.string(x, p); });
    k.field("scope", [&](const Json& x, const std::string& p) { key.scope = k.string(x, p); });
    k.field("purpose", [&](const Json& x, const std::string& p) { key.purpose = k.string(x, p); });
    if (k.error()) return f.fail(*k.error());
    spec.key = key;
  });
  f.field("retry", [&](const Json& v, const std::string& at) {
    if (!f.object(v, at)) return;
    auto& r = spec.retry;
    Fields k(v, at + ".");
    k.field("max_attempts", [&](const Json& x, const std::string& p) { r.max_attempts = k.count(x, p, 1); });
    k.field("initial_backoff_ms", [&](const Json& x, const std::string& p) { r.initial_backoff = k.millis(x, p, 0); });
    k.field("max_backoff_ms", [&](const Json& x, const std::string& p) { r.max_backoff = k.millis(x, p, 0); });
    k.field("multiplier", [&](const Json& x, const std::string& p) { r.multiplier = k.number(x, p); });
    k.field("jitter", [&](const Json& x, const std::string& p) { r.jitter = k.number(x, p); });
    k.field("requeue_on_restart", [&](const Json& x, const std::string& p) { r.requeue_on_restart = k.boolean(x, p); });
    if (k.error()) f.fail(*k.error());
  });
  f.field("quota", [&](const Json& v, const std::string& at) {
    if (!f.object(v, at)) return;
    tasklane::QuotaSpec q;
    Fields k(v, at + ".");
    k.field("key", [&](const Json& x, const std::string& p) { q.key = k.string(x, p); });
    k.field("cooldown_ms", [&](const Json& x, const std::string& p) { q.cooldown = k.millis(x, p, 0); });
    k.field("max_attempts", [&](const Json& x, const std::string& p) { q.max_attempts = k.count(x, p, 0); });
    k.field("single_flight", [&](const Json& x, const std::string& p) { q.single_flight = k.boolean(x, p); });
    if (k.error()) return f.fail(*k.error());
    spec.quota = q;
  });
  f.field("rate_limit", [&](const Json& v, const std::string& at) {
    if (!f.object(v, at)) return;
    tasklane::RateLimit limit;
    Fields k(v, at + ".");
    k.field("key", [&](const Json& x, const std::string& p) { limit.key = k.string(x, p); });
    k.field("starts", [&](const Json& x, const std::string& p) { limit.starts = k.count(x, p, 1); });
    k.field("interval_ms", [&](const Json& x, const std::string& p) { limit.interval = k.millis(x, p, 1); });
    if (!k.error() && limit.key.empty()) k.fail(at + ".key: missing (the limiter key, for example the model provider)");
    if (k.error()) return f.fail(*k.error());
    spec.rate_limit = limit;
  });
  f.field("after", [&](const Json& v, const std::string& at) {
    if (!v.is_array()) return f.fail(at + ": expected an array of task ids like [\"bg_3\"]");
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string where = at + "[" + std::to_string(i) + "]";
      const auto id = v[i].is_string() ? tasklane::parse_task_id(v[i].get<std::string>()) : std::nullopt;
      if (!id) return f.fail(where + ": expected a task id like \"bg_7\"");
      spec.after.push_back(*id);
    }
  });
  f.field("after_mode", [&](const Json& v, const std::string& at) {
    const auto mode = tasklane::parse_dependency_mode(f.string(v, at));
    if (!mode) return f.fail(at + ": expected \"all_succeeded\" or \"all_finished\"");
    if (spec.after.empty()) return f.fail(at + ": needs a non-empty \"after\"");
    spec.after_mode = *mode;
  });
  f.field("repeat", [&](const Json& v, const std::string& at) {
    if (!f.object(v, at)) return;
    tasklane::Repeat repeat;
    Fields k(v, at + ".");
    k.field("every_ms", [&](const Json& x, const std::string& p) { repeat.every = k.millis(x, p, 1); });
    k.field("mode", [&](const Json& x, const std::string& p) {
      const auto mode = tasklane::parse_repeat_mode(k.string(x, p));
      if (!mode) return k.fail(p + ": expected \"fixed_rate\" or \"fixed_delay\"");
      repeat.mode = *mode;
    });
    k.field("times", [&](const Json& x, const std::string& p) { repeat.times = k.count(x, p, 1); });
    if (!k.error() && repeat.every.count() == 0) k.fail(at + ".every_ms: missing (the interval between runs)");
    if (k.error()) return f.fail(*k.error());
    spec.repeat = repeat;
  });
  f.field("dedup_key", [&](const Json& v, const std::string& at) {
    const std::string key = f.string(v, at);
    if (key.empty()) return f.fail(at + ": must not be empty (leave it out instead)");
    if (!spec.dedup) spec.dedup = tasklane::DedupSpec{};
    spec.dedup->key = key;
  });
  f.field("dedup_mode", [&](const Json& v, const std::string& at) {
    const auto mode = tasklane::parse_dedup_mode(f.string(v, at));
    if (!mode) return f.fail(at + ": expected keep_existing or replace_pending");
    if (!spec.dedup) return f.fail(at + ": needs a dedup_key");
    spec.dedup->mode = *mode;
  });
  f.field("parent", [&](const Json& v, const std::string& at) {
    if (!f.object(v, at)) return;
    auto& parent = spec.parent;
    Fields k(v, at + ".");
    k.field("task", [&](const Json& x, const std::string& p) {
      const auto id = tasklane::parse_task_id(k.string(x, p));
      if (!id) return k.fail(p + ": expected a task id like \"bg_7\"");
      parent.task = id;
    });
    k.field("run", [&](const Json& x, const std::string& p) { parent.run = k.string(x, p); });
    k.field("call", [&](const Json& x, const std::string& p) { parent.call = k.string(x, p); });
    k.field("agent", [&](const Json& x, const std::string& p) { parent.agent = k.string(x, p); });
    if (k.error()) f.fail(*k.error());
  });
  if (f.error()) return tasklane::Failure{BadRequest{*f.error()}};
  return spec;
}

Json task_json(const tasklane::TaskInfo& info) {
  using tasklane::to_string;
  Json j{{"id", to_string(info.id)},
         {"kind", info.spec.kind},
         {"owner", info.spec.owner},
         {"status", to_string(info.status)},
         {"priority", to_string(info.spec.priority)},
         {"attempt", info.attempt},
         {"durable", info.spec.durable},
         {"created_at_ms", info.created_at.count() / 1000},
         {"due_at_ms", info.due.count() / 1000}};
  if (info.spec.name) j["name"] = *info.spec.name;
  if (!info.spec.description.empty()) j["description"] = info.spec.description;
  if (info.spec.key) j["key"] = {{"agent", info.spec.key->agent}, {"scope", info.spec.key->scope}, {"purpose", info.spec.key->purpose}};
  if (info.spec.parent.task) j["parent"] = to_string(*info.spec.parent.task);
  if (info.spec.dedup) j["dedup_key"] = info.spec.dedup->key;
  if (const auto& limit = info.spec.rate_limit) {
    j["rate_limit"] = {{"key", limit->key}, {"starts", limit->starts}, {"interval_ms", limit->interval.count() / 1000}};
  }
  if (info.spec.heartbeat) j["heartbeat_ms"] = info.spec.heartbeat->count() / 1000;
  if (!info.spec.after.empty()) {
    j["after"] = Json::array();
    for (const auto id : info.spec.after) j["after"].push_back(to_string(id));
    j["after_mode"] = to_string(info.spec.after_mode);
  }
  if (!info.waiting_for.empty()) {
    j["waiting_for"] = Json::array();
    for (const auto id : info.waiting_for) j["waiting_for"].push_back(to_string(id));
  }
  if (const auto& repeat = info.spec.repeat) {
    j["repeat"] = {{"every_ms", repeat->every.count() / 1000}, {"mode", tasklane::to_string(repeat->mode)}};
    if (repeat->times) j["repeat"]["times"] = *repeat->times;
  }
  if (info.series) {
    j["series"] = to_string(*info.series);
    j["run"] = info.run;
  }
  if (info.series_end) j["series_end"] = *info.series_end;
  if (info.finished_at) j["finished_at_ms"] = info.finished_at->count() / 1000;
  if (info.error) j["error"] = *info.error;
  if (!info.result.is_null()) j["result"] = info.result;
  if (info.cancel_requested) j["cancel_requested"] = true;
  if (info.paused) j["paused"] = true;
  return j;
}

}  // namespace agent_server
