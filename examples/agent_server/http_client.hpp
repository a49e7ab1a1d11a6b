// A small blocking HTTP client for the agent server, and a way to start one as a child process.
// Used by the demo and by the HTTP API tests.
#pragma once

#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <sys/types.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agent_server::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Json = nlohmann::json;

struct Server {
  pid_t pid = -1;
  unsigned short port = 0;
};

// `extra` arguments follow the standard ones (for example {"--log", file}).
inline Server start_server(const std::filesystem::path& binary, const std::filesystem::path& data,
                           const std::vector<std::string>& extra = {}) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<std::string> args{binary.string(), "--port", "0", "--data", data.string(), "--max-running", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  const auto colon = line.rfind(':');
  if (line.rfind("listening on", 0) != 0 || colon == std::string::npos) throw std::runtime_error("server did not start: " + line);
  return Server{pid, static_cast<unsigned short>(std::stoi(line.substr(colon + 1)))};
}

struct Reply {
  unsigned status = 0;
  Json body;         // discarded when the body is not JSON
  std::string text;  // the body as it came
};

// One request on its own connection; `raw_body` is sent as it is when given (for malformed bodies).
inline Reply call(unsigned short port, http::verb method, const std::string& target, const Json& body = nullptr,
                  const std::string* raw_body = nullptr) {
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (raw_body) {
    request.body() = *raw_body;
  } else if (!body.is_null()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body.dump();
  }
  request.prepare_payload();
  // A server may answer (413, say) and close before reading the whole body: the write then fails
  // with a broken pipe, and the answer is still there to read.
  beast::error_code write_error;
  http::write(stream, request, write_error);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  beast::error_code read_error;
  http::read(stream, buffer, response, read_error);
  if (read_error) throw beast::system_error(write_error ? write_error : read_error);
  beast::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  return Reply{response.result_int(), Json::parse(response.body(), nullptr, false), response.body()};
}

}  // namespace agent_server::client
