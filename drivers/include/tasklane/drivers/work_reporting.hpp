// WorkProgress and WorkHeartbeat: how running work talks to its runtime, from any thread
// (WorkContext::progress and WorkContext::heartbeat). Plain values holding where the reports go and
// which attempt sends them, so that starting an attempt builds no closure for them (a std::function
// holding the same would be one heap allocation each). Default-constructed ones do nothing: a
// WorkContext made by hand, in a test of a handler, can be passed as is.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "tasklane/task_id.hpp"

namespace tasklane::drivers {

class WorkReports;

class WorkProgress {
 public:
  WorkProgress() = default;
  WorkProgress(std::shared_ptr<WorkReports> reports, TaskId id, std::uint32_t attempt)
      : reports_(std::move(reports)), id_(id), attempt_(attempt) {}
  // `fraction` in 0..1; subscribers see it as a Progress event.
  void operator()(double fraction, std::string message) const;

 private:
  std::shared_ptr<WorkReports> reports_;
  TaskId id_;
  std::uint32_t attempt_ = 0;
};

class WorkHeartbeat {
 public:
  WorkHeartbeat() = default;
  // For an attempt whose spec has a heartbeat interval.
  WorkHeartbeat(std::shared_ptr<WorkReports> reports, TaskId id, std::uint32_t attempt)
      : reports_(std::move(reports)), in_flight_(std::make_shared<std::atomic<bool>>(false)), id_(id), attempt_(attempt) {}
  // At most one beat is on its way to the owner at a time; the rest fold into it. Beats travel with
  // the attempt's other reports, so that none is seen after its outcome.
  void operator()() const;

 private:
  std::shared_ptr<WorkReports> reports_;
  std::shared_ptr<std::atomic<bool>> in_flight_;
  TaskId id_;
  std::uint32_t attempt_ = 0;
};

}  // namespace tasklane::drivers
