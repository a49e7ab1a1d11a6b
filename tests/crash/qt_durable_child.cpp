// The Qt crash child: a real tasklane::qt::TaskRuntime on DATA_DIR running the shared crash
// workload (durable_workload.hpp). The parent (kill9_test.cpp) kills it with SIGKILL at a random moment.
//   tasklane_qt_durable_child DATA_DIR
#include <QCoreApplication>
#include <QTimer>
#include <iostream>

#include "durable_workload.hpp"
#include "tasklane/qt/task_runtime.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tasklane_qt_durable_child DATA_DIR\n";
    return 2;
  }
  QCoreApplication app(argc, argv);
  tasklane::qt::TaskRuntime runtime(tasklane::crash::child_options(argv[1]), tasklane::crash::child_handlers());
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::taskEvent, &runtime, tasklane::crash::report);
  QTimer::singleShot(0, &runtime, [&] {
    if (QString why; !runtime.start(&why)) {
      tasklane::crash::say("start failed " + why.toStdString());
      app.exit(1);
      return;
    }
    tasklane::crash::say("started");
    tasklane::crash::spawn_forever([&runtime](tasklane::TaskSpec spec, tasklane::crash::SpawnDone done) {
      runtime.spawn(spec, [done = std::move(done)](const tasklane::qt::SpawnReply& reply) {
        if (reply.ok()) {
          done(reply.id, {});
        } else {
          done(std::nullopt, reply.message.toStdString());
        }
      });
    });
  });
  return app.exec();
}
