// A child process for the crash tests: it runs a real Asio runtime on DATA_DIR and spawns durable
// tasks as fast as it can, writing "submit N" before each spawn and "ack bg_N" once the runtime
// acknowledged it (after the record was synced). The parent kills it with SIGKILL at a random moment
// and checks the journal: acknowledged ⊆ recovered ⊆ submitted.
//   tasklane_durable_child DATA_DIR
#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <iostream>

#include "tasklane/asio/runtime.hpp"

namespace {

void spawn_next(tasklane::asio::runtime& rt, int n) {
  tasklane::TaskSpec spec;
  spec.kind = "later";
  spec.owner = "crash";
  spec.durable = true;
  spec.run_after = tasklane::seconds(3600);  // stays pending: the journal holds every one
  spec.payload = {{"n", n}};
  std::printf("submit %d\n", n);
  std::fflush(stdout);
  rt.async_spawn(spec, [&rt, n](std::error_code ec, tasklane::TaskId id) {
    if (ec) {
      std::printf("refused %d %s\n", n, ec.message().c_str());
      std::fflush(stdout);
      return;
    }
    std::printf("ack %s\n", tasklane::to_string(id).c_str());
    std::fflush(stdout);
    spawn_next(rt, n + 1);
  });
  // A second spawn in flight at the same time makes group commits of two or more records.
  if (n % 2 == 0) {
    tasklane::TaskSpec twin = spec;
    twin.payload = {{"n", n}, {"twin", true}};
    rt.async_spawn(twin, [](std::error_code ec, tasklane::TaskId id) {
      if (!ec) std::printf("ack %s\n", tasklane::to_string(id).c_str());
      std::fflush(stdout);
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tasklane_durable_child DATA_DIR\n";
    return 2;
  }
  boost::asio::io_context io(1);
  tasklane::asio::runtime_options options;
  options.runtime.config.capacity = 1'000'000;
  options.runtime.data_dir = argv[1];
  options.runtime.snapshot_after_bytes = 64 * 1024;  // compact often, so kills land inside snapshots too
  tasklane::asio::runtime rt(io.get_executor(), options, {});
  rt.async_start([&](std::error_code ec, std::string message) {
    if (ec) {
      std::printf("start failed %s\n", message.c_str());
      std::fflush(stdout);
      io.stop();
      return;
    }
    std::printf("started\n");
    std::fflush(stdout);
    spawn_next(rt, 0);
  });
  io.run();
  return 0;
}
