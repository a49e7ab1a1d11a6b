// How a conformance harness waits for its driver: start an operation whose completion calls
// done(value), then wait for that value at most harness_timeout. A driver that does not answer
// fails the test instead of hanging it.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "conformance/driver_harness.hpp"

namespace tasklane::conformance {

// What a harness answers for an operation whose driver never answered.
inline std::error_code timed_out() { return std::make_error_code(std::errc::timed_out); }

template <class T, class Start>
std::optional<T> blocking_call(const char* driver, const std::string& what, Start start) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  start([promise](T value) { promise->set_value(std::move(value)); });
  if (future.wait_for(harness_timeout) != std::future_status::ready) {
    ADD_FAILURE() << "the " << driver << " runtime did not answer " << what << " within " << harness_timeout.count()
                  << " s";
    return std::nullopt;
  }
  return future.get();
}

}  // namespace tasklane::conformance
