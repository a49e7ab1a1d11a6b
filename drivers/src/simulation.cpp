// Simulation: the deterministic driver (see simulation.hpp). Work in flight is a table keyed by
// (task, attempt) plus an ordered set of due completions; the clock only ever jumps to the earlier
// of the first due completion and the kernel's next deadline.
#include "tasklane/drivers/simulation.hpp"

#include "quota_replay.hpp"

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

WorkPlan default_plan(const WorkRequest&) { return WorkPlan{milliseconds(1), Outcome::success(), false, Duration{0}, std::nullopt}; }

// The fault generator's seed: apart from the workload's generator, so that switching faults on
// leaves every draw the workload makes where it was.
constexpr std::uint64_t fault_seed_mix = 0xF4017F4017F4017FULL;

// Commands a dying process carries out before it dies: 0..max_commands_before_death-1.
constexpr std::uint64_t max_commands_before_death = 6;

}  // namespace

const char* to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::LateTimer: return "late timer";
    case FaultKind::EarlyTimer: return "early timer";
    case FaultKind::DuplicateCompletion: return "duplicate completion";
    case FaultKind::StaleCompletion: return "stale completion";
    case FaultKind::PersistError: return "persist error";
    case FaultKind::Crash: return "crash";
    case FaultKind::Hang: return "hang";
  }
  return "?";
}

struct Simulation::Impl {
  Impl(Config c, std::uint64_t seed) : config(c), kernel(c), rng(seed), fault_rng(seed ^ fault_seed_mix) {}

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
    std::optional<Duration> heartbeat_every;
    std::optional<Due> beat;  // the next heartbeat, in `beats`
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
  std::set<Due> beats;  // the next heartbeat of each attempt in flight that beats

  std::vector<TimedEvent> trace;
  std::vector<std::size_t> restarts;
  std::vector<TimedCommand> commands;
  std::uint64_t hash = fnv_offset;
  std::map<FlushId, command::FlushDone> flushes;
  std::vector<command::Notify> notifications;
  std::vector<command::Deliver> deliveries;
  std::map<TaskId, TaskInfo> persisted;
  std::optional<Snapshot> persisted_snapshot;
  std::vector<std::string> persisted_paused_owners;    // as the last snapshot written kept them
  std::vector<std::string> persisted_paused_purposes;
  std::vector<QuotaUsage> persisted_quotas;  // the last snapshot's, with the starts of records kept since
  // Every id handed out (spawns, next runs of a series) lies below this. RuntimeCore reserves ids
  // in its journal a block ahead, so that a restart never hands an id out twice, not even one of a
  // task that was not durable; here the reservation is durable at once.
  std::uint64_t ids_reserved_below = 0;
  void reserve_id(TaskId id) { ids_reserved_below = std::max(ids_reserved_below, id.value + 1); }

  // The journal: records waiting for their input's commit, and durable spawns waiting for their ack.
  std::vector<TaskInfo> unsynced;
  std::vector<TaskId> awaiting_ack;
  std::set<TaskId> acknowledged;

  // ---- fault sites (sim_faults.hpp) ---------------------------------------------------------
  Faults faults;
  SplitMix64 fault_rng;
  std::vector<FaultRecord> fault_log;
  std::vector<std::string> findings;
  std::vector<std::function<void(const FaultRecord&)>> fault_observers;
  std::vector<std::function<void(const Snapshot&)>> restart_observers;
  // When the driver ticks for the kernel's current deadline: late, and maybe once early before it.
  struct TimerPlan {
    Time deadline{0};
    Time fire_at{0};
    std::optional<Time> early_at;
  };
  std::optional<TimerPlan> timer;
  // Set while carrying out an input the process will die in: commands it still carries out.
  std::optional<std::uint64_t> commands_before_death;
  std::size_t commands_lost = 0;

  bool roll(std::uint32_t per_mille) { return per_mille > 0 && fault_rng.below(1000) < per_mille; }

  FaultRecord fault_at(FaultKind kind) const {
    FaultRecord f;
    f.kind = kind;
    f.at = now;
    return f;
  }

  void fault(FaultRecord record) {
    fault_log.push_back(std::move(record));
    for (const auto& observer : fault_observers) observer(fault_log.back());
  }

  // ---- inputs -------------------------------------------------------------------------------

  // Records the input, lets `call` feed it to the kernel, then carries out what it caused.
  // A crash fault (never on a restore, so that a restart always completes) ends it with a restart.
  template <class Call>
  auto input(Event event, Call&& call) {
    const bool may_crash = !std::holds_alternative<event::Restore>(event);
    trace.push_back(TimedEvent{now, std::move(event)});
    const std::size_t index = trace.size() - 1;
    commands_lost = 0;
    commands_before_death.reset();
    if (may_crash && roll(faults.crash)) commands_before_death = fault_rng.below(max_commands_before_death);
    if constexpr (std::is_void_v<decltype(call())>) {
      call();
      finish_input(index);
    } else {
      auto result = call();
      finish_input(index);
      return result;
    }
  }

  void finish_input(std::size_t index) {
    drain();
    const bool dies = commands_before_death.has_value();
    if (!dies) commit();
    notify_input(index);
    if (dies) die_and_restart();
  }

  void notify_input(std::size_t index) {
    for (const auto& observer : input_observers) observer(trace[index]);
  }

  // A process that dies part-way still let the kernel emit everything (the commands are recorded,
  // so replay matches), but carries out only the ones before its death.
  void drain() {
    while (auto command = kernel.poll()) {
      hash = fnv_command(hash, now, *command);
      commands.push_back(TimedCommand{now, std::move(*command)});
      const std::size_t index = commands.size() - 1;
      if (!commands_before_death) {
        carry_out(commands[index].command);
      } else if (*commands_before_death > 0) {
        --*commands_before_death;
        carry_out(commands[index].command);
      } else {
        ++commands_lost;
      }
      for (const auto& observer : command_observers) observer(now, commands[index].command);
    }
  }

  // ---- the journal --------------------------------------------------------------------------

  // A record reaches the disk; the attempts its task started since the last snapshot count into
  // its quota, as FileJournal's recovery counts them (quota_replay.hpp).
  void keep(TaskInfo&& record) {
    const auto it = persisted.find(record.id);
    drivers::count_quota_starts(persisted_quotas, it == persisted.end() ? 0 : it->second.attempt, record);
    persisted.insert_or_assign(record.id, std::move(record));
  }

  // The group commit at the end of an input: one write for every buffered record.
  void commit() {
    if (unsynced.empty() && awaiting_ack.empty()) return;
    if (roll(faults.persist_error)) {
      FaultRecord f = fault_at(FaultKind::PersistError);
      f.records = unsynced.size();
      f.tasks_unacknowledged = awaiting_ack.size();
      if (awaiting_ack.size() == 1) f.task = awaiting_ack.front();
      awaiting_ack.clear();  // RuntimeCore answers these spawns NotPersisted; the records stay buffered
      fault(f);
      return;
    }
    for (TaskInfo& record : unsynced) keep(std::move(record));
    unsynced.clear();
    acknowledged.insert(awaiting_ack.begin(), awaiting_ack.end());
    awaiting_ack.clear();
  }

  // A pause or resume input; then what RuntimeCore's snapshot at a pause or resume makes durable:
  // the rules as they now stand, unless the process died carrying the input out.
  template <class Call>
  std::size_t change_pause_rules(Event event, Call&& call) {
    const std::size_t restarts_before = restarts.size();
    const std::size_t changed = input(std::move(event), std::forward<Call>(call));
    if (restarts.size() == restarts_before) {
      const Snapshot now_held = kernel.snapshot();
      persisted_paused_owners = now_held.paused_owners;
      persisted_paused_purposes = now_held.paused_purposes;
    }
    return changed;
  }

  Snapshot durable_state() const {
    Snapshot s;
    if (persisted_snapshot) {
      s.next_id = persisted_snapshot->next_id;
      s.rng_state = persisted_snapshot->rng_state;
      s.rate_limits = persisted_snapshot->rate_limits;
    }
    s.quotas = persisted_quotas;
    s.paused_owners = persisted_paused_owners;
    s.paused_purposes = persisted_paused_purposes;
    s.next_id = std::max(s.next_id, ids_reserved_below);
    for (const auto& [id, record] : persisted) {
      s.tasks.push_back(record);
      s.next_id = std::max(s.next_id, id.value + 1);
    }
    return s;
  }

  // ---- crashes ------------------------------------------------------------------------------

  // What dies with a process: the kernel, the work in flight, the flush ids, the unsynced records.
  void lose_process() {
    kernel = Kernel(config);
    flight.clear();
    due.clear();
    beats.clear();
    flushes.clear();  // flush ids belong to the dead kernel; the fresh one counts from 1 again
    unsynced.clear();
    awaiting_ack.clear();
    timer.reset();
    restarts.push_back(trace.size());
  }

  // The process died while writing its batch: a prefix of the unsynced records reached the disk
  // (the first record after it possibly torn, which recovery cuts off), the rest is lost.
  void die_and_restart() {
    commands_before_death.reset();
    FaultRecord f = fault_at(FaultKind::Crash);
    f.records = unsynced.size();
    f.records_kept = static_cast<std::size_t>(fault_rng.below(unsynced.size() + 1));
    f.commands_lost = commands_lost;
    f.tasks_unacknowledged = awaiting_ack.size();
    fault(f);
    for (std::size_t i = 0; i < f.records_kept; ++i) keep(std::move(unsynced[i]));
    lose_process();
    const Snapshot restored = durable_state();
    for (const auto& observer : restart_observers) observer(restored);
    input(event::Restore{restored}, [&] { kernel.restore(restored, now); });
  }

  // ---- carrying out commands ----------------------------------------------------------------

  void carry_out(const Command& command) {
    std::visit([&](const auto& c) { carry_out_one(c); }, command);
  }

  void carry_out_one(const command::Start& start) {
    const WorkRequest request{start, now, rng.next()};
    const auto handler = handlers.find(start.kind);
    WorkPlan plan = handler == handlers.end() ? default_plan(request) : handler->second(request);
    if (!plan.never_returns && roll(faults.hang)) {
      plan.never_returns = true;
      plan.heartbeat_every.reset();  // a stuck call stops reporting progress
      FaultRecord f = fault_at(FaultKind::Hang);
      f.task = start.id;
      f.attempt = start.attempt;
      fault(f);
    }
    InFlight work{std::nullopt, plan.outcome, std::max(plan.cancel_latency, Duration{0}), std::nullopt, std::nullopt};
    const AttemptKey key{start.id, start.attempt};
    if (!plan.never_returns) work.due = schedule(key, now + std::max(plan.duration, Duration{0}));
    if (plan.heartbeat_every && plan.heartbeat_every->count() > 0) {
      work.heartbeat_every = plan.heartbeat_every;
      work.beat = schedule_beat(key, now + *plan.heartbeat_every);
    }
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

  void carry_out_one(const command::Persist& persist) { unsynced.push_back(persist.record); }

  // As FileJournal::write_snapshot: commit what is buffered, then the snapshot replaces the journal.
  void carry_out_one(const command::PersistSnapshot& snapshot) {
    if (roll(faults.persist_error)) {
      FaultRecord f = fault_at(FaultKind::PersistError);
      f.records = unsynced.size();
      fault(f);
      return;
    }
    unsynced.clear();
    persisted.clear();
    for (const TaskInfo& record : snapshot.snapshot.tasks) persisted.emplace(record.id, record);
    persisted_snapshot = snapshot.snapshot;
    persisted_quotas = snapshot.snapshot.quotas;
    persisted_paused_owners = snapshot.snapshot.paused_owners;
    persisted_paused_purposes = snapshot.snapshot.paused_purposes;
  }
  void carry_out_one(const command::Notify& notify) {
    if (notify.next_run) reserve_id(*notify.next_run);
    notifications.push_back(notify);
  }
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

  Due schedule_beat(const AttemptKey& key, Time at) {
    const Due d{at, rng.next(), next_order++, key.first, key.second};
    beats.insert(d);
    return d;
  }

  // The work of this attempt reports a heartbeat, and will again unless it has returned by then.
  void beat() {
    const Due d = *beats.begin();
    beats.erase(beats.begin());
    now = std::max(now, d.at);
    const AttemptKey key{d.id, d.attempt};
    InFlight& work = flight.at(key);
    work.beat = schedule_beat(key, now + *work.heartbeat_every);
    input(event::Heartbeat{d.id, d.attempt}, [&] { kernel.heartbeat(d.id, d.attempt, now); });
  }

  // ---- time ---------------------------------------------------------------------------------

  // When the driver calls tick() next: at the kernel's deadline, or later or earlier where a timer
  // fault says so. The plan is drawn once per deadline.
  std::optional<Time> wakeup() {
    const std::optional<Time> deadline = kernel.next_deadline();
    if (!deadline) {
      timer.reset();
      return std::nullopt;
    }
    if (!timer || timer->deadline != *deadline) {
      TimerPlan plan{*deadline, *deadline, std::nullopt};
      if (roll(faults.late_timer)) {
        const auto most = static_cast<std::uint64_t>(std::max<Duration::rep>(faults.max_lateness.count(), 1));
        plan.fire_at += Duration{static_cast<Duration::rep>(1 + fault_rng.below(most))};
      }
      if (*deadline > now && roll(faults.early_timer)) {
        plan.early_at = now + Duration{static_cast<Duration::rep>(fault_rng.below(static_cast<std::uint64_t>((*deadline - now).count())))};
      }
      timer = plan;
    }
    return timer->early_at ? *timer->early_at : timer->fire_at;
  }

  std::optional<Time> next_event() {
    std::optional<Time> next = wakeup();
    if (!due.empty() && (!next || due.begin()->at < *next)) next = due.begin()->at;
    if (!beats.empty() && (!next || beats.begin()->at < *next)) next = beats.begin()->at;
    return next;
  }

  bool step() {
    const std::optional<Time> tick_at = wakeup();
    if (due.empty() && beats.empty() && !tick_at) return false;
    // On a tie the deadline goes first: the kernel would fire it inside complete() anyway. A
    // heartbeat goes last: after the completion of the same instant, it is a stale one.
    if (!beats.empty() && (!tick_at || beats.begin()->at < *tick_at) &&
        (due.empty() || beats.begin()->at < due.begin()->at)) {
      beat();
      return true;
    }
    if (tick_at && (due.empty() || *tick_at <= due.begin()->at)) {
      now = std::max(now, *tick_at);
      if (timer->early_at) {
        timer->early_at.reset();
        if (now < timer->deadline) {
          early_tick(timer->deadline);
          return true;
        }
      }
      if (timer->fire_at > timer->deadline) {
        FaultRecord f = fault_at(FaultKind::LateTimer);
        f.deadline = timer->deadline;
        fault(f);
      }
      input(event::Tick{}, [&] { kernel.tick(now); });
      return true;
    }
    const Due d = *due.begin();
    due.erase(due.begin());
    auto node = flight.extract(AttemptKey{d.id, d.attempt});
    if (node.mapped().beat) beats.erase(*node.mapped().beat);  // returned work beats no more
    now = std::max(now, d.at);
    Outcome outcome = std::move(node.mapped().outcome);
    const Outcome copy = outcome;
    input(event::Complete{d.id, d.attempt, outcome}, [&] { kernel.complete(d.id, d.attempt, std::move(outcome), now); });
    if (roll(faults.duplicate_completion)) ignored_completion(FaultKind::DuplicateCompletion, d.id, d.attempt, copy);
    if (roll(faults.stale_completion)) {
      // The attempt before, or, for a first attempt, a task id the kernel never gave out.
      const bool older = d.attempt > 1;
      const TaskId id = older ? d.id : TaskId{d.id.value + (std::uint64_t{1} << 40)};
      ignored_completion(FaultKind::StaleCompletion, id, older ? d.attempt - 1 : d.attempt, Outcome::failure("stale"));
    }
    return true;
  }

  // A tick before the deadline: nothing is due, so nothing may change.
  void early_tick(Time deadline) {
    FaultRecord f = fault_at(FaultKind::EarlyTimer);
    f.deadline = deadline;
    fault(f);
    const std::size_t before = commands.size();
    const std::size_t restarts_before = restarts.size();
    input(event::Tick{}, [&] { kernel.tick(now); });
    if (restarts.size() != restarts_before) return;  // a crash fault restarted it: no verdict
    if (commands.size() != before || kernel.next_deadline() != std::optional<Time>(deadline)) {
      findings.push_back("at " + std::to_string(now.count()) + " us: a tick before the deadline " +
                         std::to_string(deadline.count()) + " us changed something: " +
                         std::to_string(commands.size() - before) + " commands");
    }
  }

  // A completion the kernel must ignore: no command, one more ignored completion. Fed at once after
  // a real completion, so nothing else is due at this instant.
  void ignored_completion(FaultKind kind, TaskId id, std::uint32_t attempt, Outcome outcome) {
    FaultRecord f = fault_at(kind);
    f.task = id;
    f.attempt = attempt;
    fault(f);
    if (const auto deadline = kernel.next_deadline(); deadline && *deadline <= now) {
      return;  // a timer is due (a crash just restored the kernel): the completion would fire it
    }
    const std::size_t before = commands.size();
    const std::size_t restarts_before = restarts.size();
    const std::uint64_t ignored = kernel.stats().ignored_completions;
    input(event::Complete{id, attempt, outcome}, [&] { kernel.complete(id, attempt, std::move(outcome), now); });
    if (restarts.size() != restarts_before) return;
    if (commands.size() != before || kernel.stats().ignored_completions != ignored + 1) {
      findings.push_back("at " + std::to_string(now.count()) + " us: a " + to_string(kind) + " of " + to_string(id) +
                         " attempt " + std::to_string(attempt) + " was not ignored: " +
                         std::to_string(commands.size() - before) + " commands");
    }
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
  const bool durable = spec.durable;
  return s.input(event::Spawn{spec}, [&] {
    auto result = s.kernel.spawn(std::move(spec), s.now);
    if (result) s.reserve_id(result.value());
    if (result && durable) s.awaiting_ack.push_back(result.value());
    return result;
  });
}

std::size_t Simulation::abort(const AbortSelector& which) {
  Impl& s = *impl_;
  return s.input(event::Abort{which}, [&] { return s.kernel.abort(which, s.now); });
}

FlushId Simulation::flush(const FlushSelector& which) {
  Impl& s = *impl_;
  return s.input(event::Flush{which}, [&] { return s.kernel.flush(which, s.now); });
}

std::size_t Simulation::pause(const PauseSelector& which) {
  Impl& s = *impl_;
  return s.change_pause_rules(event::Pause{which}, [&] { return s.kernel.pause(which, s.now); });
}

std::size_t Simulation::resume(const PauseSelector& which) {
  Impl& s = *impl_;
  return s.change_pause_rules(event::Resume{which}, [&] { return s.kernel.resume(which, s.now); });
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
  s.lose_process();
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
Snapshot Simulation::durable_state() const { return impl_->durable_state(); }
std::size_t Simulation::unsynced_records() const { return impl_->unsynced.size(); }
const std::set<TaskId>& Simulation::acknowledged() const { return impl_->acknowledged; }

void Simulation::set_faults(const Faults& faults) { impl_->faults = faults; }
const Faults& Simulation::faults() const { return impl_->faults; }
const std::vector<FaultRecord>& Simulation::fault_log() const { return impl_->fault_log; }
const std::vector<std::string>& Simulation::fault_findings() const { return impl_->findings; }
void Simulation::on_fault(std::function<void(const FaultRecord&)> observer) {
  impl_->fault_observers.push_back(std::move(observer));
}
void Simulation::on_restart(std::function<void(const Snapshot&)> observer) {
  impl_->restart_observers.push_back(std::move(observer));
}

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
