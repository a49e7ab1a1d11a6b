// RunnerModel: the reference for the queued-work runner of seed 001, written from the seed's
// description (one loop reading pokes, completions and polls from one channel):
//   - one RunQueuedWork is outstanding at a time; requests that arrive meanwhile wait in order;
//   - a session in flight (submitted and not yet completed) is never asked for again;
//   - a drive for any session asks nothing while some session is in flight;
//   - the poll is only a recovery path: it does nothing while a request is outstanding.
// The property predicts from it the exact RunQueuedWork commands each input must produce.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tasklane/command.hpp"

namespace tasklane::property {

class RunnerModel {
 public:
  void startup() { enqueue(Step{false, std::nullopt, "startup", false}); }
  void poll() {
    if (awaiting_) return;
    enqueue(Step{false, std::nullopt, "poll", false});
  }
  void poke(std::optional<std::string> session, std::string reason) {
    enqueue(Step{false, std::move(session), std::move(reason), true});
  }
  void complete(std::string session, std::string reason) {
    enqueue(Step{true, std::move(session), std::move(reason), false});
  }
  // False when `request` is not the outstanding one: the kernel ignores the answer.
  bool answer(std::uint64_t request, std::optional<std::string> submitted) {
    if (!awaiting_ || *awaiting_ != request) return false;
    awaiting_.reset();
    if (submitted) in_flight_.insert(std::move(*submitted));
    while (!awaiting_ && !backlog_.empty()) {
      Step step = std::move(backlog_.front());
      backlog_.pop_front();
      run(std::move(step));
    }
    return true;
  }

  // The kernel stopped: steps waiting behind the outstanding request are dropped (its late answer
  // is still taken, but drives nothing more).
  void stop() { backlog_.clear(); }

  std::optional<std::uint64_t> awaiting() const { return awaiting_; }
  std::uint64_t next_request() const { return next_request_; }
  const std::set<std::string>& in_flight() const { return in_flight_; }

  // The requests the model expects since the last call.
  std::vector<command::RunQueuedWork> take_expected() { return std::exchange(expected_, {}); }

 private:
  struct Step {
    bool completion;
    std::optional<std::string> session;
    std::string reason;
    bool trace_idle;
  };

  void enqueue(Step step) {
    if (awaiting_) {
      backlog_.push_back(std::move(step));
      return;
    }
    run(std::move(step));
  }

  void run(Step step) {
    if (step.completion) in_flight_.erase(*step.session);
    if (step.session && in_flight_.count(*step.session)) return;
    if (!step.session && !in_flight_.empty()) return;
    awaiting_ = next_request_;
    expected_.push_back(command::RunQueuedWork{next_request_++, std::move(step.session), std::move(step.reason), step.trace_idle});
  }

  std::set<std::string> in_flight_;
  std::deque<Step> backlog_;
  std::optional<std::uint64_t> awaiting_;
  std::uint64_t next_request_ = 1;
  std::vector<command::RunQueuedWork> expected_;
};

}  // namespace tasklane::property
