// QtHarness: the conformance harness (tests/conformance/driver_harness.hpp) for the Qt driver.
//
// The TaskRuntime lives in a QThread of the harness's own, running that thread's event loop; the
// test thread reaches it through an OwnerMailbox of a context object in that thread (not the
// runtime itself, so that a call may delete the runtime) and waits for the answer on a
// std::promise, for at most harness_timeout: a call that does not come back fails the test
// instead of hanging. Both hand-offs are ones ThreadSanitizer can see (Qt's event queue is not). Work runs on
// QThreadPool::globalInstance(), the driver's default (two threads on a two-core machine).
// Destroying the harness without shutdown() is how the suite simulates a crash.
#pragma once

#include <gtest/gtest.h>

#include <QDeadlineTimer>
#include <QObject>
#include <QThread>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "conformance/blocking_call.hpp"
#include "conformance/event_log.hpp"
#include "tasklane/qt/owner_mailbox.hpp"
#include "tasklane/qt/task_runtime.hpp"

namespace tasklane::conformance {

// Where the harness's calls run: an object in the runtime's thread with a mailbox.
class HarnessContext : public QObject {
  Q_OBJECT

 public:
  void post(std::function<void()> f) { mailbox_->post(std::move(f)); }
  Q_INVOKABLE void runPosted();

 private:
  std::shared_ptr<qt::OwnerMailbox> mailbox_ = std::make_shared<qt::OwnerMailbox>(this, "runPosted");
};

class QtHarness {
 public:
  static constexpr const char* name = "qt";
  static constexpr bool real_clock = true;  // the suite checks real elapsed time too

  // `record_events`: events() sees every task event, through a connection to taskEvent. Without
  // it nothing listens to the task signals unless a test connects them, as in most programs.
  QtHarness(drivers::HandlerRegistry handlers, drivers::RuntimeOptions options, QThreadPool* pool = nullptr,
            bool record_events = true)
      : context_(std::make_unique<HarnessContext>()),
        runtime_(new qt::TaskRuntime(std::move(options), std::move(handlers), pool)) {
    if (record_events) {
      QObject::connect(
          runtime_, &qt::TaskRuntime::taskEvent, runtime_,
          [this](const drivers::TaskEvent& e) { events_.record(e); },
          Qt::DirectConnection);
    }
    thread_.setObjectName("tasklane-qt-harness");
    context_->moveToThread(&thread_);
    runtime_->moveToThread(&thread_);
    thread_.start();
  }

  ~QtHarness() {
    const bool deleted = call<bool>("destroy", [this](auto done) {
      delete runtime_;
      runtime_ = nullptr;
      done(true);
    }).has_value();
    thread_.quit();
    if (deleted) {
      thread_.wait();
    } else if (!thread_.wait(QDeadlineTimer(std::chrono::duration_cast<std::chrono::milliseconds>(harness_timeout)))) {
      ADD_FAILURE() << "the runtime's thread did not end";
      thread_.terminate();
      thread_.wait();
    }
  }
  QtHarness(const QtHarness&) = delete;
  QtHarness& operator=(const QtHarness&) = delete;

  std::error_code start() {
    auto r = call<std::error_code>("start", [this](auto done) {
      done(runtime_->start() ? std::error_code{} : drivers::make_error_code(drivers::errc::stopped));
    });
    return r.value_or(timed_out());
  }

  std::pair<std::error_code, TaskId> spawn(TaskSpec spec) {
    auto r = call<std::pair<std::error_code, TaskId>>("spawn", [this, spec = std::move(spec)](auto done) {
      runtime_->spawn(spec, [done](const qt::SpawnReply& reply) { done({reply.error, reply.id}); });
    });
    return r.value_or(std::pair{timed_out(), TaskId{}});
  }

  std::pair<std::error_code, TaskInfo> wait(TaskId id) {
    auto r = call<std::pair<std::error_code, TaskInfo>>("wait for " + to_string(id), [this, id](auto done) {
      runtime_->wait(id, [done](const std::optional<TaskInfo>& info) {
        if (info) {
          done({std::error_code{}, *info});
        } else {
          done({drivers::make_error_code(drivers::errc::unknown_task), TaskInfo{}});
        }
      });
    });
    return r.value_or(std::pair{timed_out(), TaskInfo{}});
  }

  std::pair<std::error_code, std::string> flush(FlushSelector which) {
    auto r = call<std::pair<std::error_code, std::string>>("flush", [this, which = std::move(which)](auto done) {
      runtime_->flush(which, [done](bool ok, const QString& first_error) {
        if (ok) {
          done({std::error_code{}, std::string()});
        } else {
          done({drivers::make_error_code(drivers::errc::task_failed), first_error.toStdString()});
        }
      });
    });
    return r.value_or(std::pair{timed_out(), std::string()});
  }

  std::pair<std::error_code, std::size_t> pause(PauseSelector which, bool resume = false) {
    auto r = call<std::pair<std::error_code, std::size_t>>("pause", [this, which = std::move(which), resume](auto done) {
      const drivers::PauseAnswer a = resume ? runtime_->resume(which) : runtime_->pause(which);
      done(std::pair{a.error, a.tasks});
    });
    return r.value_or(std::pair{timed_out(), std::size_t{0}});
  }

  std::size_t abort(AbortSelector which) {
    auto r = call<std::size_t>("abort", [this, which = std::move(which)](auto done) { done(runtime_->abort(which)); });
    return r.value_or(0);
  }

  std::error_code send(TaskId to, std::string from, Json message) {
    auto r = call<std::error_code>("send", [this, to, from = std::move(from), message = std::move(message)](auto done) {
      done(runtime_->send(to, QString::fromStdString(from), message));
    });
    return r.value_or(timed_out());
  }

  std::error_code shutdown(ShutdownMode mode) {
    auto r = call<std::error_code>("shutdown", [this, mode](auto done) {
      runtime_->shutdown(mode, [done] { done(std::error_code{}); });
    });
    return r.value_or(timed_out());
  }

  std::vector<drivers::TaskEvent> events() const { return events_.all(); }

  template <class F>
  auto read(F f) {
    using R = decltype(f(std::declval<const Kernel&>()));
    auto r = call<R>("read", [this, f = std::move(f)](auto done) { done(f(runtime_->kernel())); });
    return r ? std::move(*r) : R{};
  }

  // Runs f(runtime) on the runtime's thread and returns what it returns (for the Qt facade's own
  // calls: spawnWithFuture, signals, properties).
  template <class F>
  auto on_owner(F f) {
    using R = decltype(f(std::declval<qt::TaskRuntime&>()));
    auto r = call<R>("on_owner", [this, f = std::move(f)](auto done) { done(f(*runtime_)); });
    return r ? std::move(*r) : R{};
  }

  // The runtime, for connecting to its signals (connect is thread-safe; call nothing else on it).
  qt::TaskRuntime* runtime() const { return runtime_; }
  // The runtime's metrics, read from the test's thread (metrics() is safe from any thread).
  drivers::MetricsSnapshot metrics() const { return runtime_->metrics(); }

 private:
  // Runs start(done) on the runtime's thread; start or a callback it registers calls done(value).
  template <class T, class Start>
  std::optional<T> call(const std::string& what, Start start) {
    return blocking_call<T>(name, what, [this, start = std::move(start)](auto done) mutable {
      context_->post([start = std::move(start), done]() mutable { start(done); });
    });
  }

  QThread thread_;
  std::unique_ptr<HarnessContext> context_;  // runs every call; deleted after the thread ends
  qt::TaskRuntime* runtime_;          // lives in thread_, deleted there
  EventLog events_;
};

}  // namespace tasklane::conformance
