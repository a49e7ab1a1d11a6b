// WorkReports: what running work tells its runtime (progress, heartbeats, the outcome), carried from the
// workers to the owner in batches (HandoffBatch): a busy owner takes many outcomes per wake-up
// instead of one post (an allocated closure and a possible futex wake) per task. Reports keep
// their order: one worker's progress is never seen after its outcome.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tasklane/drivers/handler_registry.hpp"
#include "tasklane/drivers/handoff_batch.hpp"
#include "tasklane/outcome.hpp"
#include "tasklane/task_id.hpp"

namespace tasklane::drivers {

struct WorkReport {
  TaskId id;
  std::uint32_t attempt = 0;
  std::optional<Outcome> outcome;  // set: the attempt ended
  double fraction = 0;             // progress, when neither outcome nor beat_in_flight is set
  std::string message;
  std::shared_ptr<std::atomic<bool>> beat_in_flight;  // set: a heartbeat (the flag folds beats into one)
  // With an outcome of work the driver ran: the attempt's context (its payload already freed by the
  // worker), so that the owner, which took the shares it holds (the cancellation state, the
  // reports), also gives them back. Released by a worker, each of those reference counts was
  // written by two threads every task, its cache line moving between them: on the Asio strand
  // ~10% of the cycles sampled went to those counts (perf, asio_noop, 2026-11-29).
  std::optional<WorkContext> context;
};

class WorkReports {
 public:
  // `wake` posts a call of take() to the owner; called from any thread, once per batch.
  explicit WorkReports(std::function<void()> wake) : wake_(std::move(wake)) {}

  void add(WorkReport report) {  // any thread
    if (batch_.add(std::move(report)) == HandoffBatch<WorkReport>::Added::Wake) wake_();
  }
  std::vector<WorkReport> take() { return batch_.take(); }  // owner
  // Owner, once done with a batch take() answered: its memory holds a later batch.
  void recycle(std::vector<WorkReport>&& taken) noexcept { batch_.recycle(std::move(taken)); }
  // The owner is going: what waits and everything reported later is dropped, and nobody is woken.
  void close() { (void)batch_.close(); }

 private:
  std::function<void()> wake_;
  HandoffBatch<WorkReport> batch_;
};

}  // namespace tasklane::drivers
