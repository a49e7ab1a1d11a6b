// libFuzzer target: an event stream into the kernel, decoded from the fuzzer's bytes with
// FuzzedDataProvider (as ngtcp2's fuzz/read_write_pkt.cc does). Every input kind, every selector,
// stale and unknown completions, time jumps (also backwards), crashes with restore. After each
// step the InvariantChecker holds the kernel to ARCHITECTURE.md's invariants; at the end the
// recorded (time, event) trace replays into a fresh kernel and must give the same commands.
// Any violation aborts with the sentence, so libFuzzer saves the input that reproduces it.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tasklane/drivers/invariants.hpp"
#include "tasklane/json.hpp"
#include "tasklane/kernel.hpp"

namespace {

using namespace tasklane;

struct Run {
  Config config;
  Kernel kernel;
  sim::InvariantChecker checker;
  Time now{0};
  std::vector<TimedEvent> trace;
  std::vector<Command> commands;
  std::vector<std::pair<TaskId, std::uint32_t>> started;  // attempts the fuzzer may complete
  std::vector<std::uint64_t> run_requests;

  explicit Run(Config c) : config(c), kernel(c), checker(kernel) {}

  // The checker judges by the kernel's own clock: the fuzzer's clock may go backwards, the
  // kernel's (last_time) never does.
  void drain() {
    const Time at = kernel.last_time();
    while (auto c = kernel.poll()) {
      checker.on_command(at, *c);
      if (const auto* s = std::get_if<command::Start>(&*c)) started.emplace_back(s->id, s->attempt);
      if (const auto* r = std::get_if<command::RunQueuedWork>(&*c)) run_requests.push_back(r->request);
      commands.push_back(std::move(*c));
    }
    if (!trace.empty()) {  // rule 8: the checker follows the pause rules the input changed
      if (const auto* p = std::get_if<event::Pause>(&trace.back().event)) checker.on_pause(p->which);
      if (const auto* r = std::get_if<event::Resume>(&trace.back().event)) checker.on_resume(r->which);
    }
    checker.after_input(at);
    if (!checker.ok()) {
      for (const auto& v : checker.violations()) std::fprintf(stderr, "invariant violated: %s\n", v.c_str());
      dump();
      std::abort();
    }
  }

  // The trace of this kernel's life, as `tasklane replay` reads it, so a failure can be replayed.
  void dump() const {
    std::fprintf(stderr, "trace of the failing kernel (since its start or last restore):\n");
    for (const auto& e : trace) std::fprintf(stderr, "%s\n", to_json(e).dump().c_str());
  }

  void feed(Event e) {
    TimedEvent te{now, std::move(e)};
    if (const auto* spawn = std::get_if<event::Spawn>(&te.event)) {
      const auto id = kernel.spawn(spawn->spec, now);
      if (id) checker.on_spawned(id.value());
    } else {
      apply(kernel, te);
    }
    trace.push_back(std::move(te));
    drain();
    // After the commands: the timers this input fired went off before the heartbeat moved its deadline.
    if (const auto* beat = std::get_if<event::Heartbeat>(&trace.back().event)) {
      checker.on_heartbeat(kernel.last_time(), beat->id, beat->attempt);
    }
  }
};

std::string pick(FuzzedDataProvider& in, std::initializer_list<const char*> names) {
  const auto i = in.ConsumeIntegralInRange<std::size_t>(0, names.size() - 1);
  return *(names.begin() + i);
}

TaskSpec make_spec(FuzzedDataProvider& in, std::uint64_t next_id) {
  TaskSpec s;
  s.kind = pick(in, {"facts", "compact", "export", ""});
  s.owner = pick(in, {"alice", "bob"});
  if (in.ConsumeBool()) s.name = pick(in, {"n1", "n2", "all", ""});
  s.priority = static_cast<Priority>(in.ConsumeIntegralInRange<int>(0, 3));
  if (in.ConsumeBool()) s.key = SequenceKey{"agent", pick(in, {"s1", "s2"}), pick(in, {"facts", "compact"})};
  s.run_after = Duration{in.ConsumeIntegralInRange<std::int64_t>(-5, 50'000)};
  if (in.ConsumeBool()) s.timeout = Duration{in.ConsumeIntegralInRange<std::int64_t>(-1, 30'000)};
  s.retry.max_attempts = in.ConsumeIntegralInRange<std::uint32_t>(0, 4);
  s.retry.initial_backoff = Duration{in.ConsumeIntegralInRange<std::int64_t>(0, 10'000)};
  s.retry.multiplier = in.ConsumeFloatingPointInRange<double>(0.5, 4.0);
  s.retry.max_backoff = Duration{in.ConsumeIntegralInRange<std::int64_t>(0, 40'000)};
  s.retry.jitter = in.ConsumeFloatingPointInRange<double>(-0.1, 1.1);
  if (in.ConsumeBool()) s.retry.non_retryable_errors = {"fatal"};
  s.retry.requeue_on_restart = in.ConsumeBool();
  if (in.ConsumeBool()) {
    s.quota = QuotaSpec{pick(in, {"q1", "q2"}), Duration{in.ConsumeIntegralInRange<std::int64_t>(0, 20'000)},
                        in.ConsumeIntegralInRange<std::uint32_t>(0, 6), in.ConsumeBool()};
  }
  if (in.ConsumeBool() && next_id > 0) s.parent.task = TaskId{in.ConsumeIntegralInRange<std::uint64_t>(0, next_id + 2)};
  if (in.ConsumeBool()) s.parent.run = pick(in, {"r1", "r2"});
  s.inbox = in.ConsumeBool();
  s.durable = in.ConsumeBool();
  if (in.ConsumeBool()) s.payload = {{"n", in.ConsumeIntegral<int>()}};
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {  // each key always with one limit, as the kernel asks
    case 1: s.rate_limit = RateLimit{"r1", 2, Duration{10'000}}; break;
    case 2: s.rate_limit = RateLimit{"r2", 1, Duration{5'000}}; break;
    case 3: s.rate_limit = RateLimit{"", 0, Duration{0}}; break;  // refused
    default: break;
  }
  if (in.ConsumeBool() && next_id > 0) {  // mostly earlier ids; its own id and later ones are refused
    s.after = {TaskId{in.ConsumeIntegralInRange<std::uint64_t>(0, next_id + 1)}};
    s.after_mode = in.ConsumeBool() ? DependencyMode::AllSucceeded : DependencyMode::AllFinished;
  }
  if (in.ConsumeBool()) {
    s.dedup = DedupSpec{pick(in, {"d1", "d2", ""}), in.ConsumeBool() ? DedupMode::KeepExisting : DedupMode::ReplacePending};
  }
  if (in.ConsumeBool()) s.heartbeat = Duration{in.ConsumeIntegralInRange<std::int64_t>(-1, 30'000)};
  if (in.ConsumeBool()) {  // a series; every <= 0, times 0 and replace_pending are refused
    s.repeat = Repeat{Duration{in.ConsumeIntegralInRange<std::int64_t>(-1, 30'000)},
                      in.ConsumeBool() ? RepeatMode::FixedRate : RepeatMode::FixedDelay, std::nullopt};
    if (in.ConsumeBool()) s.repeat->times = in.ConsumeIntegralInRange<std::uint32_t>(0, 5);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Config config;
  config.capacity = in.ConsumeIntegralInRange<std::size_t>(1, 12);
  config.max_running = in.ConsumeIntegralInRange<std::size_t>(1, 4);
  config.retained_terminal = in.ConsumeIntegralInRange<std::size_t>(0, 16);
  config.queued_work_runner = in.ConsumeBool();
  config.seed = in.ConsumeIntegral<std::uint64_t>();
  auto run = std::make_unique<Run>(config);
  std::uint64_t spawned = 0;
  for (int step = 0; step < 400 && in.remaining_bytes() > 0; ++step) {
    const int jump = in.ConsumeIntegralInRange<int>(0, 9);
    if (jump == 0) {
      run->now -= Duration{in.ConsumeIntegralInRange<std::int64_t>(0, 5'000)};  // a clock that goes back
    } else if (jump < 4) {
      run->now += Duration{in.ConsumeIntegralInRange<std::int64_t>(0, 20'000)};
    } else if (jump == 4 && run->kernel.next_deadline()) {
      run->now = std::max(run->now, *run->kernel.next_deadline());
    }
    switch (in.ConsumeIntegralInRange<int>(0, 13)) {
      case 0:
      case 1:
        run->feed(event::Spawn{make_spec(in, spawned++)});
        break;
      case 2:
      case 3: {  // complete a started attempt (maybe a stale one), or an unknown task
        Outcome outcome = in.ConsumeBool() ? Outcome::success({{"ok", true}})
                                           : Outcome::failure("boom", in.ConsumeBool(), in.ConsumeBool() ? "fatal" : "");
        if (!run->started.empty() && in.ConsumeIntegralInRange<int>(0, 9) > 0) {
          const auto i = in.ConsumeIntegralInRange<std::size_t>(0, run->started.size() - 1);
          const auto [id, attempt] = run->started[i];
          run->feed(event::Complete{id, attempt, outcome});
        } else {
          run->feed(event::Complete{TaskId{in.ConsumeIntegralInRange<std::uint64_t>(0, 64)},
                                    in.ConsumeIntegralInRange<std::uint32_t>(0, 5), outcome});
        }
        break;
      }
      case 4:
      case 5:
        run->feed(event::Tick{});
        break;
      case 6: {
        const TaskId id{in.ConsumeIntegralInRange<std::uint64_t>(0, spawned + 1)};
        switch (in.ConsumeIntegralInRange<int>(0, 6)) {
          case 5: run->feed(event::Pause{pause_selector::Owner{pick(in, {"alice", "bob"})}}); break;
          case 6: run->feed(event::Resume{pause_selector::Owner{pick(in, {"alice", "bob"})}}); break;
          case 0: run->feed(event::Abort{abort_selector::Task{id}}); break;
          case 1: run->feed(event::Abort{abort_selector::Tree{id}}); break;
          case 2: run->feed(event::Abort{abort_selector::Owner{pick(in, {"alice", "bob"})}}); break;
          case 3: run->feed(event::Abort{abort_selector::Run{pick(in, {"r1", "r2"})}}); break;
          default: run->feed(event::Abort{abort_selector::All{}}); break;
        }
        break;
      }
      case 7:
        switch (in.ConsumeIntegralInRange<int>(0, 3)) {
          case 0: run->feed(event::Flush{flush_selector::All{}}); break;
          case 1: run->feed(event::Flush{flush_selector::Scope{pick(in, {"s1", "s2"})}}); break;
          case 2: run->feed(event::Flush{flush_selector::Purpose{pick(in, {"facts", "compact"})}}); break;
          default: run->feed(event::Flush{flush_selector::ScopePurpose{pick(in, {"s1", "s2"}), pick(in, {"facts", "compact"})}}); break;
        }
        break;
      case 8:
        run->feed(event::Send{TaskId{in.ConsumeIntegralInRange<std::uint64_t>(0, spawned + 1)}, pick(in, {"alice", "bob"}),
                              {{"text", "hi"}}});
        break;
      case 9: {
        std::optional<std::string> session;
        if (in.ConsumeBool()) session = pick(in, {"s1", "s2"});
        if (in.ConsumeBool()) {
          run->feed(event::Poke{session, "poke"});
        } else if (in.ConsumeBool() && !run->run_requests.empty()) {
          const auto r = run->run_requests[in.ConsumeIntegralInRange<std::size_t>(0, run->run_requests.size() - 1)];
          run->feed(event::QueuedWorkAnswer{r, session});
        } else {
          run->feed(event::SessionComplete{pick(in, {"s1", "s2"}), "done"});
        }
        break;
      }
      case 10:
        if (in.ConsumeIntegralInRange<int>(0, 7) == 0) run->feed(event::Shutdown{in.ConsumeBool() ? ShutdownMode::Drain : ShutdownMode::Cancel});
        break;
      case 11: {  // crash: the durable state goes through its JSON form into a fresh kernel
        const Snapshot snapshot = run->kernel.snapshot();
        const auto decoded = snapshot_from_json(to_json(snapshot));
        if (!decoded || !(decoded.value() == snapshot)) {
          std::fprintf(stderr, "snapshot did not survive its JSON form\n");
          std::abort();
        }
        // The restarted process reads a clock that is not behind the one before the crash.
        const Time now = std::max(run->now, run->kernel.last_time());
        run = std::make_unique<Run>(config);
        run->now = now;
        run->checker.on_restart(snapshot);
        run->feed(event::Restore{snapshot});
        break;
      }
      case 12:  // a heartbeat of a started attempt (maybe a stale one), or of an unknown task
        if (!run->started.empty() && in.ConsumeIntegralInRange<int>(0, 9) > 0) {
          const auto [id, attempt] = run->started[in.ConsumeIntegralInRange<std::size_t>(0, run->started.size() - 1)];
          run->feed(event::Heartbeat{id, attempt});
        } else {
          run->feed(event::Heartbeat{TaskId{in.ConsumeIntegralInRange<std::uint64_t>(0, 64)},
                                     in.ConsumeIntegralInRange<std::uint32_t>(0, 5)});
        }
        break;
      default:
        run->feed(event::Tick{});
        break;
    }
  }
  // Determinism: the trace of the current kernel replays to the same commands, lent by drain()
  // where the run polled them one by one.
  Kernel replay(config);
  std::vector<Command> again;
  for (const auto& e : run->trace) {
    apply(replay, e);
    replay.drain([&again](auto& c) { again.emplace_back(std::move(c)); });
  }
  if (!(again == run->commands)) {
    std::fprintf(stderr, "replay of %zu events gave different commands\n", run->trace.size());
    std::abort();
  }
  return 0;
}
