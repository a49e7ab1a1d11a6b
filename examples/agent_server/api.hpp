// The agent server's JSON API over a tasklane::asio::runtime:
//   POST   /tasks                 spawn (durable unless "durable": false); 201 with the task
//   GET    /tasks?owner=O         the owner's tasks
//   GET    /tasks/{id}            one task
//   DELETE /tasks/{id}[?tree=1]   cancel the task (or its tree); {"cancelled": N}
//   POST   /pause, /resume        {"owner": O} or {"purpose": P}; {"paused": N} / {"resumed": N}
//   POST   /flush                 {"scope": S, "purpose": P} (both optional); waits, then {"ok", "error"}
//   POST   /tasks/{id}/inbox      {"from": O, "message": ...}; 202
//   GET    /events                server-sent events of the task life cycle (see http_server.hpp)
//   GET    /health                {"ok": true}
//   GET    /metrics               the runtime's metrics in the Prometheus text format (drivers/metrics.hpp)
// Bad requests answer 4xx with {"error": "..."} saying what is wrong.
#pragma once

#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>

#include "tasklane/asio/runtime.hpp"

namespace agent_server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class Api {
 public:
  Api(tasklane::asio::runtime& runtime, const tasklane::drivers::HandlerRegistry& kinds, const tasklane::Config& config)
      : runtime_(runtime), kinds_(kinds), config_(config) {}

  boost::asio::awaitable<Response> handle(const Request& request);

 private:
  boost::asio::awaitable<Response> spawn(const Request& request);
  boost::asio::awaitable<Response> list(const Request& request, const std::string& owner);
  boost::asio::awaitable<Response> get(const Request& request, tasklane::TaskId id);
  boost::asio::awaitable<Response> cancel(const Request& request, tasklane::TaskId id, bool tree);
  boost::asio::awaitable<Response> flush(const Request& request);
  boost::asio::awaitable<Response> pause(const Request& request, bool resume);
  boost::asio::awaitable<Response> send(const Request& request, tasklane::TaskId id);

  tasklane::asio::runtime& runtime_;
  const tasklane::drivers::HandlerRegistry& kinds_;
  tasklane::Config config_;
};

Response json_response(const Request& request, http::status status, const tasklane::Json& body);
Response error_response(const Request& request, http::status status, const std::string& message);
Response metrics_response(const Request& request, const tasklane::drivers::MetricsSnapshot& metrics);

}  // namespace agent_server
