#include "api.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <tuple>

#include "demo_kinds.hpp"
#include "spawn_request.hpp"
#include "tasklane/json.hpp"

namespace agent_server {
namespace {

namespace net = boost::asio;
using tasklane::Json;
using tasklane::drivers::errc;

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};

Target split_target(std::string_view target) {
  Target t;
  const auto q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    t.query[std::string(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return t;
}

http::status status_for(std::error_code ec) {
  switch (static_cast<errc>(ec.value())) {
    case errc::queue_full:
    case errc::inbox_full: return http::status::too_many_requests;
    case errc::message_too_large: return http::status::payload_too_large;
    case errc::duplicate_name:
    case errc::single_flight_busy:
    case errc::quota_exhausted:
    case errc::task_terminated:
    case errc::no_inbox:
    case errc::inbox_closed: return http::status::conflict;
    case errc::not_owner: return http::status::forbidden;
    case errc::task_not_found:
    case errc::unknown_task: return http::status::not_found;
    case errc::shutting_down:
    case errc::stopped: return http::status::service_unavailable;
    case errc::not_persisted: return http::status::internal_server_error;
    default: return http::status::bad_request;
  }
}

// The category's text plus what the server knows about the request.
std::string describe(std::error_code ec, const tasklane::TaskSpec& spec, const tasklane::Config& config) {
  switch (static_cast<errc>(ec.value())) {
    case errc::queue_full: return "queue is full (limit " + std::to_string(config.capacity) + ")";
    case errc::duplicate_name: return "a running task named '" + spec.name.value_or("") + "' already exists";
    case errc::reserved_name: return "'" + spec.name.value_or("") + "' is a reserved or empty name";
    case errc::unknown_dependency:
    case errc::dependency_cycle:
    case errc::too_many_dependencies: {
      std::string ids;
      for (const auto id : spec.after) ids += (ids.empty() ? "" : ", ") + tasklane::to_string(id);
      return ec.message() + " (after: " + ids + "; at most " + std::to_string(config.max_dependencies) + ")";
    }
    default: return ec.message();
  }
}

std::optional<Json> parse_body(const Request& request, std::string& error) {
  if (request.body().empty()) return Json::object();
  auto parsed = tasklane::parse_json(request.body());
  if (!parsed) {
    error = "malformed JSON: " + parsed.error().message;
    return std::nullopt;
  }
  return parsed.value();
}

// A read of one task on the kernel's strand.
auto find_task(tasklane::TaskId id) {
  return [id](const tasklane::Kernel& k) { return k.get(id); };
}

}  // namespace

// gcc 12 destroys some temporaries of a co_await full-expression twice (its coroutine bugs 99576,
// 100611): every asynchronous call here is made in its own statement and only then awaited.
Response json_response(const Request& request, http::status status, const Json& body) {
  Response response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  response.prepare_payload();
  return response;
}

Response metrics_response(const Request& request, const tasklane::drivers::MetricsSnapshot& metrics) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.keep_alive(request.keep_alive());
  response.body() = tasklane::drivers::prometheus_text(metrics);
  response.prepare_payload();
  return response;
}

Response error_response(const Request& request, http::status status, const std::string& message) {
  return json_response(request, status, Json{{"error", message}});
}

net::awaitable<Response> Api::handle(const Request& request) {
  const Target target = split_target(std::string_view(request.target().data(), request.target().size()));
  const auto method = request.method();
  if (target.path == "/health" && method == http::verb::get) co_return json_response(request, http::status::ok, {{"ok", true}});
  if (target.path == "/metrics" && method == http::verb::get) co_return metrics_response(request, runtime_.metrics());
  if (target.path == "/tasks" && method == http::verb::post) co_return co_await spawn(request);
  if (target.path == "/tasks" && method == http::verb::get) {
    const auto owner = target.query.find("owner");
    if (owner == target.query.end()) co_return error_response(request, http::status::bad_request, "the owner query parameter is required: /tasks?owner=alice");
    co_return co_await list(request, owner->second);
  }
  if (target.path == "/flush" && method == http::verb::post) co_return co_await flush(request);
  if (target.path == "/pause" && method == http::verb::post) co_return co_await pause(request, false);
  if (target.path == "/resume" && method == http::verb::post) co_return co_await pause(request, true);
  constexpr std::string_view prefix = "/tasks/";
  if (target.path.rfind(prefix, 0) == 0) {
    std::string_view rest = std::string_view(target.path).substr(prefix.size());
    const bool inbox = rest.size() > 6 && rest.substr(rest.size() - 6) == "/inbox";
    if (inbox) rest.remove_suffix(6);
    const auto id = tasklane::parse_task_id(rest);
    if (!id) co_return error_response(request, http::status::not_found, "no task '" + std::string(rest) + "': ids look like bg_7");
    if (inbox && method == http::verb::post) co_return co_await send(request, *id);
    if (!inbox && method == http::verb::get) co_return co_await get(request, *id);
    if (!inbox && method == http::verb::delete_) {
      const auto tree = target.query.find("tree");
      co_return co_await cancel(request, *id, tree != target.query.end() && tree->second == "1");
    }
  }
  co_return error_response(request, http::status::not_found,
                           "no route for " + std::string(request.method_string()) + " " + target.path);
}

net::awaitable<Response> Api::spawn(const Request& request) {
  std::string error;
  const auto body = parse_body(request, error);
  if (!body) co_return error_response(request, http::status::bad_request, error);
  auto parsed = parse_spawn_request(*body);
  if (!parsed) co_return error_response(request, http::status::bad_request, parsed.error().message);
  tasklane::TaskSpec spec = std::move(parsed).value();
  if (!kinds_.has(spec.kind)) {
    co_return error_response(request, http::status::bad_request,
                             "unknown kind '" + spec.kind + "' (this server knows sleep, flaky, compact, sub_agent, maintenance)");
  }
  apply_kind_defaults(spec, *body);
  const tasklane::TaskSpec copy = spec;
  // Handlers with a std::error_code first argument come back from use_awaitable as a tuple.
  auto spawning = runtime_.async_admit(std::move(spec), net::use_awaitable);
  const auto [ec, admission] = co_await std::move(spawning);
  if (ec) co_return error_response(request, status_for(ec), describe(ec, copy, config_));
  auto reading = runtime_.async_read(find_task(admission.id), net::use_awaitable);
  const auto info = co_await std::move(reading);
  Json answer = info ? task_json(*info) : Json{{"id", tasklane::to_string(admission.id)}};
  // A live task held the dedup key: 200 with that task, and say so; a new task is 201.
  if (admission.deduplicated) answer["deduplicated"] = true;
  if (admission.replaced) answer["replaced"] = tasklane::to_string(*admission.replaced);
  co_return json_response(request, admission.deduplicated ? http::status::ok : http::status::created, answer);
}

net::awaitable<Response> Api::list(const Request& request, const std::string& owner) {
  auto reading = runtime_.async_read([owner](const tasklane::Kernel& k) { return k.list(owner); }, net::use_awaitable);
  const auto tasks = co_await std::move(reading);
  Json out = Json::array();
  for (const auto& t : tasks) out.push_back(task_json(t));
  co_return json_response(request, http::status::ok, {{"tasks", out}});
}

net::awaitable<Response> Api::get(const Request& request, tasklane::TaskId id) {
  auto reading = runtime_.async_read(find_task(id), net::use_awaitable);
  const auto info = co_await std::move(reading);
  if (!info) co_return error_response(request, http::status::not_found, "task " + tasklane::to_string(id) + " not found");
  co_return json_response(request, http::status::ok, task_json(*info));
}

net::awaitable<Response> Api::cancel(const Request& request, tasklane::TaskId id, bool tree) {
  // A series id names the series even after its first run is forgotten: cancel reaches the current run.
  auto reading = runtime_.async_read(
      [id](const tasklane::Kernel& k) { return k.glance(id).has_value() || k.current_run(id).has_value(); }, net::use_awaitable);
  const bool known = co_await std::move(reading);
  if (!known) co_return error_response(request, http::status::not_found, "task " + tasklane::to_string(id) + " not found");
  tasklane::AbortSelector which = tasklane::abort_selector::Task{id};
  if (tree) which = tasklane::abort_selector::Tree{id};
  auto aborting = runtime_.async_abort(which, net::use_awaitable);
  const auto [ec, n] = co_await std::move(aborting);
  if (ec) co_return error_response(request, status_for(ec), ec.message());
  co_return json_response(request, http::status::ok, {{"cancelled", n}});
}

net::awaitable<Response> Api::flush(const Request& request) {
  std::string error;
  const auto body = parse_body(request, error);
  if (!body) co_return error_response(request, http::status::bad_request, error);
  if (!body->is_object()) co_return error_response(request, http::status::bad_request, "the body must be a JSON object");
  std::optional<std::string> scope, purpose;
  for (const char* field : {"scope", "purpose"}) {
    if (!body->contains(field)) continue;
    if (!body->at(field).is_string()) co_return error_response(request, http::status::bad_request, std::string(field) + ": expected a string");
    (std::string_view(field) == "scope" ? scope : purpose) = body->at(field).get<std::string>();
  }
  tasklane::FlushSelector which = tasklane::flush_selector::All{};
  if (scope && purpose) {
    which = tasklane::flush_selector::ScopePurpose{*scope, *purpose};
  } else if (scope) {
    which = tasklane::flush_selector::Scope{*scope};
  } else if (purpose) {
    which = tasklane::flush_selector::Purpose{*purpose};
  }
  auto flushing = runtime_.async_flush(which, net::use_awaitable);
  const auto [ec, first_error] = co_await std::move(flushing);
  if (ec) co_return json_response(request, http::status::ok, {{"ok", false}, {"error", first_error}});
  co_return json_response(request, http::status::ok, {{"ok", true}});
}

// Pause or resume the queued work of one owner or one purpose: exactly one of the two fields.
net::awaitable<Response> Api::pause(const Request& request, bool resume) {
  std::string error;
  const auto body = parse_body(request, error);
  if (!body) co_return error_response(request, http::status::bad_request, error);
  const bool owner = body->is_object() && body->contains("owner");
  const bool purpose = body->is_object() && body->contains("purpose");
  const char* field = owner ? "owner" : "purpose";
  if (owner == purpose || !body->at(field).is_string()) {
    co_return error_response(request, http::status::bad_request,
                             "expected {\"owner\": \"...\"} or {\"purpose\": \"...\"} (one of them, a string)");
  }
  const std::string name = body->at(field).get<std::string>();
  tasklane::PauseSelector which = tasklane::pause_selector::Owner{name};
  if (purpose) which = tasklane::pause_selector::Purpose{name};
  std::error_code ec;
  std::size_t n = 0;
  if (resume) {
    auto resuming = runtime_.async_resume(which, net::use_awaitable);
    std::tie(ec, n) = co_await std::move(resuming);
  } else {
    auto pausing = runtime_.async_pause(which, net::use_awaitable);
    std::tie(ec, n) = co_await std::move(pausing);
  }
  if (ec) co_return error_response(request, status_for(ec), ec.message());
  co_return json_response(request, http::status::ok, {{resume ? "resumed" : "paused", n}, {field, name}});
}

net::awaitable<Response> Api::send(const Request& request, tasklane::TaskId id) {
  std::string error;
  const auto body = parse_body(request, error);
  if (!body) co_return error_response(request, http::status::bad_request, error);
  if (!body->is_object() || !body->contains("from") || !body->at("from").is_string()) {
    co_return error_response(request, http::status::bad_request, "from: expected the sender's owner id as a string");
  }
  const Json message = body->contains("message") ? body->at("message") : Json();
  auto sending = runtime_.async_send(id, body->at("from").get<std::string>(), message, net::use_awaitable);
  const auto ec = co_await std::move(sending);
  if (ec) co_return error_response(request, status_for(ec), ec.message());
  co_return json_response(request, http::status::accepted, {{"delivered", true}});
}

}  // namespace agent_server
