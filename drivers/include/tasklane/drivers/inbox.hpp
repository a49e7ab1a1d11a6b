// Inbox: a sub-agent's mailbox. The driver pushes Deliver commands into it; the work pops them.
// Thread-safe. Closed when the attempt ends; pop on a closed, empty inbox answers nullopt at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "tasklane/task_info.hpp"

namespace tasklane::drivers {

// The kernel's message type (tasklane/task_info.hpp): what waits in a record is what an inbox holds.
using InboxMessage = tasklane::InboxMessage;

class Inbox {
 public:
  void push(InboxMessage m) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      queue_.push_back(std::move(m));
    }
    ready_.notify_one();
  }
  std::optional<InboxMessage> try_pop() {
    std::lock_guard lock(mutex_);
    return take();
  }
  // Waits up to `timeout` for a message; nullopt on timeout or when closed and empty.
  std::optional<InboxMessage> pop_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
    return take();
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

 private:
  std::optional<InboxMessage> take() {
    if (queue_.empty()) return std::nullopt;
    InboxMessage m = std::move(queue_.front());
    queue_.pop_front();
    return m;
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<InboxMessage> queue_;
  bool closed_ = false;
};

}  // namespace tasklane::drivers
