// The contract every real driver's test harness fulfils, so that one conformance suite
// (conformance_suite.hpp) runs against the Asio driver, the Qt driver and the virtual-time driver
// (drivers/virtual_time_runtime.hpp) alike.
//
// A harness owns one runtime of its driver, runs the driver's loop on its own (a thread running an
// io_context, or a QThread / the test's QCoreApplication), and offers blocking calls with a bounded
// wait: each call fails the test (ADD_FAILURE) rather than hangs when the driver does not answer
// within `harness_timeout`.
//
//   template <class H> concept DriverHarness = requires(H h, ...) {
//     H(tasklane::drivers::HandlerRegistry handlers, tasklane::drivers::RuntimeOptions options);
//     { h.start() } -> std::same_as<std::error_code>;            // open the data dir and restore
//     { h.spawn(spec) } -> std::same_as<std::pair<std::error_code, tasklane::TaskId>>;
//     { h.wait(id) } -> std::same_as<std::pair<std::error_code, tasklane::TaskInfo>>;  // until terminal
//     { h.flush(selector) } -> std::same_as<std::pair<std::error_code, std::string>>;  // errc::task_failed + first error
//     { h.abort(selector) } -> std::same_as<std::size_t>;
//     { h.pause(selector, resume = false) } -> std::same_as<std::pair<std::error_code, std::size_t>>;  // Kernel::pause, or resume
//     { h.send(id, from, message) } -> std::same_as<std::error_code>;
//     { h.shutdown(mode) } -> std::same_as<std::error_code>;      // returns when Stopped
//     { h.events() } -> std::same_as<std::vector<tasklane::drivers::TaskEvent>>;  // all, in order, since start
//     { h.read(fn) } -> runs fn(const tasklane::Kernel&) on the owner thread, returns its value
//     { h.metrics() } -> std::same_as<tasklane::drivers::MetricsSnapshot>;  // the driver's metrics(), from the test thread
//     { H::name } -> a const char* for test names ("asio", "qt", "virtual_time")
//     { H::real_clock } -> a constexpr bool: the driver's clock is the real one (the suite then
//                          also checks elapsed real time; on a virtual clock only the driver's times)
//   };
//
// Error codes are tasklane::drivers::errc (drivers/include/tasklane/drivers/error_code.hpp).
#pragma once

#include <chrono>

namespace tasklane::conformance {

inline constexpr std::chrono::seconds harness_timeout{20};

}  // namespace tasklane::conformance
