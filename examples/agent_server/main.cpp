// tasklane_agent_server: an HTTP JSON API over tasklane on 127.0.0.1, with the embedded file store.
//   tasklane_agent_server [--port N] [--data DIR] [--max-running N] [--capacity N] [--log FILE]
//                         [--log-level debug|info|warn|error]
// Structured logs go to stderr as JSON lines (drivers/log.hpp), or appended to --log FILE.
// --port 0 picks a free port. The first line on stdout is "listening on 127.0.0.1:PORT".
// SIGINT/SIGTERM: stop accepting, let running work finish (a second signal cancels it), persist
// what is pending, exit 0.
#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <optional>

#include "demo_kinds.hpp"
#include "http_server.hpp"
#include "tasklane/json.hpp"

namespace {

namespace net = boost::asio;

struct Options {
  unsigned short port = 8080;
  std::string data = "tasklane-data";
  std::optional<std::string> log_file;
  tasklane::drivers::LogLevel log_level = tasklane::drivers::LogLevel::Info;
  tasklane::Config config;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "tasklane_agent_server: " << problem << "\n"
            << "usage: tasklane_agent_server [--port N] [--data DIR] [--max-running N] [--capacity N] [--log FILE]\n"
            << "                             [--log-level debug|info|warn|error]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  o.config.max_running = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("an HTTP JSON API over tasklane");
    if (i + 1 >= argc) usage("missing value after " + arg);
    const std::string value = argv[++i];
    try {
      if (arg == "--port") {
        const int port = std::stoi(value);
        if (port < 0 || port > 65535) usage("--port must be 0..65535");
        o.port = static_cast<unsigned short>(port);
      } else if (arg == "--data") {
        o.data = value;
      } else if (arg == "--max-running") {
        o.config.max_running = std::stoul(value);
      } else if (arg == "--log") {
        o.log_file = value;
      } else if (arg == "--log-level") {
        const auto level = tasklane::drivers::parse_log_level(value);
        if (!level) usage("--log-level must be debug, info, warn or error");
        o.log_level = *level;
      } else if (arg == "--capacity") {
        o.config.capacity = std::stoul(value);
      } else {
        usage("unknown option " + arg);
      }
    } catch (const std::exception&) {
      usage("bad value for " + arg + ": " + value);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  net::io_context io(1);  // one thread: the kernel's strand, the HTTP sessions and the SSE queues share it

  const auto kinds = agent_server::demo_kinds();
  tasklane::asio::runtime_options runtime_options;
  runtime_options.runtime.config = options.config;
  runtime_options.runtime.data_dir = options.data;
  if (options.log_file) {
    auto sink = tasklane::drivers::json_lines_file_sink(*options.log_file, options.log_level);
    if (!sink) usage(sink.error());
    runtime_options.runtime.log = std::move(sink).value();
  } else {
    runtime_options.runtime.log = tasklane::drivers::json_lines_sink(std::cerr, options.log_level);
  }
  tasklane::asio::runtime runtime(io.get_executor(), runtime_options, kinds);

  int exit_code = 0;
  runtime.async_start([&](std::error_code ec, std::string message) {
    if (ec) {
      std::cerr << "tasklane_agent_server: cannot start: " << message << "\n";
      exit_code = 1;
      io.stop();
    }
  });

  net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), options.port});
  std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;

  agent_server::Api api(runtime, kinds, options.config);
  net::co_spawn(io, agent_server::serve(acceptor, api, runtime), net::detached);

  net::signal_set signals(io, SIGINT, SIGTERM);
  int signals_seen = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (++signals_seen == 1) {
      std::cerr << "tasklane_agent_server: shutting down (running work may finish; signal again to cancel it)\n";
      boost::system::error_code ignored;
      acceptor.close(ignored);
      runtime.async_shutdown(tasklane::ShutdownMode::Drain, [&](std::error_code) { io.stop(); });
    } else {
      runtime.async_shutdown(tasklane::ShutdownMode::Cancel, [](std::error_code) {});
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  io.run();
  return exit_code;
}
