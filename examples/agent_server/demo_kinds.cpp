#include "demo_kinds.hpp"

#include <chrono>
#include <thread>

namespace agent_server {
namespace {

using tasklane::Json;
using tasklane::Outcome;
using tasklane::drivers::WorkContext;

std::int64_t payload_int(const WorkContext& ctx, const char* name, std::int64_t fallback) {
  if (ctx.payload.is_object() && ctx.payload.contains(name) && ctx.payload.at(name).is_number_integer()) {
    return ctx.payload.at(name).get<std::int64_t>();
  }
  return fallback;
}

// Waits `ms` in slices, reporting progress and a heartbeat each; false when cancelled first.
bool work_for(WorkContext& ctx, std::int64_t ms, const char* what) {
  constexpr std::int64_t slice = 50;
  for (std::int64_t done = 0; done < ms; done += slice) {
    if (ctx.cancel.cancelled()) return false;
    ctx.heartbeat();
    ctx.progress(static_cast<double>(done) / static_cast<double>(ms), what);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(slice, ms - done)));
  }
  ctx.progress(1.0, what);
  return !ctx.cancel.cancelled();
}

Outcome sleep(WorkContext& ctx) {
  if (ctx.payload.is_object() && ctx.payload.value("stuck", false)) {  // a call that hangs, silent, until cancelled
    while (!ctx.cancel.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return Outcome::failure("cancelled while stuck");
  }
  const auto ms = payload_int(ctx, "ms", 1000);
  if (!work_for(ctx, ms, "sleeping")) return Outcome::failure("cancelled while sleeping");
  return Outcome::success({{"slept_ms", ms}});
}

Outcome flaky(WorkContext& ctx) {
  const auto failures = payload_int(ctx, "failures", 1);
  if (!work_for(ctx, payload_int(ctx, "ms", 100), "calling a flaky model API")) return Outcome::failure("cancelled");
  if (ctx.attempt <= failures) {
    return Outcome::failure("flaky: planned failure " + std::to_string(ctx.attempt) + " of " + std::to_string(failures));
  }
  return Outcome::success({{"succeeded_on_attempt", ctx.attempt}});
}

Outcome compact(WorkContext& ctx) {
  const auto ms = payload_int(ctx, "ms", 500);
  if (!work_for(ctx, ms, "compacting memory")) return Outcome::failure("compaction aborted");
  return Outcome::success({{"compacted_messages", 40 + ms / 10}});
}

Outcome sub_agent(WorkContext& ctx) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(payload_int(ctx, "ms", 5000));
  Json answered = Json::array();
  while (std::chrono::steady_clock::now() < deadline && !ctx.cancel.cancelled()) {
    auto message = ctx.inbox->pop_for(std::chrono::milliseconds(50));
    if (!message) continue;
    answered.push_back({{"from", message->from}, {"message", message->message}});
    ctx.progress(0.5, "answered a message from " + message->from);
    if (message->message == "stop") break;
  }
  if (ctx.cancel.cancelled()) return Outcome::failure("sub-agent cancelled");
  return Outcome::success({{"answered", answered}});
}

Outcome maintenance(WorkContext& ctx) {
  if (!work_for(ctx, payload_int(ctx, "ms", 200), "maintaining")) return Outcome::failure("maintenance cancelled");
  return Outcome::success({{"maintained", true}});
}

}  // namespace

tasklane::drivers::HandlerRegistry demo_kinds() {
  tasklane::drivers::HandlerRegistry registry;
  registry.add("sleep", sleep);
  registry.add("flaky", flaky);
  registry.add("compact", compact);
  registry.add("sub_agent", sub_agent);
  registry.add("maintenance", maintenance);
  return registry;
}

void apply_kind_defaults(tasklane::TaskSpec& spec, const Json& body) {
  if (spec.kind == "compact") {
    if (!spec.quota) spec.quota = tasklane::QuotaSpec{"compaction/" + spec.owner, tasklane::seconds(1), 0, false};
    if (!spec.timeout) spec.timeout = tasklane::seconds(3);
  } else if (spec.kind == "sub_agent") {
    spec.inbox = true;
  } else if (spec.kind == "flaky" && !body.contains("retry")) {
    spec.retry.max_attempts = 3;
    spec.retry.initial_backoff = tasklane::milliseconds(200);
  }
}

}  // namespace agent_server
