// Simulation: the deterministic driver (see simulation.hpp). Work in flight is a table keyed by
// (task, attempt) plus an ordered set of due completions; the clock only ever jumps to the earlier
// of the first due completion and the kernel's next deadline.
#include "tasklane/drivers/simulation.hpp"

#include <algorithm>
#include <set>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tasklane/drivers/splitmix64.hpp"
#include "tasklane/json.hpp"

namespace tasklane::sim {

namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

std::uint64_t fnv_bytes(std::uint64_t h, const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= fnv_prime;
  }
  return h;
}

// The time goes in as 8 little-endian bytes, so the hash is the same on every platform.
std::uint64_t fnv_command(std::uint64_t h, Time at, const Command& command) {
  const std::string text = to_json(command).dump();
  h = fnv_bytes(h, text.data(), text.size());
  auto t = static_cast<std::uint64_t>(at.count());
  char bytes[8];
  for (char& b : bytes) {
    b = static_cast<char>(t & 0xff);
    t >>= 8;
  }
  return fnv_bytes(h, bytes, sizeof bytes);
}

WorkPlan default_plan(const WorkRequest&) { return WorkPlan{milliseconds(1), Outcome::success(), false, Duration{0}}; }

}  // namespace

struct Simulation::Impl {
  Impl(Config c, std::uint64_t seed) : config(c), kernel(c), rng(seed) {}

  using AttemptKey = std::pair<TaskId, std::uint32_t>;

  // Equal due times are broken by a draw from the generator, then by scheduling order, so the
  // interleaving of simultaneous completions is a function of the seed alone.
  struct Due {
    Time at{0};
    std::uint64_t tiebreak = 0;
    std::uint64_t order = 0;
    TaskId id;
    std::uint32_t attempt = 0;
    friend auto operator<=>(const Due&, const Due&) = default;
  };

  struct InFlight {
    std::optional<Due> due;  // nullopt: hanging work that nothing has cancelled yet
    Outcome outcome;
    Duration cancel_latency{0};
  };

  Config config;
  Kernel kernel;
  SplitMix64 rng;
  Time now{0};
  std::uint64_t next_order = 0;

  std::map<std::string, Handler, std::less<>> handlers;
  QueuedWorkHost queued_work_host;
  std::vector<std::function<void(Time, const Command&)>> command_observers;
  std::vector<std::function<void(const TimedEvent&)>> input_observers;

  std::map<AttemptKey, InFlight> flight;
  std::set<Due> due;

  std::vector<TimedEvent> trace;
  std::vector<std::size_t> restarts;
  std::vector<TimedCommand> commands;
  std::uint64_t hash = fnv_offset;
  std::map<FlushId, command::FlushDone> flushes;
  std::vector<command::Notify> notifications;
  std::vector<command::Deliver> deliveries;
  std::map<TaskId, TaskInfo> persisted;
  std::optional<Snapshot> persisted_snapshot;

  // ---- inputs -------------------------------------------------------------------------------

  // Records the input, lets `call` feed it to the kernel, then carries out what it caused.
  template <class Call>
  auto input(Event event, Call&& call) {
    trace.push_back(TimedEvent{now, std::move(event)});
    const std::size_t index = trace.size() - 1;
    if constexpr (std::is_void_v<decltype(call())>) {
      call();
      drain();
      notify_input(index);
    } else {
      auto result = call();
      drain();
      notify_input(index);
      return result;
    }
  }

  void notify_input(std::size_t index) {
    for (const auto& observer : input_observers) observer(trace[index]);
  }

  void drain() {
    while (auto command = kernel.poll()) {
      hash = fnv_command(hash, now, *command);
      commands.push_back(TimedCommand{now, std::move(*command)});
      const std::size_t index = commands.size() - 1;
      carry_out(commands[index].command);
      for (const auto& observer : command_observers) observer(now, commands[index].command);
    }
  }

  // ---- carrying out commands ----------------------------------------------------------------

  void carry_out(const Command& command) {
    std::visit([&](const auto& c) { carry_out_one(c); }, command);
  }

  void carry_out_one(const command::Start& start) {
    const WorkRequest request{start, now, rng.next()};
    const auto handler = handlers.find(start.kind);
    const WorkPlan plan = handler == handlers.end() ? default_plan(request) : handler->second(request);
    InFlight work{std::nullopt, plan.outcome, std::max(plan.cancel_latency, Duration{0})};
    const AttemptKey key{start.id, start.attempt};
    if (!plan.never_returns) work.due = schedule(key, now + std::max(plan.duration, Duration{0}));
    flight[key] = std::move(work);
  }

  void carry_out_one(const command::Cancel& cancel) {
    const auto it = flight.find(AttemptKey{cancel.id, cancel.attempt});
    if (it == flight.end()) return;
    InFlight& work = it->second;
    // A timed-out attempt keeps running (the kernel has stopped counting it) unless it hangs.
    if (cancel.reason == CancelReason::TimedOut && work.due) return;
    const Time back = now + work.cancel_latency;
    if (work.due && work.due->at <= back) return;  // it returns on its own first
    if (work.due) due.erase(*work.due);
    work.due = schedule(it->first, back);
    work.outcome = Outcome::failure("cancelled");
  }

  void carry_out_one(const command::Persist& persist) { persisted[persist.record.id] = persist.record; }
  void carry_out_one(const command::PersistSnapshot& snapshot) { persisted_snapshot = snapshot.snapshot; }
  void carry_out_one(const command::Notify& notify) { notifications.push_back(notify); }
  void carry_out_one(const command::Deliver& deliver) { deliveries.push_back(deliver); }
  void carry_out_one(const command::FlushDone& done) { flushes.insert_or_assign(done.flush, done); }
  void carry_out_one(const command::Stopped&) {}

  // The answer is its own input, fed while the outer drain goes on: its commands queue up behind
  // the ones still waiting, exactly where a replay that applies the answer after draining puts them.
  void carry_out_one(const command::RunQueuedWork& run) {
    std::optional<std::string> submitted = queued_work_host ? queued_work_host(run) : std::nullopt;
    trace.push_back(TimedEvent{now, event::QueuedWorkAnswer{run.request, submitted}});
    kernel.answer_queued_work(run.request, std::move(submitted), now);
  }

  Due schedule(const AttemptKey& key, Time at) {
    const Due d{at, rng.next(), next_order++, key.first, key.second};
    due.insert(d);
    return d;
  }

  // ---- time ---------------------------------------------------------------------------------

  std::optional<Time> next_event() const {
    std::optional<Time> next = kernel.next_deadline();
    if (!due.empty() && (!next || due.begin()->at < *next)) next = due.begin()->at;
    return next;
  }

  bool step() {
    const std::optional<Time> deadline = kernel.next_deadline();
    if (due.empty() && !deadline) return false;
    // On a tie the deadline goes first: the kernel would fire it inside complete() anyway.
    if (deadline && (due.empty() || *deadline <= due.begin()->at)) {
      now = std::max(now, *deadline);
      input(event::Tick{}, [&] { kernel.tick(now); });
      return true;
    }
    const Due d = *due.begin();
    due.erase(due.begin());
    auto node = flight.extract(AttemptKey{d.id, d.attempt});
    now = std::max(now, d.at);
    Outcome outcome = std::move(node.mapped().outcome);
    input(event::Complete{d.id, d.attempt, outcome}, [&] { kernel.complete(d.id, d.attempt, std::move(outcome), now); });
    return true;
  }
};

Simulation::Simulation(Config config, std::uint64_t seed) : impl_(std::make_shared<Impl>(config, seed)) {}

Kernel& Simulation::kernel() { return impl_->kernel; }
const Kernel& Simulation::kernel() const { return impl_->kernel; }
Time Simulation::now() const { return impl_->now; }

void Simulation::on_kind(std::string kind, Handler handler) { impl_->handlers[std::move(kind)] = std::move(handler); }
void Simulation::on_queued_work(QueuedWorkHost host) { impl_->queued_work_host = std::move(host); }

Result<TaskId, SpawnError> Simulation::spawn(TaskSpec spec) {
  Impl& s = *impl_;
  return s.input(event::Spawn{spec}, [&] { return s.kernel.spawn(std::move(spec), s.now); });
}

std::size_t Simulation::abort(const AbortSelector& which) {
  Impl& s = *impl_;
  return s.input(event::Abort{which}, [&] { return s.kernel.abort(which, s.now); });
}

FlushId Simulation::flush(const FlushSelector& which) {
  Impl& s = *impl_;
  return s.input(event::Flush{which}, [&] { return s.kernel.flush(which, s.now); });
}

Result<void, SendError> Simulation::send(TaskId to, std::string from, Json message) {
  Impl& s = *impl_;
  return s.input(event::Send{to, from, message},
                 [&] { return s.kernel.send(to, std::move(from), std::move(message), s.now); });
}

void Simulation::poke(std::optional<std::string> session, std::string reason) {
  Impl& s = *impl_;
  s.input(event::Poke{session, reason}, [&] { s.kernel.poke(std::move(session), std::move(reason), s.now); });
}

void Simulation::complete_session(std::string session, std::string reason) {
  Impl& s = *impl_;
  s.input(event::SessionComplete{session, reason},
          [&] { s.kernel.complete_session(std::move(session), std::move(reason), s.now); });
}

void Simulation::shutdown(ShutdownMode mode) {
  Impl& s = *impl_;
  s.input(event::Shutdown{mode}, [&] { s.kernel.shutdown(mode, s.now); });
}

void Simulation::restore(const Snapshot& snapshot) {
  Impl& s = *impl_;
  s.input(event::Restore{snapshot}, [&] { s.kernel.restore(snapshot, s.now); });
}

Snapshot Simulation::crash() {
  Impl& s = *impl_;
  Snapshot snapshot = s.kernel.snapshot();
  s.kernel = Kernel(s.config);
  s.flight.clear();
  s.due.clear();
  s.flushes.clear();  // flush ids belong to the dead kernel; the fresh one counts from 1 again
  s.restarts.push_back(s.trace.size());
  return snapshot;
}

void Simulation::advance_to(Time until) {
  Impl& s = *impl_;
  while (const auto next = s.next_event()) {
    if (*next > until) break;
    s.step();
  }
  s.now = std::max(s.now, until);
}

void Simulation::advance_by(Duration d) { advance_to(impl_->now + d); }

bool Simulation::run_until_idle(Duration limit) {
  Impl& s = *impl_;
  const Time end = s.now + limit;
  while (const auto next = s.next_event()) {
    if (*next > end) {
      s.now = std::max(s.now, end);
      return false;
    }
    s.step();
  }
  return true;
}

bool Simulation::step() { return impl_->step(); }

const std::vector<TimedEvent>& Simulation::trace() const { return impl_->trace; }
const std::vector<std::size_t>& Simulation::restarts() const { return impl_->restarts; }
const std::vector<TimedCommand>& Simulation::commands() const { return impl_->commands; }
std::uint64_t Simulation::command_hash() const { return impl_->hash; }

std::optional<command::FlushDone> Simulation::flush_result(FlushId id) const {
  const auto it = impl_->flushes.find(id);
  if (it == impl_->flushes.end()) return std::nullopt;
  return it->second;
}

const std::vector<command::Notify>& Simulation::notifications() const { return impl_->notifications; }
const std::vector<command::Deliver>& Simulation::deliveries() const { return impl_->deliveries; }
const std::map<TaskId, TaskInfo>& Simulation::persisted() const { return impl_->persisted; }
const std::optional<Snapshot>& Simulation::persisted_snapshot() const { return impl_->persisted_snapshot; }
std::size_t Simulation::in_flight() const { return impl_->flight.size(); }

void Simulation::on_command(std::function<void(Time, const Command&)> observer) {
  impl_->command_observers.push_back(std::move(observer));
}
void Simulation::on_input(std::function<void(const TimedEvent&)> observer) {
  impl_->input_observers.push_back(std::move(observer));
}

std::vector<TimedCommand> replay(const Config& config, const std::vector<TimedEvent>& trace,
                                 const std::vector<std::size_t>& restarts) {
  std::vector<TimedCommand> out;
  Kernel kernel(config);
  auto restart = restarts.begin();
  for (std::size_t i = 0; i < trace.size(); ++i) {
    while (restart != restarts.end() && *restart == i) {
      kernel = Kernel(config);
      ++restart;
    }
    apply(kernel, trace[i]);
    while (auto command = kernel.poll()) out.push_back(TimedCommand{trace[i].at, std::move(*command)});
  }
  return out;
}

std::uint64_t command_hash(const std::vector<TimedCommand>& commands) {
  std::uint64_t h = fnv_offset;
  for (const auto& c : commands) h = fnv_command(h, c.at, c.command);
  return h;
}

}  // namespace tasklane::sim
