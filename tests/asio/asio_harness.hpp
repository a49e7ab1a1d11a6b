// AsioHarness: the conformance harness (tests/conformance/driver_harness.hpp) for the Asio driver.
//
// It owns an io_context run by one thread of its own and a tasklane::asio::runtime on it. Every
// call blocks on a promise the runtime's completion handler fulfils, for at most
// conformance::harness_timeout; a call that times out fails the test instead of hanging.
// Destroying the harness without shutdown() is how the suite simulates a crash: the runtime goes
// away while its work still runs.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "conformance/blocking_call.hpp"
#include "conformance/event_log.hpp"
#include "tasklane/asio/runtime.hpp"

namespace tasklane::conformance {

class AsioHarness {
 public:
  static constexpr const char* name = "asio";
  static constexpr bool real_clock = true;  // the suite checks real elapsed time too

  AsioHarness(drivers::HandlerRegistry handlers, drivers::RuntimeOptions options)
      : guard_(io_.get_executor()),
        runtime_(std::make_unique<asio::runtime>(io_.get_executor(), asio::runtime_options{std::move(options), 2, {}},
                                                 std::move(handlers))),
        loop_([this] { io_.run(); }) {}

  ~AsioHarness() {
    runtime_.reset();
    guard_.reset();
    // With the runtime gone nothing should keep the loop busy for long; stop it if something does.
    const auto until = std::chrono::steady_clock::now() + harness_timeout;
    while (!io_.stopped() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!io_.stopped()) {
      ADD_FAILURE() << "the io_context still had work " << harness_timeout.count() << " s after the runtime died";
      io_.stop();
    }
    loop_.join();
  }
  AsioHarness(const AsioHarness&) = delete;
  AsioHarness& operator=(const AsioHarness&) = delete;

  std::error_code start() {
    runtime_->subscribe(std::nullopt, [this](const drivers::TaskEvent& e) { events_.record(e); });
    auto r = call<std::error_code>(
        "start", [&](auto done) { runtime_->async_start([done](std::error_code ec, const std::string&) { done(ec); }); });
    return r.value_or(timed_out());
  }

  std::pair<std::error_code, TaskId> spawn(TaskSpec spec) {
    auto r = call<std::pair<std::error_code, TaskId>>("spawn", [&](auto done) {
      runtime_->async_spawn(std::move(spec), [done](std::error_code ec, TaskId id) { done({ec, id}); });
    });
    return r.value_or(std::pair{timed_out(), TaskId{}});
  }

  std::pair<std::error_code, TaskInfo> wait(TaskId id) {
    auto r = call<std::pair<std::error_code, TaskInfo>>("wait for " + to_string(id), [&](auto done) {
      runtime_->async_wait(id, [done](std::error_code ec, TaskInfo info) { done({ec, std::move(info)}); });
    });
    return r.value_or(std::pair{timed_out(), TaskInfo{}});
  }

  std::pair<std::error_code, std::string> flush(FlushSelector which) {
    auto r = call<std::pair<std::error_code, std::string>>("flush", [&](auto done) {
      runtime_->async_flush(std::move(which), [done](std::error_code ec, std::string error) { done({ec, std::move(error)}); });
    });
    return r.value_or(std::pair{timed_out(), std::string()});
  }

  std::size_t abort(AbortSelector which) {
    auto r = call<std::size_t>("abort", [&](auto done) {
      runtime_->async_abort(std::move(which), [done](std::error_code, std::size_t n) { done(n); });
    });
    return r.value_or(0);
  }

  std::pair<std::error_code, std::size_t> pause(PauseSelector which, bool resume = false) {
    auto r = call<std::pair<std::error_code, std::size_t>>("pause", [&](auto done) {
      auto answer = [done](std::error_code ec, std::size_t n) { done(std::pair{ec, n}); };
      if (resume) {
        runtime_->async_resume(std::move(which), answer);
      } else {
        runtime_->async_pause(std::move(which), answer);
      }
    });
    return r.value_or(std::pair{timed_out(), std::size_t{0}});
  }

  std::error_code send(TaskId to, std::string from, Json message) {
    auto r = call<std::error_code>("send", [&](auto done) {
      runtime_->async_send(to, std::move(from), std::move(message), [done](std::error_code ec) { done(ec); });
    });
    return r.value_or(timed_out());
  }

  std::error_code shutdown(ShutdownMode mode) {
    auto r = call<std::error_code>("shutdown", [&](auto done) {
      runtime_->async_shutdown(mode, [done](std::error_code ec) { done(ec); });
    });
    return r.value_or(timed_out());
  }

  std::vector<drivers::TaskEvent> events() const { return events_.all(); }

  template <class F>
  auto read(F f) {
    using R = decltype(f(std::declval<const Kernel&>()));
    auto r = call<R>("read", [&](auto done) { runtime_->async_read(std::move(f), [done](R value) { done(std::move(value)); }); });
    return r ? std::move(*r) : R{};
  }

  asio::runtime& runtime() { return *runtime_; }
  drivers::MetricsSnapshot metrics() const { return runtime_->metrics(); }

 private:
  template <class T, class Start>
  std::optional<T> call(const std::string& what, Start start) {
    return blocking_call<T>(name, what, std::move(start));
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<asio::runtime> runtime_;
  EventLog events_;
  std::thread loop_;
};

}  // namespace tasklane::conformance
