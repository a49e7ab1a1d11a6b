// AttemptJob: one started attempt on its way to a worker: its handler and its context. A plain
// value in the work queue, so that handing an attempt over allocates no closure. The handler is
// the registry's own, not a copy nor a share: whoever runs the job keeps the registry (and the
// reports its outcome goes to) alive for the run — the WorkQueue does, for every job it hands
// out, so that an attempt costs no reference count written by both the owner and a worker.
#pragma once

#include <memory>
#include <utility>

#include "tasklane/drivers/handler_registry.hpp"
#include "work_reports.hpp"

namespace tasklane::drivers {

struct AttemptJob {
  // The context is made in place from `parts` (WorkContext's members, in order): starting an
  // attempt moves no WorkContext before the job reaches the work queue (each move is ~50
  // instructions on the owner's thread, and each moved-from context one more destructor).
  template <class... Parts>
  AttemptJob(const WorkFunction* w, const AsyncWorkFunction* a, Parts&&... parts)
      : work(w), async_work(a), context{std::forward<Parts>(parts)...} {}

  const WorkFunction* work = nullptr;  // one of the two is set; both live in the runtime's registry
  const AsyncWorkFunction* async_work = nullptr;
  WorkContext context;

  // On a worker: runs the handler; its outcome (a failure if it throws) goes to `reports`, with the
  // context when the handler was a WorkFunction (see WorkReport::context; async work keeps the
  // context it was given). The registry behind `work` must outlive the call.
  void operator()(const std::shared_ptr<WorkReports>& reports);
};

}  // namespace tasklane::drivers
