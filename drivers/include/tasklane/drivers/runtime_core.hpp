// RuntimeCore: everything a real driver does that is neither Asio nor Qt. It owns the kernel, the
// journal and the running work's tokens and inboxes; it carries out every command and calls the
// driver back through four hooks: run work elsewhere, come back to the owner, arm the one timer,
// read the clock. The Asio and Qt drivers are thin shells around it.
//
// Threading: every member function must be called on the owner (the Asio strand, the Qt thread).
// Work runs wherever Hooks::run_work puts it; what it reports comes back through Hooks::to_owner.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "tasklane/drivers/file_journal.hpp"
#include "tasklane/drivers/handler_registry.hpp"
#include "tasklane/drivers/log.hpp"
#include "tasklane/drivers/metrics.hpp"
#include "tasklane/drivers/task_event.hpp"
#include "tasklane/drivers/unique_function.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane::drivers {

struct RuntimeOptions {
  Config config;
  // The embedded default store; nullopt keeps everything in memory (durable specs are then not durable).
  std::optional<std::filesystem::path> data_dir;
  std::uint64_t snapshot_after_bytes = 64u << 20;  // compact the journal once it grows past this
  // The host's answer to the queued-work runner (seed 001); default: idle.
  std::function<std::optional<std::string>(const command::RunQueuedWork&)> queued_work;
  // Structured logs (see log.hpp): start and recovery, journal trouble, every task that ends.
  // json_lines_sink(std::cerr) writes them as JSON lines; unset: nothing is logged.
  LogSink log;
  // Records every input and command to this file (see trace.hpp); off when unset.
  std::optional<std::filesystem::path> trace_file;
};

// What pause and resume answer: how many pending tasks the rule newly paused (or made ready
// again), and whether the change is durable. The rule holds in memory either way.
struct PauseAnswer {
  std::size_t tasks = 0;
  std::error_code error;  // errc::not_persisted: no snapshot could be written; errc::stopped: the runtime stopped
  std::string message;    // why, when error is set
};

struct RuntimeHooks {
  std::function<void(std::function<void()>)> run_work;   // run on a worker; called on the owner
  std::function<void(std::function<void()>)> to_owner;   // post to the owner; called from any thread
  std::function<void(std::optional<Time>)> arm_timer;    // the one timer: at this time, or none
  std::function<Time()> now;                             // the driver's clock
  // The threads behind run_work, when the driver knows them (read once): attempts then queue in
  // the core and at most this many run_work calls drain them, so a batch of starts costs one
  // hand-off (a batch of reports hands its starts over eight at a time, to keep the workers busy
  // while the owner takes the rest). 0: unknown, one run_work call per attempt.
  std::size_t work_threads = 0;
};

class RuntimeCore {
 public:
  RuntimeCore(RuntimeOptions options, HandlerRegistry handlers, RuntimeHooks hooks);
  ~RuntimeCore();
  RuntimeCore(const RuntimeCore&) = delete;
  RuntimeCore& operator=(const RuntimeCore&) = delete;

  // Opens the data directory (if any) and restores it. Call once, first.
  Result<JournalRecovery, JournalError> start();

  using SpawnDone = std::function<void(Result<TaskId, SpawnError>)>;
  // `done` runs on the owner once the task is accepted and, when durable, synced to disk. An empty
  // `done` (here and in admit) asks for no answer: none is queued. A refusal is then logged
  // ("unanswered_spawn_refused", Warn; the metrics count it as every refusal), and a durable task
  // whose record could not be synced ("unanswered_spawn_not_persisted", Error).
  void spawn(TaskSpec spec, SpawnDone done);
  // spawn, also saying whether the spec's dedup key folded it into a live task or replaced one.
  // Move-only, so a driver passes its completion handler in without sharing or copying it.
  using AdmitDone = UniqueFunction<void(Result<Admission, SpawnError>)>;
  void admit(TaskSpec&& spec, AdmitDone done);  // moved into the kernel's task: no copy on the way
  void admit(const TaskSpec& spec, AdmitDone done);
  std::size_t abort(const AbortSelector& which);
  bool cancel(TaskId id);
  // Kernel::pause / resume. With a data directory the rules are made durable before the answer (a
  // snapshot is written), so a crash keeps them; if that fails the answer says not_persisted. A
  // change made before start() is written by start().
  PauseAnswer pause(const PauseSelector& which);
  PauseAnswer resume(const PauseSelector& which);
  void flush(const FlushSelector& which, std::function<void(std::optional<std::string> first_error)> done);
  Result<void, SendError> send(TaskId to, std::string from, Json message);
  void poke(std::optional<std::string> session, std::string reason);
  void complete_session(std::string session, std::string reason);
  // `done` runs when the task is terminal (at once when it already is, or is unknown: then nullopt).
  void wait(TaskId id, std::function<void(std::optional<TaskInfo>)> done);
  void shutdown(ShutdownMode mode, std::function<void()> done);
  void on_timer();  // the driver's timer fired

  // Subscriptions: every task event of `owner` (or of everyone with owner nullopt). `wants`, when
  // given, is asked on the owner thread as each event happens, before the event is built: an event
  // of a kind it declines is neither built nor delivered to this subscriber.
  using EventFilter = std::function<bool(TaskEventKind)>;
  std::uint64_t subscribe(std::optional<std::string> owner, std::function<void(const TaskEvent&)> listener,
                          EventFilter wants = nullptr);
  // The same, with an id the driver chose (drivers that hand out ids from another thread).
  void subscribe_as(std::uint64_t id, std::optional<std::string> owner, std::function<void(const TaskEvent&)> listener);
  void unsubscribe(std::uint64_t subscription);

  const Kernel& kernel() const;
  // Fed from every command and kernel read; its snapshot() may be taken from any thread, and the
  // object outlives the core for whoever holds it. Published after every input, or once per Turn.
  std::shared_ptr<const Metrics> metrics() const;
  // Publishes what the inputs of the open Turn changed now, not at its end: for a driver about to
  // hand an answer to code that may run on another thread before the Turn ends.
  void publish_metrics();
  bool idle() const;  // nothing unfinished, nobody waiting: a driver may let its loop end

 private:
  struct Impl;
  template <class Spec>  // TaskSpec&& or const TaskSpec&
  void admit_spec(Spec&& spec, AdmitDone done);
  std::shared_ptr<Impl> impl_;

 public:
  // One turn of the owner that may make many inputs (a strand handler running a batch of queued
  // calls): metrics are published once, when the outermost Turn ends, not after every input, and
  // before the batch of user callbacks the core posts runs. Work started in the turn may read
  // metrics from before its start. Turns nest. A Turn may outlive its core (a user callback
  // destroyed it); a publication that fails (out of memory) is left to the next one.
  class Turn {
   public:
    explicit Turn(RuntimeCore& core);
    ~Turn();
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;

   private:
    std::shared_ptr<Impl> impl_;
  };

  // Spawns (admit) made while a Batch is open (a strand handler running a batch of queued spawns)
  // drain together when the outermost Batch ends: their commands are carried out once, in the
  // kernel's order, not after each spawn. A spawn that ends a task (one it replaces, or itself,
  // failed by a dependency) or starts one drains at once, and any other input carries out what
  // waits before it and drains after it. Until then idle() is false. end() drains, and throws
  // what a drain throws (out of memory); a Batch destroyed without end() (an input threw) drains
  // and swallows a failure, leaving what it could not carry out to the next input's drain.
  // Batches nest; a Batch may outlive its core (nothing is drained then).
  class Batch {
   public:
    explicit Batch(RuntimeCore& core);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    void end();

   private:
    std::shared_ptr<Impl> impl_;
    bool ended_ = false;
  };
};

}  // namespace tasklane::drivers
