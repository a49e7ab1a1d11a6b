// QueuedWorkRunner: the poke-driven runner of seed 001, as a state machine.
//
// A drive asks the host (RunQueuedWork) to run queued work for one session or any. One drive is
// outstanding at a time; requests that arrive meanwhile wait their turn in arrival order, exactly
// as the seed's single loop handles its channel. A session the host submitted stays in flight until
// complete_session; a session in flight is never submitted twice, and a drive for any session
// submits nothing while some session is in flight. The poll is the recovery path.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>

#include "tasklane/command.hpp"

namespace tasklane::detail {

class QueuedWorkRunner {
 public:
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void poke(std::optional<std::string> session, std::string reason, Out& out) {
    enqueue(Step{false, std::move(session), std::move(reason), true}, out);
  }
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void startup(Out& out) { enqueue(Step{false, std::nullopt, "startup", false}, out); }
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void poll(Out& out) {
    if (awaiting_) return;  // the poll is a recovery path; a drive in progress makes it moot
    enqueue(Step{false, std::nullopt, "poll", false}, out);
  }
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void complete(std::string session, std::string reason, Out& out) {
    enqueue(Step{true, std::move(session), std::move(reason), false}, out);
  }
  // Answers an outstanding request; false when `request` is not the one outstanding.
  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  bool answer(std::uint64_t request, std::optional<std::string> submitted, Out& out) {
    if (!awaiting_ || *awaiting_ != request) return false;
    awaiting_.reset();
    if (submitted) inflight_.insert(std::move(*submitted));
    while (!awaiting_ && !backlog_.empty()) {
      Step step = std::move(backlog_.front());
      backlog_.pop_front();
      run(std::move(step), out);
    }
    return true;
  }

  // The kernel stopped: requests waiting behind the outstanding one are dropped, so its late answer
  // is taken (the session it names enters flight) but drives nothing more.
  void stop() { backlog_.clear(); }

  bool in_flight(const std::string& session) const { return inflight_.count(session) != 0; }
  std::size_t in_flight_count() const { return inflight_.size(); }
  bool awaiting_answer() const { return awaiting_.has_value(); }

 private:
  struct Step {
    bool completion;  // complete_session: leave flight, then drive the session
    std::optional<std::string> session;
    std::string reason;
    bool trace_idle;
  };

  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void enqueue(Step step, Out& out) {
    if (awaiting_) {
      backlog_.push_back(std::move(step));
      return;
    }
    run(std::move(step), out);
  }

  template <class Out>  // std::deque<Command> or the kernel's CommandQueue
  void run(Step step, Out& out) {
    if (step.completion) inflight_.erase(*step.session);
    if (step.session && inflight_.count(*step.session)) return;
    if (!step.session && !inflight_.empty()) return;
    const std::uint64_t request = next_request_++;
    awaiting_ = request;
    out.emplace_back(command::RunQueuedWork{request, std::move(step.session), std::move(step.reason), step.trace_idle});
  }

  std::set<std::string> inflight_;
  std::deque<Step> backlog_;
  std::optional<std::uint64_t> awaiting_;
  std::uint64_t next_request_ = 1;
};

}  // namespace tasklane::detail
