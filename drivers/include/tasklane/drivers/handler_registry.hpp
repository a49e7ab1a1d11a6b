// HandlerRegistry: task kind -> work function, shared by every real driver.
//
//   registry.add("summarize", [](tasklane::drivers::WorkContext& ctx) {
//     for (int step = 0; step < 10; ++step) {
//       if (ctx.cancel.cancelled()) return tasklane::Outcome::failure("cancelled");
//       ctx.progress(step / 10.0, "summarizing");
//       ctx.heartbeat();  // with TaskSpec::heartbeat: the attempt is alive (cheap in a hot loop)
//     }
//     return tasklane::Outcome::success({{"summary", "..."}});
//   });
//
// A function that throws fails its attempt with the exception's message; it never takes the
// process down. A kind without a handler fails at once, not retryable: "no handler for kind 'x'".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "tasklane/command.hpp"
#include "tasklane/drivers/cancellation.hpp"
#include "tasklane/drivers/inbox.hpp"
#include "tasklane/drivers/work_reporting.hpp"
#include "tasklane/outcome.hpp"

namespace tasklane::drivers {

struct WorkContext {
  TaskId id;
  std::uint32_t attempt = 0;
  Json payload;
  CancellationToken cancel;
  WorkProgress progress;         // progress(fraction, message): safe from any thread
  std::shared_ptr<Inbox> inbox;  // null unless the task is a sub-agent
  // Reports that the attempt is alive, resetting its TaskSpec::heartbeat deadline. Safe from any
  // thread and cheap to call in a hot loop: while one heartbeat is on its way to the runtime's
  // owner, further ones fold into it (the owner stamps it with the time it reads on arrival, which
  // is no earlier than any call folded in). Does nothing when the spec has no heartbeat interval,
  // nor in a context made by hand.
  WorkHeartbeat heartbeat;
};

using WorkFunction = std::function<Outcome(WorkContext&)>;
// Work that finishes later (a coroutine, a callback API): it calls `done` exactly once, from any thread.
using AsyncWorkFunction = std::function<void(WorkContext context, std::function<void(Outcome)> done)>;

class HandlerRegistry {
 public:
  void add(std::string kind, WorkFunction work) {
    async_handlers_.erase(kind);
    handlers_[std::move(kind)] = std::move(work);
  }
  void add_async(std::string kind, AsyncWorkFunction work) {
    handlers_.erase(kind);
    async_handlers_[std::move(kind)] = std::move(work);
  }
  bool has(const std::string& kind) const { return handlers_.count(kind) != 0 || async_handlers_.count(kind) != 0; }
  const WorkFunction* find(const std::string& kind) const {
    const auto it = handlers_.find(kind);
    return it == handlers_.end() ? nullptr : &it->second;
  }
  const AsyncWorkFunction* find_async(const std::string& kind) const {
    const auto it = async_handlers_.find(kind);
    return it == async_handlers_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, WorkFunction> handlers_;
  std::map<std::string, AsyncWorkFunction> async_handlers_;
};

// Runs `work` and turns an escaping exception into a failed Outcome.
Outcome run_work(const WorkFunction& work, WorkContext& context) noexcept;

}  // namespace tasklane::drivers
