// VirtualTimeHarness: the conformance harness (tests/conformance/driver_harness.hpp) for the
// virtual-time driver, so the suite that the Asio and Qt drivers pass in real time also runs on a
// simulated clock: timeouts, delays and backoffs take no real time there.
//
// The clock carries on from one harness to the next in a test (a restart does not turn time back),
// as the real clock would. Destroying the harness without shutdown() is a crash, as in the others.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "conformance/blocking_call.hpp"
#include "conformance/event_log.hpp"
#include "tasklane/drivers/error_code.hpp"
#include "tasklane/drivers/virtual_time_runtime.hpp"

namespace tasklane::conformance {

class VirtualTimeHarness {
 public:
  static constexpr const char* name = "virtual_time";
  static constexpr bool real_clock = false;

  VirtualTimeHarness(drivers::HandlerRegistry handlers, drivers::RuntimeOptions options)
      : runtime_(std::make_unique<sim::VirtualTimeRuntime>(std::move(options), std::move(handlers), Time{clock_.load()})) {}

  ~VirtualTimeHarness() {
    clock_ = runtime_->now().count();
    runtime_.reset();
  }
  VirtualTimeHarness(const VirtualTimeHarness&) = delete;
  VirtualTimeHarness& operator=(const VirtualTimeHarness&) = delete;

  std::error_code start() {
    runtime_->subscribe(std::nullopt, [this](const drivers::TaskEvent& e) { events_.record(e); });
    auto r = call<std::error_code>("start", [&](auto done) {
      runtime_->start([done](auto recovery) {
        done(recovery ? std::error_code{} : drivers::make_error_code(drivers::errc::stopped));
      });
    });
    return r.value_or(timed_out());
  }

  std::pair<std::error_code, TaskId> spawn(TaskSpec spec) {
    auto r = call<std::pair<std::error_code, TaskId>>("spawn", [&](auto done) {
      runtime_->spawn(std::move(spec), [done](Result<TaskId, SpawnError> result) {
        if (result) {
          done({std::error_code{}, result.value()});
        } else {
          done({drivers::make_error_code(result.error().code), TaskId{}});
        }
      });
    });
    return r.value_or(std::pair{timed_out(), TaskId{}});
  }

  std::pair<std::error_code, TaskInfo> wait(TaskId id) {
    auto r = call<std::pair<std::error_code, TaskInfo>>("wait for " + to_string(id), [&](auto done) {
      runtime_->wait(id, [done](std::optional<TaskInfo> info) {
        if (info) {
          done({std::error_code{}, std::move(*info)});
        } else {
          done({drivers::make_error_code(drivers::errc::unknown_task), TaskInfo{}});
        }
      });
    });
    return r.value_or(std::pair{timed_out(), TaskInfo{}});
  }

  std::pair<std::error_code, std::string> flush(FlushSelector which) {
    auto r = call<std::pair<std::error_code, std::string>>("flush", [&](auto done) {
      runtime_->flush(std::move(which), [done](std::optional<std::string> error) {
        if (error) {
          done({drivers::make_error_code(drivers::errc::task_failed), std::move(*error)});
        } else {
          done({std::error_code{}, std::string()});
        }
      });
    });
    return r.value_or(std::pair{timed_out(), std::string()});
  }

  std::size_t abort(AbortSelector which) {
    auto r = call<std::size_t>("abort", [&](auto done) { runtime_->abort(std::move(which), done); });
    return r.value_or(0);
  }

  std::pair<std::error_code, std::size_t> pause(PauseSelector which, bool resume = false) {
    auto r = call<std::pair<std::error_code, std::size_t>>("pause", [&](auto done) {
      auto answer = [done](drivers::PauseAnswer a) { done(std::pair{a.error, a.tasks}); };
      if (resume) {
        runtime_->resume(std::move(which), answer);
      } else {
        runtime_->pause(std::move(which), answer);
      }
    });
    return r.value_or(std::pair{timed_out(), std::size_t{0}});
  }

  std::error_code send(TaskId to, std::string from, Json message) {
    auto r = call<std::error_code>("send", [&](auto done) {
      runtime_->send(to, std::move(from), std::move(message), [done](Result<void, SendError> result) {
        done(result ? std::error_code{} : drivers::make_error_code(result.error().code));
      });
    });
    return r.value_or(timed_out());
  }

  std::error_code shutdown(ShutdownMode mode) {
    auto r = call<std::error_code>("shutdown", [&](auto done) { runtime_->shutdown(mode, [done] { done({}); }); });
    return r.value_or(timed_out());
  }

  std::vector<drivers::TaskEvent> events() const { return events_.all(); }

  template <class F>
  auto read(F f) {
    using R = decltype(f(std::declval<const Kernel&>()));
    auto r = call<R>("read", [&](auto done) { runtime_->read([f, done](const Kernel& k) { done(f(k)); }); });
    return r ? std::move(*r) : R{};
  }

  sim::VirtualTimeRuntime& runtime() { return *runtime_; }
  drivers::MetricsSnapshot metrics() const { return runtime_->metrics(); }

 private:
  template <class T, class Start>
  std::optional<T> call(const std::string& what, Start start) {
    return blocking_call<T>(name, what, std::move(start));
  }

  // The virtual time the previous harness of this process ended at.
  static inline std::atomic<Time::rep> clock_{1'000'000};

  std::unique_ptr<sim::VirtualTimeRuntime> runtime_;
  EventLog events_;
};

}  // namespace tasklane::conformance
