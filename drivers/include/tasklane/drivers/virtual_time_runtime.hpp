// VirtualTimeRuntime: the runtime core with real handlers on real threads, but a virtual clock, so
// a test of your own handlers never waits for a real timeout, backoff or delay.
//
// Time is frozen while anything happens and jumps to the next deadline when nothing can happen
// without it, in the way of tokio's paused clock: the clock moves only while someone waits on the
// runtime (wait, flush, shutdown, sleep_for are outstanding), the runtime has nothing queued, and
// no work is busy. Work that waits for something outside the runtime (a test's signal, a fake
// network reply) says so with an OutsideWait guard, so that time may pass meanwhile:
//
//   tasklane::drivers::HandlerRegistry handlers;
//   handlers.add("call-model", [&](tasklane::drivers::WorkContext& ctx) {
//     tasklane::sim::OutsideWait waiting;   // the clock may jump to this attempt's timeout
//     reply.wait_until_cancelled(ctx.cancel);
//     return tasklane::Outcome::failure("no reply");
//   });
//   tasklane::sim::VirtualTimeRuntime rt({}, std::move(handlers));
//   rt.start([](auto) {});
//   rt.spawn(spec, [&](auto id) { ... });
//   rt.wait(id, [&](std::optional<tasklane::TaskInfo> info) { ... });  // a 30 s timeout takes no real time
//
// Every call may be made from any thread but a work function's; callbacks run on the runtime's own
// thread, one at a time. Destroying the runtime is a crash: running work is cancelled and joined,
// nothing is persisted beyond what the journal already has, and callbacks not yet run are dropped.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tasklane/drivers/runtime_core.hpp"

namespace tasklane::sim {

// Marks the current work as waiting for something outside the runtime while it lives. Does nothing
// on a thread that is not running a VirtualTimeRuntime's work (so shared handlers may use it).
class OutsideWait {
 public:
  OutsideWait();
  ~OutsideWait();
  OutsideWait(const OutsideWait&) = delete;
  OutsideWait& operator=(const OutsideWait&) = delete;

 private:
  void* runtime_;
};

class VirtualTimeRuntime {
 public:
  // The clock starts at `start`.
  VirtualTimeRuntime(drivers::RuntimeOptions options, drivers::HandlerRegistry handlers, Time start = Time{0});
  ~VirtualTimeRuntime();
  VirtualTimeRuntime(const VirtualTimeRuntime&) = delete;
  VirtualTimeRuntime& operator=(const VirtualTimeRuntime&) = delete;

  using StartDone = std::function<void(Result<drivers::JournalRecovery, drivers::JournalError>)>;
  void start(StartDone done);
  void spawn(TaskSpec spec, drivers::RuntimeCore::SpawnDone done);
  void abort(AbortSelector which, std::function<void(std::size_t)> done);
  void pause(PauseSelector which, std::function<void(drivers::PauseAnswer)> done);
  void resume(PauseSelector which, std::function<void(drivers::PauseAnswer)> done);
  void send(TaskId to, std::string from, Json message, std::function<void(Result<void, SendError>)> done);
  // Runs `f` on the runtime's thread with the kernel, for reads.
  void read(std::function<void(const Kernel&)> f);
  void subscribe(std::optional<std::string> owner, std::function<void(const drivers::TaskEvent&)> listener);

  // The waiting calls: while one is outstanding, the clock may move.
  void wait(TaskId id, std::function<void(std::optional<TaskInfo>)> done);
  void flush(FlushSelector which, std::function<void(std::optional<std::string> first_error)> done);
  void shutdown(ShutdownMode mode, std::function<void()> done);
  // `done` runs once the clock reached now + d (timers on the way fire in order).
  void sleep_for(Duration d, std::function<void()> done);

  Time now() const;  // the virtual clock, from any thread
  drivers::MetricsSnapshot metrics() const;  // see drivers/metrics.hpp; from any thread

 private:
  friend class OutsideWait;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tasklane::sim
