// Properties of the kernel's small pure rules, each checked through the public API:
//   - the retry backoff: for any policy and attempt n, the delay before attempt n+1 lies in
//     [base * (1 - jitter), base] with base = min(initial * multiplier^(n-1), max_backoff), the
//     retry starts exactly at its due time (not a microsecond before), and the same seed draws the
//     same delays;
//   - task ids print as bg_N and parse back, and nothing else parses.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "tasklane/kernel.hpp"

namespace tasklane {
namespace {

struct Drawn {
  RetryPolicy policy;
  std::uint64_t seed = 0;
};

Drawn draw_policy() {
  Drawn d;
  d.policy.max_attempts = static_cast<std::uint32_t>(*rc::gen::inRange(2, 9));
  d.policy.initial_backoff = Duration{*rc::gen::inRange<std::int64_t>(0, 3'000'000)};
  d.policy.multiplier = *rc::gen::inRange(100, 1201) / 100.0;
  d.policy.max_backoff = Duration{*rc::gen::inRange<std::int64_t>(0, 120'000'000)};
  d.policy.jitter = *rc::gen::element(0.0, 0.0, 0.1, 0.5, 0.999, 1.0, *rc::gen::inRange(0, 1001) / 1000.0);
  d.seed = *rc::gen::inRange<std::uint64_t>(0, 1u << 31);
  return d;
}

std::vector<Command> drain(Kernel& kernel) {
  std::vector<Command> out;
  while (auto c = kernel.poll()) out.push_back(std::move(*c));
  return out;
}

std::optional<std::uint32_t> started_attempt(const std::vector<Command>& commands) {
  for (const auto& c : commands) {
    if (const auto* s = std::get_if<command::Start>(&c)) return s->attempt;
  }
  return std::nullopt;
}

// Fails every attempt of one task and returns the delay the kernel chose before each retry.
std::vector<Duration> retry_delays(const RetryPolicy& policy, std::uint64_t seed, Duration think) {
  Config config;
  config.seed = seed;
  Kernel kernel(config);
  TaskSpec spec;
  spec.kind = "work";
  spec.retry = policy;
  const auto id = kernel.spawn(spec, Time{0});
  RC_ASSERT(id.has_value());
  RC_ASSERT(started_attempt(drain(kernel)) == std::optional<std::uint32_t>(1));

  std::vector<Duration> delays;
  Time now{0};
  for (std::uint32_t n = 1; n < policy.max_attempts; ++n) {
    now += think;
    kernel.complete(id.value(), n, Outcome::failure("boom"), now);
    const auto after_failure = drain(kernel);
    const std::optional<TaskInfo> info = kernel.get(id.value());
    RC_ASSERT(info.has_value());
    const Duration delay = info->due - now;
    delays.push_back(delay);
    if (delay.count() == 0) {  // no backoff: the retry starts within the same input
      RC_ASSERT(started_attempt(after_failure) == std::optional<std::uint32_t>(n + 1));
      continue;
    }
    RC_ASSERT(info->status == TaskStatus::Pending);
    const Time due = info->due;
    RC_ASSERT(kernel.next_deadline() == std::optional<Time>(due));
    kernel.tick(due - Duration{1});  // a microsecond early: nothing starts
    RC_ASSERT(!started_attempt(drain(kernel)).has_value());
    now = due;
    kernel.tick(now);
    RC_ASSERT(started_attempt(drain(kernel)) == std::optional<std::uint32_t>(n + 1));
  }
  now += think;
  kernel.complete(id.value(), policy.max_attempts, Outcome::failure("boom"), now);
  drain(kernel);
  RC_ASSERT(kernel.get(id.value())->status == TaskStatus::Failed);
  RC_ASSERT(kernel.stats().retried == policy.max_attempts - 1);
  return delays;
}

}  // namespace

RC_GTEST_PROP(RetryBackoff, DelayLiesBetweenTheJitteredAndTheFullBase, ()) {
  const Drawn d = draw_policy();
  const RetryPolicy& p = d.policy;
  const auto delays = retry_delays(p, d.seed, Duration{*rc::gen::inRange<std::int64_t>(0, 10'000)});
  for (std::size_t i = 0; i < delays.size(); ++i) {
    const double n = static_cast<double>(i + 1);
    const double base = std::min(static_cast<double>(p.initial_backoff.count()) * std::pow(p.multiplier, n - 1),
                                 static_cast<double>(p.max_backoff.count()));
    const double delay = static_cast<double>(delays[i].count());
    RC_LOG() << "attempt " << i + 1 << ": delay " << delay << "us, base " << base << "us\n";
    RC_ASSERT(delay <= base);
    RC_ASSERT(delay > base * (1.0 - p.jitter) - 1.0);  // 1 us: the delay is whole microseconds
  }
}

RC_GTEST_PROP(RetryBackoff, TheSameSeedDrawsTheSameDelays, ()) {
  const Drawn d = draw_policy();
  RC_ASSERT(retry_delays(d.policy, d.seed, Duration{500}) == retry_delays(d.policy, d.seed, Duration{500}));
}

RC_GTEST_PROP(TaskIdText, PrintsAsBgNAndParsesBack, (std::uint64_t value)) {
  const TaskId id{value};
  const std::string text = to_string(id);
  RC_ASSERT(text == "bg_" + std::to_string(value));
  RC_ASSERT(parse_task_id(text) == std::optional<TaskId>(id));
  RC_ASSERT(!parse_task_id(text + "x").has_value());
  RC_ASSERT(!parse_task_id("bg_0" + std::to_string(value)).has_value());  // one spelling per id
  RC_ASSERT(!parse_task_id(" " + text).has_value());
}

}  // namespace tasklane
