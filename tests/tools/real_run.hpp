// Data the tools tests make for themselves: a real run of the Asio runtime with a data directory
// and a trace file, a run the CLI then inspects, replays and draws; and a way to call a subcommand
// with captured streams.
#pragma once

#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <tuple>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "command.hpp"
#include "tasklane/asio/runtime.hpp"

namespace tasklane::tools_test {

namespace fs = std::filesystem;
namespace net = boost::asio;

// A directory under /tmp that is removed with the object.
struct TempDir {
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(getpid()) + "-" + std::to_string(counter()++))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  fs::path path;
};

// Boost 1.74's use_future hands a std::error_code through as a value: (error_code, T) arrives as a
// tuple. The value, once the error code is checked.
template <class Tuple>
auto answer(std::future<Tuple> f) {
  auto t = f.get();
  EXPECT_FALSE(std::get<0>(t)) << std::get<0>(t).message();
  return std::get<1>(t);
}

// Alice's two summaries complete; bob's flaky memory write fails once and succeeds on its second
// attempt (a retry); carol's export waits an hour (still pending when the runtime goes away).
// Durable, journaled, traced.
inline void record_real_run(const fs::path& data_dir, const fs::path& trace_file) {
  net::io_context io;
  auto guard = net::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  {
    drivers::HandlerRegistry handlers;
    handlers.add("summarize", [](drivers::WorkContext&) { return Outcome::success(Json{{"summary", "short"}}); });
    handlers.add("memory_write", [](drivers::WorkContext& c) {
      return c.attempt < 2 ? Outcome::failure("store busy") : Outcome::success();
    });
    asio::runtime_options options;
    options.runtime.data_dir = data_dir;
    options.runtime.trace_file = trace_file;
    options.runtime.config.max_running = 2;
    asio::runtime rt(io.get_executor(), options, std::move(handlers));
    answer(rt.async_start(net::use_future));
    std::vector<TaskId> ids;
    for (int i = 0; i < 2; ++i) {
      TaskSpec s;
      s.kind = "summarize";
      s.owner = "alice";
      s.durable = true;
      s.name = "turn-" + std::to_string(i);
      ids.push_back(answer(rt.async_spawn(s, net::use_future)));
    }
    TaskSpec flaky;
    flaky.kind = "memory_write";
    flaky.owner = "bob";
    flaky.durable = true;
    flaky.key = SequenceKey{"agent", "bob", "facts"};
    flaky.retry.max_attempts = 3;
    flaky.retry.initial_backoff = milliseconds(1);
    ids.push_back(answer(rt.async_spawn(flaky, net::use_future)));
    TaskSpec later;
    later.kind = "export";
    later.owner = "carol";
    later.durable = true;
    later.run_after = seconds(3600);
    answer(rt.async_spawn(later, net::use_future));
    for (const TaskId id : ids) answer(rt.async_wait(id, net::use_future));
    answer(rt.async_flush(flush_selector::Scope{"bob"}, net::use_future));
  }  // no shutdown: the process "dies" with carol's export pending, and the journal keeps every record
  guard.reset();
  loop.join();
}

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `tasklane ARGS...` in process. `progress_after` 0 lets a test see the bar at once.
inline CliResult tasklane_cli(const std::vector<std::string>& args, bool err_is_tty = false,
                              std::chrono::milliseconds progress_after = std::chrono::milliseconds(1000)) {
  std::ostringstream out;
  std::ostringstream err;
  cli::Console console{out, err, err_is_tty, progress_after};
  CliResult r;
  r.exit_code = cli::run(args, console);
  r.out = out.str();
  r.err = err.str();
  return r;
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline void write_file(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary | std::ios::trunc) << text; }

}  // namespace tasklane::tools_test
