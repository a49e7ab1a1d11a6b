// The agent server's HTTP side: Boost.Beast on 127.0.0.1, one coroutine per connection, keep-alive,
// bodies up to 1 MiB, and GET /events as server-sent events:
//   event: finished
//   data: {"event":"finished","id":"bg_3","owner":"alice","status":"completed",...}
#pragma once

#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api.hpp"

namespace agent_server {

// Accepts connections on `acceptor` until it is closed.
boost::asio::awaitable<void> serve(boost::asio::ip::tcp::acceptor& acceptor, Api& api, tasklane::asio::runtime& runtime);

}  // namespace agent_server
