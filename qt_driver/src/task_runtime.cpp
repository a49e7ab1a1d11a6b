// The Qt shell around RuntimeCore: the owner thread, one QTimer, a QThreadPool, and the Qt facade
// (signals, properties, QFutures). Everything else happens in drivers::RuntimeCore.
#include "tasklane/qt/task_runtime.hpp"

#include <QFutureWatcher>
#include <QMetaMethod>
#include <QPromise>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <utility>

#include "pool_work.hpp"
#include "tasklane/qt/json_variant.hpp"
#include "tasklane/qt/owner_mailbox.hpp"

// Chromium's sequence_checker, for a Qt thread: debug builds stop at the first call from a thread
// that does not own the runtime, which would otherwise be a silent data race on the kernel.
#ifndef NDEBUG
#define TASKLANE_QT_ON_OWNER_THREAD()                                                                        \
  (QThread::currentThread() == thread()                                                                     \
       ? void()                                                                                              \
       : qt_assert_x("tasklane::qt::TaskRuntime", "called from a thread other than the one it lives in", \
                     __FILE__, __LINE__))
#else
#define TASKLANE_QT_ON_OWNER_THREAD() void()
#endif

namespace tasklane::qt {
namespace {

constexpr int progress_scale = 1000;

QString qstr(const std::string& s) { return QString::fromStdString(s); }

Time system_now() { return std::chrono::duration_cast<Time>(std::chrono::system_clock::now().time_since_epoch()); }

// One spawnWithFuture() call: the promise behind its future, until the task is terminal.
struct FutureTask {
  QPromise<TaskInfo> promise;
  std::optional<TaskId> id;  // once the spawn is answered
  bool settled = false;      // the runtime finished the future: a cancel seen now is Qt's, not the user's
};

// The signals whose arguments cost something to build: one per TaskEventKind, in its order, then
// taskEvent (which carries every kind), then the two counts.
constexpr std::size_t every_kind = 5;
constexpr std::size_t running_count = 6;
constexpr std::size_t pending_count = 7;
const QMetaMethod& costly_signal(std::size_t i) {
  static const std::array<QMetaMethod, 8> methods{
      QMetaMethod::fromSignal(&TaskRuntime::taskSpawned),         QMetaMethod::fromSignal(&TaskRuntime::taskStarted),
      QMetaMethod::fromSignal(&TaskRuntime::taskProgress),        QMetaMethod::fromSignal(&TaskRuntime::taskFinished),
      QMetaMethod::fromSignal(&TaskRuntime::inboxMessage),        QMetaMethod::fromSignal(&TaskRuntime::taskEvent),
      QMetaMethod::fromSignal(&TaskRuntime::runningCountChanged), QMetaMethod::fromSignal(&TaskRuntime::pendingCountChanged)};
  return methods.at(i);
}
constexpr unsigned bit(std::size_t i) { return 1u << i; }
constexpr unsigned bit(drivers::TaskEventKind kind) { return bit(static_cast<std::size_t>(kind)); }

}  // namespace

QString idString(TaskId id) { return qstr(tasklane::to_string(id)); }

struct TaskRuntime::Private {
  Private(TaskRuntime* owner, QThreadPool* p)
      : pool(p ? p : QThreadPool::globalInstance()),
        mailbox(std::make_shared<OwnerMailbox>(owner, "drainMailbox")),
        work(std::make_shared<PoolWork>(pool)),
        timer(owner) {}

  QThreadPool* pool;
  std::shared_ptr<OwnerMailbox> mailbox;
  std::shared_ptr<PoolWork> work;
  QTimer timer;
  std::optional<Time> armed;
  std::unique_ptr<drivers::RuntimeCore> core;
  std::shared_ptr<const drivers::Metrics> metrics;  // the core's; read from any thread
  std::map<TaskId, std::shared_ptr<FutureTask>> futures;
  quint64 next_flush = 1;
  int running = 0;  // the counts last announced by the NOTIFY signals
  int pending = 0;
  int posted_running = 0;  // the counts last handed to the mailbox for announcing
  int posted_pending = 0;
  int count_posts_queued = 0;  // count posts in the mailbox, not run yet (never run once it closed)
  // Which costly signals are connected (bit i: costly_signal(i)), as of connections_seen; worked out
  // again once connectNotify or disconnectNotify, from any thread, moved connections_changed_ on.
  std::uint64_t connections_seen = ~std::uint64_t{0};
  unsigned connected = 0;
  int unsettled_futures = 0;  // spawnWithFuture() futures not finished yet: they follow progress

  // Re-arms the one timer only when the deadline moved. A timer that fires early just finds
  // nothing due and is armed again for the same deadline; that is also how a deadline further
  // away than a QTimer's int milliseconds can reach is followed, a day at a time.
  void arm(std::optional<Time> at) {
    if (at == armed) return;
    armed = at;
    if (!at) {
      timer.stop();
      return;
    }
    const Duration delay = std::clamp(*at - system_now(), Duration{0}, Duration{std::chrono::hours(24)});
    timer.start(std::chrono::ceil<std::chrono::milliseconds>(delay));
  }
};

TaskRuntime::TaskRuntime(drivers::RuntimeOptions options, drivers::HandlerRegistry handlers, QThreadPool* pool,
                         QObject* parent)
    : QObject(parent), d_(std::make_unique<Private>(this, pool)) {
  d_->timer.setSingleShot(true);
  d_->timer.setTimerType(Qt::PreciseTimer);
  connect(&d_->timer, &QTimer::timeout, this, [this] {
    d_->armed.reset();
    d_->core->on_timer();
  });

  drivers::RuntimeHooks hooks;
  hooks.run_work = [work = d_->work](std::function<void()> f) { work->start(std::move(f)); };
  hooks.to_owner = [mailbox = d_->mailbox](std::function<void()> f) { mailbox->post(std::move(f)); };
  hooks.arm_timer = [this](std::optional<Time> at) {
    d_->arm(at);
    // Called at the end of every drain. The counts are taken now, so that their signals follow the
    // task events of this drain, and emitted later, because no signal may fire inside a drain.
    const int running = runningCount();
    const int pending = pendingCount();
    if (running == d_->posted_running && pending == d_->posted_pending) return;
    d_->posted_running = running;
    d_->posted_pending = pending;
    // Nobody listens and no earlier post is still queued (it would overwrite them): the counts
    // are announced as they are, with no post.
    if (d_->count_posts_queued == 0 && (connectedSignals() & (bit(running_count) | bit(pending_count))) == 0) {
      d_->running = running;
      d_->pending = pending;
      return;
    }
    ++d_->count_posts_queued;
    d_->mailbox->post([this, running, pending] {
      --d_->count_posts_queued;
      if (running != d_->running) Q_EMIT runningCountChanged(d_->running = running);
      if (pending != d_->pending) Q_EMIT pendingCountChanged(d_->pending = pending);
    });
  };
  hooks.now = &system_now;
  // Read once: a pool that is given more threads later still gets at most this many drainers.
  hooks.work_threads = static_cast<std::size_t>(std::max(1, d_->pool->maxThreadCount()));
  d_->core = std::make_unique<drivers::RuntimeCore>(std::move(options), std::move(handlers), std::move(hooks));
  d_->metrics = d_->core->metrics();

  d_->core->subscribe(
      std::nullopt,
      [this](const drivers::TaskEvent& e) {
        // The QStrings and QVariants of a signal are built only when something listens to it.
        Q_EMIT taskEvent(e);
        const bool heard = isSignalConnected(costly_signal(static_cast<std::size_t>(e.kind)));
        // A bit left set by a disconnect seen before the connection was gone: worked out anew at
        // the next event.
        const bool stale = (!heard && (d_->connected & bit(e.kind)) != 0) ||
                           ((d_->connected & bit(every_kind)) != 0 && !isSignalConnected(costly_signal(every_kind)));
        if (stale) d_->connections_seen = ~std::uint64_t{0};
        switch (e.kind) {
          case drivers::TaskEventKind::Spawned:
            if (heard) Q_EMIT taskSpawned(idString(e.id), qstr(e.task_kind), qstr(e.owner));
            break;
          case drivers::TaskEventKind::Started:
            if (heard) Q_EMIT taskStarted(idString(e.id), qstr(e.task_kind), static_cast<int>(e.attempt));
            break;
          case drivers::TaskEventKind::Progress:
            if (const auto it = d_->futures.find(e.id); it != d_->futures.end()) {
              it->second->promise.setProgressValueAndText(static_cast<int>(e.progress * progress_scale), qstr(e.message));
            }
            if (heard) Q_EMIT taskProgress(idString(e.id), e.progress, qstr(e.message));
            break;
          case drivers::TaskEventKind::Finished:
            if (heard) {
              Q_EMIT taskFinished(idString(e.id), QString::fromUtf8(tasklane::to_string(e.status)), toVariant(e.data),
                                  e.error ? qstr(*e.error) : QString());
            }
            break;
          case drivers::TaskEventKind::Inbox:
            if (heard) Q_EMIT inboxMessage(idString(e.id), qstr(e.message), toVariant(e.data));
            break;
        }
      },
      [this](drivers::TaskEventKind kind) { return listensTo(kind); });
}

void TaskRuntime::connectNotify(const QMetaMethod&) { connections_changed_.fetch_add(1, std::memory_order_release); }
void TaskRuntime::disconnectNotify(const QMetaMethod&) { connections_changed_.fetch_add(1, std::memory_order_release); }

// Qt calls connectNotify after it added the connection, so a change count read before
// isSignalConnected never hides a connection from the answer: at worst the next call works the
// answer out once more. (disconnectNotify may come before the connection is gone: a bit can then
// stay set, which costs events built for nobody until the listener notices, see subscribe above.)
unsigned TaskRuntime::connectedSignals() {
  const std::uint64_t changed = connections_changed_.load(std::memory_order_acquire);
  if (changed != d_->connections_seen) {
    d_->connections_seen = changed;
    d_->connected = 0;
    for (std::size_t i = 0; i <= pending_count; ++i) {
      if (isSignalConnected(costly_signal(i))) d_->connected |= bit(i);
    }
  }
  return d_->connected;
}

// Asked by the core as each event happens.
bool TaskRuntime::listensTo(drivers::TaskEventKind kind) {
  if (kind == drivers::TaskEventKind::Progress && d_->unsettled_futures > 0) return true;
  return (connectedSignals() & (bit(every_kind) | bit(kind))) != 0;
}

TaskRuntime::~TaskRuntime() {
  TASKLANE_QT_ON_OWNER_THREAD();
  d_->mailbox->close();  // from here on nothing posted back runs, and late posts are dropped
  d_->timer.stop();
  d_->core.reset();  // fires every running attempt's cancellation token
  d_->futures.clear();  // an unfinished QPromise cancels its future when destroyed
  d_->work->close_and_wait();
}

bool TaskRuntime::start(QString* error) {
  TASKLANE_QT_ON_OWNER_THREAD();
  auto recovered = d_->core->start();
  if (!recovered && error) *error = qstr(recovered.error().message);
  return static_cast<bool>(recovered);
}

void TaskRuntime::spawn(const TaskSpec& spec, SpawnCallback done) {
  TASKLANE_QT_ON_OWNER_THREAD();
  if (!done) return d_->core->admit(spec, nullptr);  // no reply wanted: none is queued
  d_->core->admit(spec, [done = std::move(done)](Result<Admission, SpawnError> result) {
    SpawnReply reply;
    if (result) {
      reply.id = result.value().id;
      reply.deduplicated = result.value().deduplicated;
      reply.replaced = result.value().replaced;
    } else {
      reply.error = drivers::make_error_code(result.error().code);
      reply.message = qstr(result.error().message);
    }
    done(reply);
  });
}

QFuture<TaskInfo> TaskRuntime::spawnWithFuture(const TaskSpec& spec) {
  TASKLANE_QT_ON_OWNER_THREAD();
  auto task = std::make_shared<FutureTask>();
  task->promise.start();
  task->promise.setProgressRange(0, progress_scale);
  QFuture<TaskInfo> future = task->promise.future();

  // The future's consumer may cancel it from any thread; the watcher brings that here.
  auto* watcher = new QFutureWatcher<TaskInfo>(this);
  connect(watcher, &QFutureWatcherBase::canceled, this, [this, weak = std::weak_ptr<FutureTask>(task)] {
    // Qt also reports a future that got an exception as canceled: only a user's cancel counts.
    if (auto t = weak.lock(); t && t->id && !t->settled) cancel(*t->id);
  });
  connect(watcher, &QFutureWatcherBase::finished, watcher, &QObject::deleteLater);
  watcher->setFuture(future);

  ++d_->unsettled_futures;
  auto settle = [this, task](const std::optional<TaskInfo>& info) {
    task->settled = true;
    --d_->unsettled_futures;
    if (task->id) d_->futures.erase(*task->id);
    if (!info) {
      task->promise.setException(std::make_exception_ptr(
          TaskError(drivers::make_error_code(drivers::errc::unknown_task), "the runtime no longer knows the task")));
    } else if (info->status == TaskStatus::Completed) {
      task->promise.setProgressValue(progress_scale);
      task->promise.addResult(*info);
    } else if (info->status == TaskStatus::Cancelled) {
      task->promise.future().cancel();
    } else if (!is_terminal(info->status)) {  // the runtime stopped first: this task will not end here
      task->promise.setException(std::make_exception_ptr(TaskError(
          drivers::make_error_code(drivers::errc::stopped), "the runtime stopped before the task ended", *info)));
    } else {
      task->promise.setException(std::make_exception_ptr(
          TaskError(drivers::make_error_code(drivers::errc::task_failed), info->error.value_or("task failed"), *info)));
    }
    task->promise.finish();
  };

  spawn(spec, [this, task, settle](const SpawnReply& reply) {
    if (!reply.ok()) {
      task->settled = true;
      --d_->unsettled_futures;
      task->promise.setException(std::make_exception_ptr(TaskError(reply.error, reply.message.toStdString())));
      task->promise.finish();
      return;
    }
    task->id = reply.id;
    d_->futures[reply.id] = task;
    // Cancelled before the spawn was answered (a durable spawn waits for its sync).
    if (task->promise.isCanceled()) cancel(reply.id);
    d_->core->wait(reply.id, settle);
  });
  return future;
}

void TaskRuntime::wait(TaskId id, WaitCallback done) {
  TASKLANE_QT_ON_OWNER_THREAD();
  d_->core->wait(id, [done = std::move(done)](std::optional<TaskInfo> info) { done(info); });
}

bool TaskRuntime::cancel(const QString& id) {
  TASKLANE_QT_ON_OWNER_THREAD();
  const auto parsed = parse_task_id(id.toStdString());
  return parsed && cancel(*parsed);
}

bool TaskRuntime::cancel(TaskId id) {
  TASKLANE_QT_ON_OWNER_THREAD();
  return d_->core->cancel(id);
}

int TaskRuntime::cancelTree(const QString& id) {
  TASKLANE_QT_ON_OWNER_THREAD();
  const auto parsed = parse_task_id(id.toStdString());
  return parsed ? cancelTree(*parsed) : 0;
}

int TaskRuntime::cancelTree(TaskId id) {
  TASKLANE_QT_ON_OWNER_THREAD();
  return static_cast<int>(d_->core->abort(abort_selector::Tree{id}));
}

std::size_t TaskRuntime::abort(const AbortSelector& which) {
  TASKLANE_QT_ON_OWNER_THREAD();
  return d_->core->abort(which);
}

drivers::PauseAnswer TaskRuntime::pause(const PauseSelector& which) {
  TASKLANE_QT_ON_OWNER_THREAD();
  return d_->core->pause(which);
}

drivers::PauseAnswer TaskRuntime::resume(const PauseSelector& which) {
  TASKLANE_QT_ON_OWNER_THREAD();
  return d_->core->resume(which);
}

quint64 TaskRuntime::flush(const FlushSelector& which, FlushCallback done) {
  TASKLANE_QT_ON_OWNER_THREAD();
  const quint64 number = d_->next_flush++;
  d_->core->flush(which, [this, number, done = std::move(done)](std::optional<std::string> first_error) {
    const QString error = first_error ? qstr(*first_error) : QString();
    if (done) done(!first_error, error);
    Q_EMIT flushFinished(number, !first_error, error);
  });
  return number;
}

QString TaskRuntime::send(const QString& to, const QString& from, const QVariant& message) {
  TASKLANE_QT_ON_OWNER_THREAD();
  const auto parsed = parse_task_id(to.toStdString());
  if (!parsed) return qstr(drivers::make_error_code(drivers::errc::task_not_found).message());
  auto result = d_->core->send(*parsed, from.toStdString(), toJson(message));
  return result ? QString() : qstr(result.error().message);
}

std::error_code TaskRuntime::send(TaskId to, const QString& from, const Json& message) {
  TASKLANE_QT_ON_OWNER_THREAD();
  auto result = d_->core->send(to, from.toStdString(), message);
  return result ? std::error_code{} : drivers::make_error_code(result.error().code);
}

void TaskRuntime::poke(const std::optional<QString>& session, const QString& reason) {
  TASKLANE_QT_ON_OWNER_THREAD();
  d_->core->poke(session ? std::optional<std::string>(session->toStdString()) : std::nullopt, reason.toStdString());
}

void TaskRuntime::completeSession(const QString& session, const QString& reason) {
  TASKLANE_QT_ON_OWNER_THREAD();
  d_->core->complete_session(session.toStdString(), reason.toStdString());
}

void TaskRuntime::shutdown(ShutdownMode mode, DoneCallback done) {
  TASKLANE_QT_ON_OWNER_THREAD();
  d_->core->shutdown(mode, [this, done = std::move(done)] {
    if (done) done();
    Q_EMIT stopped();
  });
}

int TaskRuntime::runningCount() const {
  TASKLANE_QT_ON_OWNER_THREAD();
  return static_cast<int>(d_->core->kernel().running());
}

int TaskRuntime::pendingCount() const {
  TASKLANE_QT_ON_OWNER_THREAD();
  return static_cast<int>(d_->core->kernel().unfinished() - d_->core->kernel().running());
}

const Kernel& TaskRuntime::kernel() const {
  TASKLANE_QT_ON_OWNER_THREAD();
  return d_->core->kernel();
}

drivers::MetricsSnapshot TaskRuntime::metrics() const { return d_->metrics->snapshot(); }

void TaskRuntime::drainMailbox() {
  const std::shared_ptr<OwnerMailbox> keep = d_->mailbox;  // a closure may destroy this runtime
  keep->run_posted();
}

}  // namespace tasklane::qt
