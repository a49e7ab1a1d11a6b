// The Asio crash child: a real Asio runtime on DATA_DIR running the shared crash workload
// (durable_workload.hpp). The parent (kill9_test.cpp) kills it with SIGKILL at a random moment.
//   tasklane_durable_child DATA_DIR
#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <boost/asio/io_context.hpp>
#include <iostream>

#include "durable_workload.hpp"
#include "tasklane/asio/runtime.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tasklane_durable_child DATA_DIR\n";
    return 2;
  }
  boost::asio::io_context io(1);
  tasklane::asio::runtime_options options;
  options.runtime = tasklane::crash::child_options(argv[1]);
  tasklane::asio::runtime rt(io.get_executor(), options, tasklane::crash::child_handlers());
  rt.subscribe(std::nullopt, tasklane::crash::report);
  rt.async_start([&](std::error_code ec, std::string message) {
    if (ec) {
      tasklane::crash::say("start failed " + message);
      io.stop();
      return;
    }
    tasklane::crash::say("started");
    tasklane::crash::spawn_forever([&rt](tasklane::TaskSpec spec, tasklane::crash::SpawnDone done) {
      rt.async_spawn(std::move(spec), [done = std::move(done)](std::error_code refused, tasklane::TaskId id) {
        if (refused) {
          done(std::nullopt, refused.message());
        } else {
          done(id, {});
        }
      });
    });
  });
  io.run();
  return 0;
}
