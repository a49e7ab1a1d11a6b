#include "http_server.hpp"

#include <deque>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include "tasklane/json.hpp"

namespace agent_server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using net::ip::tcp;

constexpr std::size_t body_limit = 1 << 20;

// Events waiting to be written to one SSE client; the timer wakes the writer.
struct EventQueue {
  explicit EventQueue(net::any_io_executor ex) : wake(std::move(ex)) {}
  std::deque<std::string> lines;
  net::steady_timer wake;
  void push(std::string line) {
    lines.push_back(std::move(line));
    wake.cancel();
  }
};

net::awaitable<void> stream_events(beast::tcp_stream& stream, tasklane::asio::runtime& runtime) {
  const std::string header =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
      ": tasklane task events\n\n";
  boost::system::error_code ec;
  co_await net::async_write(stream.socket(), net::buffer(header), net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return;
  auto queue = std::make_shared<EventQueue>(co_await net::this_coro::executor);
  const auto subscription = runtime.subscribe(std::nullopt, [queue](const tasklane::drivers::TaskEvent& e) {
    queue->push(std::string("event: ") + tasklane::drivers::to_string(e.kind) + "\ndata: " +
                tasklane::drivers::to_json(e).dump(-1, ' ', false, tasklane::Json::error_handler_t::replace) + "\n\n");
  });
  for (;;) {
    if (queue->lines.empty()) {
      queue->wake.expires_after(std::chrono::seconds(15));
      co_await queue->wake.async_wait(net::redirect_error(net::use_awaitable, ec));
      if (!ec) queue->lines.push_back(": keep-alive\n\n");  // also notices a client that left
    }
    std::string batch;
    while (!queue->lines.empty()) {
      batch += queue->lines.front();
      queue->lines.pop_front();
    }
    if (batch.empty()) continue;
    co_await net::async_write(stream.socket(), net::buffer(batch), net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
  }
  runtime.unsubscribe(subscription);
}

net::awaitable<void> session(tcp::socket socket, Api& api, tasklane::asio::runtime& runtime) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) break;
    if (ec) {
      Request bare;
      bare.version(11);
      const auto status = ec == http::error::body_limit ? http::status::payload_too_large : http::status::bad_request;
      Response response = error_response(bare, status,
                                         ec == http::error::body_limit ? "body is over the limit of 1 MiB" : "bad HTTP request: " + ec.message());
      response.keep_alive(false);
      co_await http::async_write(stream, response, net::redirect_error(net::use_awaitable, ec));
      break;
    }
    Request request = parser.release();
    if (request.method() == http::verb::get && request.target() == "/events") {
      co_await stream_events(stream, runtime);
      break;
    }
    Response response = co_await api.handle(request);
    const bool keep_alive = response.keep_alive();
    co_await http::async_write(stream, response, net::redirect_error(net::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

net::awaitable<void> serve(tcp::acceptor& acceptor, Api& api, tasklane::asio::runtime& runtime) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (!acceptor.is_open()) co_return;
      continue;
    }
    net::co_spawn(acceptor.get_executor(), session(std::move(socket), api, runtime), net::detached);
  }
}

}  // namespace agent_server
