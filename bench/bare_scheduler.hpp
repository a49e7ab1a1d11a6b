// BareScheduler: the baseline of the kernel benchmarks. The least bookkeeping that does the same
// job by hand: a hash map of records, a std::priority_queue of ready tasks (priority, then spawn
// order), a std::priority_queue of due times, a running limit, and the same facts handed to the
// driver (a start with kind and payload, an end with owner and status). No retries, keys, quotas,
// trees, flushes, names or persistence.
#pragma once

#include <cstdint>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tasklane/task_spec.hpp"

namespace tasklane::bench {

class BareScheduler {
 public:
  struct Start {
    std::uint64_t id;
    std::uint32_t attempt;
    std::string kind;
    Json payload;
  };
  struct End {
    std::string owner;
    std::uint64_t id;
    bool ok;
  };

  explicit BareScheduler(std::size_t max_running) : max_running_(max_running) {}

  std::uint64_t spawn(const std::string& kind, const std::string& owner, Json payload, Priority priority,
                      std::int64_t due, std::int64_t now) {
    const std::uint64_t id = next_id_++;
    Record& r = records_[id];
    r.kind = kind;
    r.owner = owner;
    r.payload = std::move(payload);
    r.priority = priority;
    r.due = due;
    if (due > now) {
      timers_.push({due, id});
    } else {
      ready_.push({priority, id});
    }
    schedule();
    return id;
  }

  void tick(std::int64_t now) {
    while (!timers_.empty() && timers_.top().first <= now) {
      const std::uint64_t id = timers_.top().second;
      timers_.pop();
      if (const auto it = records_.find(id); it != records_.end()) ready_.push({it->second.priority, id});
    }
    schedule();
  }

  void complete(std::uint64_t id, std::uint32_t attempt) {
    const auto it = records_.find(id);
    if (it == records_.end() || it->second.attempt != attempt || !it->second.running) return;
    --running_;
    ends.push_back(End{std::move(it->second.owner), id, true});
    records_.erase(it);
    schedule();
  }

  bool cancel(std::uint64_t id) {
    const auto it = records_.find(id);
    if (it == records_.end() || it->second.running) return false;
    ends.push_back(End{std::move(it->second.owner), id, false});
    records_.erase(it);  // its queue entry is skipped when it surfaces
    return true;
  }

  std::size_t pending() const { return records_.size() - running_; }

  std::vector<Start> starts;  // the driver drains these
  std::vector<End> ends;

 private:
  struct Record {
    std::string kind;
    std::string owner;
    Json payload;
    Priority priority = Priority::Normal;
    std::int64_t due = 0;
    std::uint32_t attempt = 0;
    bool running = false;
  };
  struct ReadyOrder {
    bool operator()(const std::pair<Priority, std::uint64_t>& a, const std::pair<Priority, std::uint64_t>& b) const {
      if (a.first != b.first) return a.first < b.first;
      return a.second > b.second;
    }
  };
  using DueEntry = std::pair<std::int64_t, std::uint64_t>;

  void schedule() {
    while (running_ < max_running_ && !ready_.empty()) {
      const std::uint64_t id = ready_.top().second;
      ready_.pop();
      const auto it = records_.find(id);
      if (it == records_.end()) continue;  // cancelled while queued
      Record& r = it->second;
      r.running = true;
      ++r.attempt;
      ++running_;
      starts.push_back(Start{id, r.attempt, r.kind, r.payload});
    }
  }

  std::size_t max_running_;
  std::size_t running_ = 0;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Record> records_;
  std::priority_queue<std::pair<Priority, std::uint64_t>, std::vector<std::pair<Priority, std::uint64_t>>, ReadyOrder> ready_;
  std::priority_queue<DueEntry, std::vector<DueEntry>, std::greater<DueEntry>> timers_;
};

}  // namespace tasklane::bench
