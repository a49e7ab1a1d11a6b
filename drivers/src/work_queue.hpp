// WorkQueue: how RuntimeCore hands attempts to the driver's worker pool. When the driver says how
// many threads the pool has, jobs wait in one queue served by at most that many drainers (each a
// single job of the pool that runs queued jobs until none is left): a batch of starts costs one
// hand-off and at most one wake-up per idle thread, not one each, and a drainer that is still
// running takes new jobs without any. A pool of unknown size gets one run_work call per job.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "attempt_job.hpp"

namespace tasklane::drivers {

// Moving jobs into the queue either moves all of a batch or, when the vector cannot grow, none.
static_assert(std::is_nothrow_move_constructible_v<AttemptJob>);

class WorkQueue : public std::enable_shared_from_this<WorkQueue> {
 public:
  using Post = std::function<void(std::function<void()>)>;
  // `handlers` and `reports`: what every job runs with. Each drainer, and each job posted alone,
  // holds a share of this queue, which holds them: a job may begin after the runtime is gone (an
  // executor of the user's) and still finds its handler.
  WorkQueue(Post post, std::size_t threads, std::shared_ptr<const HandlerRegistry> handlers,
            std::shared_ptr<WorkReports> reports)
      : post_(std::move(post)), threads_(threads), handlers_(std::move(handlers)), reports_(std::move(reports)) {}

  // Owner: hands over every job of `batch` (left empty), in order. When a post throws (out of
  // memory), the jobs handed over and the one whose post failed (lost with its closure) have left
  // `batch`; the rest stay in it, intact, for the next call.
  void submit(std::vector<AttemptJob>& batch) {
    if (threads_ == 0) {
      std::size_t posted = 0;
      try {
        for (; posted < batch.size(); ++posted) {
          post_([self = shared_from_this(), job = std::move(batch[posted])]() mutable { job(self->reports_); });
        }
      } catch (...) {
        batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(posted) + 1);
        throw;
      }
      batch.clear();
      return;
    }
    std::size_t new_drainers = 0;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return batch.clear();
      if (jobs_.empty()) {  // the drainers took all: the batch becomes the queue, no job moved
        jobs_.swap(batch);    // and the owner fills the queue's old memory next
      } else {
        jobs_.insert(jobs_.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
      }
      // A drainer busy in a job may be busy for long: only idle ones count as serving the queue.
      while (drainers_ < threads_ && drainers_ - busy_ < jobs_.size() - next_) {
        ++drainers_;
        ++new_drainers;
      }
    }
    batch.clear();
    for (std::size_t i = 0; i < new_drainers; ++i) {
      try {
        post_([self = shared_from_this()] { self->drain(); });
      } catch (...) {  // the drainers not posted do not count: a later submit posts them
        std::lock_guard lock(mutex_);
        drainers_ -= new_drainers - i;
        throw;
      }
    }
  }

  // Owner, when the runtime goes: jobs not yet begun are dropped (as a closed pool skips them);
  // drainers return after the job they are in.
  void close() {
    std::vector<AttemptJob> dropped;
    std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(jobs_);
    next_ = 0;
  }

 private:
  void drain() {
    bool ran = false;
    for (;;) {
      std::optional<AttemptJob> job;  // not a default AttemptJob: that would make a cancellation state
      {
        std::lock_guard lock(mutex_);
        if (ran) --busy_;
        if (next_ == jobs_.size()) {
          --drainers_;
          return;
        }
        job.emplace(std::move(jobs_[next_++]));
        if (next_ == jobs_.size()) {  // all taken: start over, keeping the capacity
          jobs_.clear();
          next_ = 0;
        } else if (next_ >= 64 && next_ * 2 >= jobs_.size()) {  // a long-lived queue: drop the taken half
          jobs_.erase(jobs_.begin(), jobs_.begin() + static_cast<std::ptrdiff_t>(next_));
          next_ = 0;
        }
        ++busy_;
      }
      (*job)(reports_);
      ran = true;
    }
  }

  Post post_;
  const std::size_t threads_;
  const std::shared_ptr<const HandlerRegistry> handlers_;  // held for the jobs' handlers, never read
  const std::shared_ptr<WorkReports> reports_;
  std::mutex mutex_;
  std::vector<AttemptJob> jobs_;  // jobs_[next_...] wait; the vector's capacity is reused
  std::size_t next_ = 0;
  std::size_t drainers_ = 0;  // posted and not yet returned
  std::size_t busy_ = 0;      // drainers inside a job
  bool closed_ = false;
};

}  // namespace tasklane::drivers
