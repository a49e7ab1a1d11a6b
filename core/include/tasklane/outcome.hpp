// Outcome: how one attempt ended, as the driver reports it with Kernel::complete.
#pragma once

#include <string>

#include "tasklane/task_spec.hpp"

namespace tasklane {

struct Outcome {
  bool ok = true;
  Json result;             // when ok
  std::string error;       // when not ok: the message the task ends with
  std::string error_type;  // matched against RetryPolicy::non_retryable_errors
  bool retryable = true;   // false: fail at once, whatever the policy says

  static Outcome success(Json result = nullptr) { return Outcome{true, std::move(result), {}, {}, true}; }
  static Outcome failure(std::string error, bool retryable = true, std::string error_type = {}) {
    return Outcome{false, nullptr, std::move(error), std::move(error_type), retryable};
  }
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

}  // namespace tasklane
