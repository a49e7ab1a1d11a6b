// What every crash child does, whatever its driver (durable_child.cpp for Asio, qt_durable_child.cpp
// for Qt): spawn durable tasks as fast as the runtime acknowledges them and report on stdout, one
// line each, flushed at once so that a SIGKILL loses nothing already said:
//   started              the runtime opened and restored DATA_DIR
//   submit N             about to spawn task N (and its twin, for even N: two spawns in flight make
//                        group commits of two or more records)
//   ack bg_K             the runtime acknowledged bg_K (its record is synced)
//   refused N WHY        the runtime refused it
//   start bg_K A         attempt A of bg_K started
//   finish bg_K STATUS   bg_K ended
// Every third task runs at once (a "quick" handler that succeeds); the others wait an hour, so the
// journal keeps them pending. kill9_test.cpp reads these lines and the journal after each kill.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "tasklane/drivers/handler_registry.hpp"
#include "tasklane/drivers/runtime_core.hpp"
#include "tasklane/drivers/task_event.hpp"

namespace tasklane::crash {

inline void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

inline drivers::RuntimeOptions child_options(const char* data_dir) {
  drivers::RuntimeOptions options;
  options.config.capacity = 1'000'000;
  options.config.retained_terminal = 1'000'000;  // a compaction must not drop finished tasks
  options.data_dir = data_dir;
  options.snapshot_after_bytes = 64 * 1024;  // compact often, so kills land inside snapshots too
  return options;
}

inline drivers::HandlerRegistry child_handlers() {
  drivers::HandlerRegistry handlers;
  handlers.add("quick", [](drivers::WorkContext&) { return Outcome::success(); });
  return handlers;
}

inline TaskSpec child_spec(int n) {
  TaskSpec spec;
  spec.owner = "crash";
  spec.durable = true;
  spec.payload = {{"n", n}};
  if (n % 3 == 0) {
    spec.kind = "quick";
  } else {
    spec.kind = "later";
    spec.run_after = seconds(3600);  // stays pending: the journal holds every one
  }
  return spec;
}

inline void report(const drivers::TaskEvent& e) {
  if (e.kind == drivers::TaskEventKind::Started) say("start " + to_string(e.id) + " " + std::to_string(e.attempt));
  if (e.kind == drivers::TaskEventKind::Finished) say("finish " + to_string(e.id) + " " + to_string(e.status));
}

// How a child hands a spawn to its runtime: `done` gets the id, or nullopt and why it was refused.
using SpawnDone = std::function<void(std::optional<TaskId>, std::string)>;
using SpawnFunction = std::function<void(TaskSpec, SpawnDone)>;

// Spawns task n (and a twin for even n), then n + 1 once n is acknowledged, for ever.
inline void spawn_forever(const SpawnFunction& spawn, int n = 0) {
  say("submit " + std::to_string(n));
  spawn(child_spec(n), [spawn, n](std::optional<TaskId> id, std::string why) {
    if (!id) {
      say("refused " + std::to_string(n) + " " + why);
      return;
    }
    say("ack " + to_string(*id));
    spawn_forever(spawn, n + 1);
  });
  if (n % 2 == 0) {
    TaskSpec twin = child_spec(n);
    twin.payload["twin"] = true;
    spawn(twin, [](std::optional<TaskId> id, std::string) {
      if (id) say("ack " + to_string(*id));
    });
  }
}

}  // namespace tasklane::crash
