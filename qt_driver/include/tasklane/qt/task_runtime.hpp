// tasklane::qt::TaskRuntime: tasklane inside a Qt program.
//
// A QObject that owns the kernel in the thread it lives in (its thread(): the main thread, or a
// QThread you moved it to). One single-shot QTimer follows the kernel's next deadline; work runs
// on a QThreadPool (the global one unless you give one) and its outcome comes back to the owner
// thread as a queued call. Task events are signals, results are QFutures, and persistence is the
// same file journal every driver uses (RuntimeOptions::data_dir).
//
//   tasklane::drivers::HandlerRegistry handlers;
//   handlers.add("extract_facts", [](tasklane::drivers::WorkContext& ctx) {
//     ctx.progress(0.5, "reading the turn");
//     return tasklane::Outcome::success({{"facts", 3}});
//   });
//   tasklane::qt::TaskRuntime runtime({.data_dir = "agent-data"}, std::move(handlers));
//   QObject::connect(&runtime, &tasklane::qt::TaskRuntime::taskFinished, &app,
//                    [](const QString& id, const QString& status, const QVariant& result, const QString& error) { ... });
//   if (QString why; !runtime.start(&why)) qFatal("%s", qPrintable(why));
//   QFuture<tasklane::TaskInfo> facts = runtime.spawnWithFuture(spec);
//
// Threading: every member function must be called on the owner thread (debug builds assert it);
// from elsewhere, use QMetaObject::invokeMethod(&runtime, ..., Qt::QueuedConnection). Signals and
// callbacks run on the owner thread, never inside the kernel's command loop, so they may call back
// into the runtime (to destroy it from one of them, use deleteLater()). The destructor cancels
// running work and waits for the work functions that are executing to return, so work must honour
// its cancellation token; unfinished futures end canceled.
//
// A task signal is sure to reach the connections that existed when its event happened, as a queued
// signal does: one connected after spawn() returned may not hear that task's taskSpawned. (Events
// nothing listens to are not built at all; a connection from any thread counts from the next event on.)
#pragma once

#include <QFuture>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QVariant>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "tasklane/drivers/error_code.hpp"
#include "tasklane/drivers/runtime_core.hpp"
#include "tasklane/drivers/task_event.hpp"

namespace tasklane::qt {

// How spawn() answers: the new task's id, or why it was refused.
struct SpawnReply {
  TaskId id;              // valid when ok()
  std::error_code error;  // a tasklane::drivers::errc when refused
  QString message;        // the refusal's message, saying what to fix
  bool deduplicated = false;       // a live task held the spec's dedup key: `id` is that task
  std::optional<TaskId> replaced;  // DedupMode::ReplacePending: the pending task the new one replaced
  bool ok() const { return !error; }
};

// What QFuture::result() throws for a task that did not complete: errc::task_failed (with the
// finished task) for Failed and TimedOut, errc::stopped (with the task as it was) when the runtime
// stopped first, the refusal's code for a spawn that was refused, errc::unknown_task when the
// runtime forgot the task. A Cancelled task cancels its future instead. (Qt marks a future that
// holds an exception as canceled too: test isCanceled() only after ruling the exception out.)
class TaskError : public std::runtime_error {
 public:
  TaskError(std::error_code code, const std::string& message, std::optional<TaskInfo> info = std::nullopt)
      : std::runtime_error(message), code_(code), info_(std::move(info)) {}
  std::error_code code() const { return code_; }
  const std::optional<TaskInfo>& info() const { return info_; }

 private:
  std::error_code code_;
  std::optional<TaskInfo> info_;
};

QString idString(TaskId id);  // "bg_7"

class TaskRuntime : public QObject {
  Q_OBJECT
  Q_PROPERTY(int runningCount READ runningCount NOTIFY runningCountChanged)
  Q_PROPERTY(int pendingCount READ pendingCount NOTIFY pendingCountChanged)

 public:
  using SpawnCallback = std::function<void(const tasklane::qt::SpawnReply&)>;
  using FlushCallback = std::function<void(bool ok, const QString& firstError)>;
  using WaitCallback = std::function<void(const std::optional<tasklane::TaskInfo>&)>;
  using DoneCallback = std::function<void()>;

  // `pool` is not owned; it must outlive the runtime. nullptr: QThreadPool::globalInstance().
  explicit TaskRuntime(tasklane::drivers::RuntimeOptions options, tasklane::drivers::HandlerRegistry handlers,
                       QThreadPool* pool = nullptr, QObject* parent = nullptr);
  ~TaskRuntime() override;

  // Opens the data directory (if any) and restores it. Call once, on the owner thread, before the
  // rest. False (with the reason in *error) when the directory cannot be opened or is damaged.
  bool start(QString* error = nullptr);

  // Accepts a task; `done` gets its id, or the refusal. A durable task is answered only once its
  // record is synced to disk. Without `done` no answer is made (a refusal then shows in the metrics
  // and the log: "unanswered_spawn_refused").
  Q_INVOKABLE void spawn(const tasklane::TaskSpec& spec, tasklane::qt::TaskRuntime::SpawnCallback done = {});

  // The same, as a future: progress 0..1000 follows the task's progress events, the result is the
  // finished TaskInfo of a Completed task; see TaskError for the rest. Cancelling the future
  // cancels the task.
  QFuture<tasklane::TaskInfo> spawnWithFuture(const tasklane::TaskSpec& spec);

  // `done` runs once the task is terminal (at once when it already is; nullopt when unknown).
  void wait(tasklane::TaskId id, WaitCallback done);

  // False for an unknown task, a terminal one, or one already being cancelled.
  Q_INVOKABLE bool cancel(const QString& id);
  bool cancel(tasklane::TaskId id);
  // Cancels a task and every live descendant; answers how many were newly cancelled.
  Q_INVOKABLE int cancelTree(const QString& id);
  int cancelTree(tasklane::TaskId id);
  // Any selector: a task, a tree, an owner, a run, all.
  std::size_t abort(const tasklane::AbortSelector& which);

  // Pauses the queued work of an owner or a purpose (Kernel::pause): it stays pending, keeps its
  // place, and so does work spawned later under the rule; answers how many were newly paused.
  // resume lifts the rule and answers how many became ready again.
  // The answer's error is errc::not_persisted when the rule holds but could not be made durable.
  tasklane::drivers::PauseAnswer pause(const tasklane::PauseSelector& which);
  tasklane::drivers::PauseAnswer resume(const tasklane::PauseSelector& which);

  // Waits for the selected tasks; `done` and flushFinished follow once every one is terminal,
  // with the first error among them. Answers the number flushFinished will carry.
  Q_INVOKABLE quint64 flush(const tasklane::FlushSelector& which = tasklane::FlushSelector{},
                            tasklane::qt::TaskRuntime::FlushCallback done = {});

  // Puts a message into a running sub-agent's inbox. Answers an empty string when delivered,
  // else why not (not found, not the owner, finished, no inbox, inbox closed).
  Q_INVOKABLE QString send(const QString& to, const QString& from, const QVariant& message);
  std::error_code send(tasklane::TaskId to, const QString& from, const tasklane::Json& message);

  // The queued-work runner (seed 001): see Kernel::poke and Kernel::complete_session.
  void poke(const std::optional<QString>& session, const QString& reason);
  void completeSession(const QString& session, const QString& reason);

  // Stops starting work, drains (or cancels) what runs, persists what is pending; then `done`
  // runs and stopped() is emitted.
  Q_INVOKABLE void shutdown(tasklane::ShutdownMode mode = tasklane::ShutdownMode::Drain,
                            tasklane::qt::TaskRuntime::DoneCallback done = {});

  int runningCount() const;  // attempts running now
  int pendingCount() const;  // accepted tasks waiting to start (or to retry)
  const tasklane::Kernel& kernel() const;  // for reads: get, list, stats
  // Counters, gauges and the start-lag histogram (see drivers/metrics.hpp); safe from any thread.
  tasklane::drivers::MetricsSnapshot metrics() const;

 Q_SIGNALS:
  // Every task event, as every driver reports it (spawned, started, progress, finished, inbox).
  void taskEvent(const tasklane::drivers::TaskEvent& event);
  void taskSpawned(const QString& id, const QString& kind, const QString& owner);
  void taskStarted(const QString& id, const QString& kind, int attempt);
  void taskProgress(const QString& id, double fraction, const QString& message);
  // status: "completed", "failed", "cancelled" or "timed_out".
  void taskFinished(const QString& id, const QString& status, const QVariant& result, const QString& error);
  void inboxMessage(const QString& id, const QString& from, const QVariant& message);
  void flushFinished(quint64 flush, bool ok, const QString& firstError);
  void stopped();
  void runningCountChanged(int count);
  void pendingCountChanged(int count);

 protected:
  // Any thread: marks which signals are connected as stale (see connectedSignals).
  void connectNotify(const QMetaMethod& signal) override;
  void disconnectNotify(const QMetaMethod& signal) override;

 private:
  // Runs what the workers and the runtime core handed back to this thread (see OwnerMailbox).
  Q_INVOKABLE void drainMailbox();
  // The signals with costly arguments that are connected now, as bits (see task_runtime.cpp).
  unsigned connectedSignals();
  // Whether anything would hear an event of `kind` now (the core builds only those).
  bool listensTo(tasklane::drivers::TaskEventKind kind);

  struct Private;
  std::unique_ptr<Private> d_;
  // Moved on by connectNotify/disconnectNotify, from any thread. A member of its own, not in d_:
  // Qt may call disconnectNotify for a receiver destroyed in another thread while this object's
  // destructor runs, until QObject's own destructor has disconnected everything.
  std::atomic<std::uint64_t> connections_changed_{0};
};

}  // namespace tasklane::qt
