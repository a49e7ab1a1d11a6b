// The rapidcheck state-machine commands of the kernel model test, and their generator.
//
// rc::state generates a command from the model before the system runs, so a command holds
// choices, not answers: "complete the 3rd running attempt with an error" rather than
// "complete bg_7#2". The harness resolves a choice against what it knows at run time, so every
// command stays meaningful when shrinking removes the ones before it. So what the property knows
// about tasks, attempts, flushes and time lives in the harness's ledger (harness.hpp), and the
// model keeps only what generation needs: the configuration, and how many spawns were tried (a
// shutdown waits until there is some work to stop).
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "describe.hpp"
#include "harness.hpp"

namespace tasklane::property {

struct Model {
  Config config;
  std::uint64_t spawns = 0;
};

using Step = rc::state::Command<Model, KernelHarness>;
using StepPtr = std::shared_ptr<const Step>;

// Value drawing, for use inside a command's constructor (it runs inside rc::gen::exec).
namespace draw {

inline std::string one_of(std::vector<std::string> choices) { return *rc::gen::elementOf(std::move(choices)); }
inline bool chance(int percent) { return *rc::gen::inRange(0, 100) < percent; }
inline Duration micros(std::int64_t from, std::int64_t to) { return Duration{*rc::gen::inRange(from, to)}; }

// Most inputs arrive at the time of the last one; some a little later, so a timer may be due
// but not yet fired when they arrive (a driver that is late to call tick()).
inline Duration skew() { return chance(80) ? Duration{0} : micros(1, 5000); }

inline Outcome outcome() {
  switch (*rc::gen::inRange(0, 8)) {
    case 0:
    case 1:
    case 2: return Outcome::success(Json{{"r", *rc::gen::inRange(0, 10)}});
    case 3:
    case 4: return Outcome::failure("boom");
    case 5: return Outcome::failure("bad input", /*retryable=*/false);
    case 6: return Outcome::failure("fatal error", true, "fatal");
    default: return Outcome::failure("flaky", true, "transient");
  }
}

TaskSpec spec(std::uint64_t spawns);

}  // namespace draw

struct SpawnStep : Step {
  TaskSpec spec;
  Duration skew;
  explicit SpawnStep(const Model& m) : spec(draw::spec(m.spawns)), skew(draw::skew()) {}
  void apply(Model& m) const override { ++m.spawns; }
  void run(const Model&, KernelHarness& h) const override {
    TaskSpec resolved = spec;  // the parent is drawn wide; fold it onto the ids the kernel gave (or the next)
    if (resolved.parent.task) resolved.parent.task = h.pick_parent(resolved.parent.task->value);
    h.spawn(resolved, skew);
  }
  void show(std::ostream& os) const override {
    os << "spawn +" << describe(skew) << " " << describe(spec) << (spec.parent.task ? " (parent folded)" : "");
  }
};

struct CompleteStep : Step {
  CompleteMode mode;
  std::size_t pick;
  Outcome outcome;
  Duration skew;
  CompleteStep()
      : mode(*rc::gen::weightedElement<CompleteMode>(
            {{12, CompleteMode::Current}, {2, CompleteMode::Late}, {3, CompleteMode::Stale}, {1, CompleteMode::Unknown}})),
        pick(*rc::gen::inRange<std::size_t>(0, 64)),
        outcome(draw::outcome()),
        skew(draw::skew()) {}
  void run(const Model&, KernelHarness& h) const override {
    switch (mode) {
      case CompleteMode::Current: return h.complete_current(pick, outcome, skew);
      case CompleteMode::Late: return h.complete_late(pick, outcome, skew);
      case CompleteMode::Stale: return h.complete_stale(pick, outcome);
      case CompleteMode::Unknown: return h.complete_unknown(pick, outcome);
    }
  }
  void show(std::ostream& os) const override {
    static const char* names[] = {"current", "late", "stale", "unknown"};
    os << "complete " << names[static_cast<int>(mode)] << " pick=" << pick << " +" << describe(skew) << " "
       << describe(outcome);
  }
};

struct HeartbeatStep : Step {
  bool current;
  std::size_t pick;
  HeartbeatStep() : current(draw::chance(80)), pick(*rc::gen::inRange<std::size_t>(0, 64)) {}
  void run(const Model&, KernelHarness& h) const override { h.heartbeat(pick, current); }
  void show(std::ostream& os) const override { os << "heartbeat " << (current ? "current" : "stale") << " pick=" << pick; }
};

struct TickStep : Step {
  int mode;  // 0: by `by`; 1: exactly to next_deadline(); 2: just before it; 3: `by` in the past
  Duration by;
  TickStep()
      : mode(*rc::gen::weightedElement<int>({{10, 0}, {8, 1}, {2, 2}, {1, 3}})),
        by(draw::chance(90) ? draw::micros(0, 40000) : draw::micros(40000, 1000000)) {}
  void run(const Model&, KernelHarness& h) const override {
    if (mode == 0) return h.tick_by(by);
    if (mode == 3) return h.tick_in_the_past(by);
    h.tick_to_deadline(mode == 1 ? Duration{0} : Duration{1});
  }
  void show(std::ostream& os) const override {
    static const char* names[] = {"tick by ", "tick to next_deadline", "tick to next_deadline - 1us", "tick in the past by "};
    os << names[mode] << (mode == 0 || mode == 3 ? describe(by) : std::string());
  }
};

struct QueuedWorkStep : Step {
  int kind;  // 0: poke, 1: complete_session, 2: answer the outstanding request, 3: answer a wrong one
  std::optional<std::string> session;
  std::string reason;
  std::uint64_t offset;
  Duration skew;
  QueuedWorkStep()
      : kind(*rc::gen::weightedElement<int>({{3, 0}, {2, 1}, {4, 2}, {1, 3}})),
        session(draw::chance(30) ? std::nullopt : std::optional<std::string>(draw::one_of({"s1", "s2", "s3"}))),
        reason(draw::one_of({"new_message", "turn_done"})),
        offset(*rc::gen::inRange<std::uint64_t>(0, 3)),
        skew(draw::skew()) {}
  void run(const Model&, KernelHarness& h) const override {
    switch (kind) {
      case 0: return h.poke(session, reason, skew);
      case 1: return h.complete_session(session.value_or("s1"), reason, skew);
      default: return h.answer_queued_work(kind == 2, offset, session);
    }
  }
  void show(std::ostream& os) const override {
    static const char* names[] = {"poke", "complete_session", "answer outstanding", "answer wrong"};
    os << names[kind] << " " << session.value_or("(any)") << " '" << reason << "' offset=" << offset;
  }
};

struct AbortStep : Step {
  AbortSelector which;
  bool via_cancel;
  Duration skew;
  AbortStep()
      : which(make()), via_cancel(draw::chance(50)), skew(draw::skew()) {}
  static AbortSelector make() {
    const auto pick = *rc::gen::inRange<std::uint64_t>(0, 64);
    switch (*rc::gen::weightedElement<int>({{4, 0}, {3, 1}, {1, 2}, {2, 3}, {1, 4}})) {
      case 0: return abort_selector::Task{TaskId{pick}};
      case 1: return abort_selector::Tree{TaskId{pick}};
      case 2: return abort_selector::Owner{draw::one_of({"alice", "bob", "carol"})};
      case 3: return abort_selector::Run{draw::one_of({"r1", "r2"})};
      default: return abort_selector::All{};
    }
  }
  void run(const Model&, KernelHarness& h) const override {
    AbortSelector resolved = which;  // task ids are drawn wide; fold them onto ids the kernel gave
    if (auto* t = std::get_if<abort_selector::Task>(&resolved)) t->id = h.pick_task(t->id.value);
    if (auto* t = std::get_if<abort_selector::Tree>(&resolved)) t->root = h.pick_task(t->root.value);
    h.abort(resolved, via_cancel, skew);
  }
  void show(std::ostream& os) const override {
    os << (via_cancel ? "cancel/abort " : "abort ") << describe(which) << " (id folded) +" << describe(skew);
  }
};

struct FlushStep : Step {
  FlushSelector which;
  Duration skew;
  FlushStep() : which(make()), skew(draw::skew()) {}
  static FlushSelector make() {
    switch (*rc::gen::inRange(0, 4)) {
      case 0: return flush_selector::All{};
      case 1: return flush_selector::Scope{draw::one_of({"s1", "s2"})};
      case 2: return flush_selector::Purpose{draw::one_of({"p1", "p2"})};
      default: return flush_selector::ScopePurpose{draw::one_of({"s1", "s2"}), draw::one_of({"p1", "p2"})};
    }
  }
  void run(const Model&, KernelHarness& h) const override { h.flush(which, skew); }
  void show(std::ostream& os) const override { os << "flush " << describe(which) << " +" << describe(skew); }
};

struct SendStep : Step {
  std::size_t pick;
  std::optional<std::string> from;  // nullopt: the task's owner
  int message;
  Duration skew;
  SendStep()
      : pick(*rc::gen::inRange<std::size_t>(0, 64)),
        from(draw::chance(75) ? std::nullopt : std::optional<std::string>(draw::one_of({"alice", "bob", "mallory"}))),
        message(*rc::gen::inRange(0, 100)),
        skew(draw::skew()) {}
  void run(const Model&, KernelHarness& h) const override {
    h.send(h.pick_task(pick), from, Json{{"m", message}}, skew);
  }
  void show(std::ostream& os) const override {
    os << "send pick=" << pick << " from " << from.value_or("(owner)") << " m=" << message;
  }
};

struct RestartStep : Step {
  Duration skew;
  RestartStep() : skew(draw::skew()) {}
  void run(const Model&, KernelHarness& h) const override { h.restart(skew); }
  void show(std::ostream& os) const override { os << "restart (snapshot -> new kernel -> restore) +" << describe(skew); }
};

struct ShutdownStep : Step {
  ShutdownMode mode;
  ShutdownStep() : mode(draw::chance(50) ? ShutdownMode::Drain : ShutdownMode::Cancel) {}
  void run(const Model&, KernelHarness& h) const override { h.shutdown(mode); }
  void show(std::ostream& os) const override { os << "shutdown " << (mode == ShutdownMode::Drain ? "drain" : "cancel"); }
};

template <class S>
rc::Gen<StepPtr> step(const Model& m) {
  if constexpr (std::is_constructible_v<S, const Model&>) {
    return rc::gen::exec([m] { return StepPtr(std::make_shared<const S>(m)); });
  } else {
    return rc::gen::exec([] { return StepPtr(std::make_shared<const S>()); });
  }
}

inline rc::Gen<StepPtr> next_step(const Model& m) {
  // Shutdown stops all starting until the next restart, so it stays rare.
  return rc::gen::weightedOneOf<StepPtr>({
      {40, step<SpawnStep>(m)},
      {40, step<CompleteStep>(m)},
      {28, step<TickStep>(m)},
      {14, step<HeartbeatStep>(m)},
      {8, step<AbortStep>(m)},
      {8, step<FlushStep>(m)},
      {8, step<SendStep>(m)},
      {m.config.queued_work_runner ? 12u : 4u, step<QueuedWorkStep>(m)},
      {4, step<RestartStep>(m)},
      {m.spawns > 4 ? 1u : 0u, step<ShutdownStep>(m)},
  });
}

}  // namespace tasklane::property
