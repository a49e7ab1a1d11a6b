// A metamorphic property of the kernel's clock: an input stamped after a due timer must act as if
// the timer had fired first, i.e. input(t) == tick(t) + input(t) whenever a deadline <= t is due.
//
// A driver is late all the time: its timer callback and a spawn race on one strand, and the spawn
// may win. complete() already lets "a deadline that passed before this completion arrived win";
// this holds every other input to the same rule. Without it, a spawn arriving late starts before
// an earlier, already due task of the same priority (invariant 4), and an abort or send reaches an
// attempt whose deadline had passed (invariant 5).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "describe.hpp"
#include "tasklane/kernel.hpp"

namespace tasklane::property {
namespace {

std::vector<Command> drain(Kernel& kernel) {
  std::vector<Command> out;
  while (auto c = kernel.poll()) out.push_back(std::move(*c));
  return out;
}

std::string text(const std::vector<Command>& commands) {
  std::string s;
  for (const auto& c : commands) s += "[" + describe(c) + "] ";
  return s.empty() ? "nothing" : s;
}

TaskSpec drawn_spec(int i) {
  TaskSpec spec;
  spec.kind = "work";
  spec.owner = "alice";
  spec.inbox = true;
  spec.priority = static_cast<Priority>(*rc::gen::inRange(0, 2));
  if (*rc::gen::inRange(0, 2) == 0) spec.run_after = milliseconds(*rc::gen::inRange(1, 20));
  if (*rc::gen::inRange(0, 2) == 0) spec.timeout = milliseconds(*rc::gen::inRange(1, 20));
  if (*rc::gen::inRange(0, 2) == 0) spec.heartbeat = milliseconds(*rc::gen::inRange(1, 20));
  spec.payload = Json{{"i", i}};
  return spec;
}

}  // namespace

RC_GTEST_PROP(LateInput, ActsAsIfTheDueTimersHadFiredFirst, ()) {
  Config config;
  config.max_running = *rc::gen::inRange<std::size_t>(1, 3);
  Kernel late(config);
  Kernel on_time(config);

  // The same history into both kernels, each input on time.
  const int spawns = *rc::gen::inRange(1, 6);
  Time now{0};
  for (int i = 0; i < spawns; ++i) {
    const TaskSpec spec = drawn_spec(i);
    RC_LOG() << describe(now) << ": spawn " << describe(spec) << "\n";
    RC_ASSERT(late.spawn(spec, now).has_value());
    RC_ASSERT(on_time.spawn(spec, now).has_value());
    now += milliseconds(*rc::gen::inRange(0, 3));
    late.tick(now);
    on_time.tick(now);
    if (*rc::gen::inRange(0, 2) == 0) {  // a heartbeat moves a deadline the armed timer does not follow yet
      const TaskId beating{static_cast<std::uint64_t>(*rc::gen::inRange(0, i + 1))};
      RC_LOG() << describe(now) << ": heartbeat " << to_string(beating) << "#1\n";
      late.heartbeat(beating, 1, now);
      on_time.heartbeat(beating, 1, now);
    }
  }
  drain(late);
  drain(on_time);

  // One more input, stamped after the next deadline; the on-time kernel gets its tick first.
  const auto due = late.next_deadline();
  RC_PRE(due.has_value());
  const Time at = *due + milliseconds(*rc::gen::inRange(0, 5));
  const int kind = *rc::gen::inRange(0, 5);
  const TaskId target{static_cast<std::uint64_t>(*rc::gen::inRange(0, spawns))};
  const TaskSpec extra = drawn_spec(spawns);
  auto input = [&](Kernel& k) {
    switch (kind) {
      case 0: (void)k.spawn(extra, at); break;
      case 1: (void)k.abort(abort_selector::Task{target}, at); break;
      case 2: (void)k.send(target, "alice", Json{{"m", 1}}, at); break;
      case 3: k.heartbeat(target, 1, at); break;
      default: (void)k.flush(flush_selector::All{}, at); break;
    }
  };
  static const char* names[] = {"spawn", "abort", "send", "heartbeat", "flush"};
  RC_LOG() << describe(at) << ": late " << names[kind] << (kind == 0 ? " " + describe(extra) : " " + to_string(target))
           << " (next_deadline was " << describe(*due) << ")\n";

  input(late);
  const auto late_out = drain(late);
  on_time.tick(at);
  auto on_time_out = drain(on_time);
  input(on_time);
  for (auto& c : drain(on_time)) on_time_out.push_back(std::move(c));

  if (late_out != on_time_out) {
    RC_FAIL(std::string("a late ") + names[kind] + " at " + describe(at) + " (deadline " + describe(*due) +
            ") gave\n  " + text(late_out) + "\nbut tick + " + names[kind] + " gave\n  " + text(on_time_out));
  }
  for (std::uint64_t i = 0; i <= static_cast<std::uint64_t>(spawns); ++i) {
    const std::optional<TaskInfo> a = late.get(TaskId{i});
    const std::optional<TaskInfo> b = on_time.get(TaskId{i});
    RC_ASSERT(a.has_value() == b.has_value());
    if (a) RC_ASSERT(*a == *b);
  }
}

}  // namespace tasklane::property
