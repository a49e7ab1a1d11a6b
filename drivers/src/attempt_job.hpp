// AttemptJob: one started attempt on its way to a worker: its handler, its context, and where its
// outcome goes. A plain value in the work queue, so that handing an attempt over allocates no
// closure; the handler is shared with the registry (which the job keeps alive: with an executor of
// the user's, work may begin after the runtime is gone) rather than copied.
#pragma once

#include <memory>

#include "tasklane/drivers/handler_registry.hpp"
#include "work_reports.hpp"

namespace tasklane::drivers {

struct AttemptJob {
  std::shared_ptr<const WorkFunction> work;  // one of the two is set
  std::shared_ptr<const AsyncWorkFunction> async_work;
  WorkContext context;
  std::shared_ptr<WorkReports> reports;

  // On a worker: runs the handler; its outcome (a failure if it throws) goes to `reports`.
  void operator()();
};

}  // namespace tasklane::drivers
