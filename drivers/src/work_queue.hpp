// WorkQueue: how RuntimeCore hands attempts to the driver's worker pool. When the driver says how
// many threads the pool has, jobs wait in one queue served by at most that many drainers (each a
// single job of the pool that runs queued jobs until none is left): a batch of starts costs one
// hand-off and at most one wake-up per idle thread, not one each, and a drainer that is still
// running takes new jobs without any. A pool of unknown size gets one run_work call per job.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "attempt_job.hpp"

namespace tasklane::drivers {

class WorkQueue : public std::enable_shared_from_this<WorkQueue> {
 public:
  using Post = std::function<void(std::function<void()>)>;
  WorkQueue(Post post, std::size_t threads) : post_(std::move(post)), threads_(threads) {}

  // Owner: hands over every job of `batch` (left empty), in order.
  void submit(std::vector<AttemptJob>& batch) {
    if (threads_ == 0) {
      for (auto& job : batch) post_(std::move(job));
      batch.clear();
      return;
    }
    std::size_t new_drainers = 0;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return batch.clear();
      for (auto& job : batch) jobs_.push_back(std::move(job));
      // A drainer busy in a job may be busy for long: only idle ones count as serving the queue.
      while (drainers_ < threads_ && drainers_ - busy_ < jobs_.size()) {
        ++drainers_;
        ++new_drainers;
      }
    }
    batch.clear();
    for (std::size_t i = 0; i < new_drainers; ++i) post_([self = shared_from_this()] { self->drain(); });
  }

  // Owner, when the runtime goes: jobs not yet begun are dropped (as a closed pool skips them);
  // drainers return after the job they are in.
  void close() {
    std::deque<AttemptJob> dropped;
    std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(jobs_);
  }

 private:
  void drain() {
    bool ran = false;
    for (;;) {
      AttemptJob job;
      {
        std::lock_guard lock(mutex_);
        if (ran) --busy_;
        if (jobs_.empty()) {
          --drainers_;
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
        ++busy_;
      }
      job();
      ran = true;
    }
  }

  Post post_;
  const std::size_t threads_;
  std::mutex mutex_;
  std::deque<AttemptJob> jobs_;
  std::size_t drainers_ = 0;  // posted and not yet returned
  std::size_t busy_ = 0;      // drainers inside a job
  bool closed_ = false;
};

}  // namespace tasklane::drivers
