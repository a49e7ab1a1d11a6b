// RuntimeCore: carries out the kernel's commands with real work, a real journal and callbacks.
// Every user callback is posted to the owner rather than called inline, so no callback ever runs
// inside a kernel drain and a callback may call back into the runtime freely.
#include "tasklane/drivers/runtime_core.hpp"

#include "tasklane/drivers/call_batch.hpp"
#include "tasklane/drivers/error_code.hpp"
#include "tasklane/drivers/trace.hpp"
#include "tasklane/flat_id_map.hpp"
#include "cancellation_pool.hpp"
#include "work_queue.hpp"
#include "work_reports.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <new>
#include <utility>
#include <variant>
#include <vector>

namespace tasklane::drivers {

struct RuntimeCore::Impl : std::enable_shared_from_this<Impl> {
  Impl(RuntimeOptions o, HandlerRegistry h, RuntimeHooks k)
      : options(std::move(o)),
        handlers(std::make_shared<const HandlerRegistry>(std::move(h))),
        hooks(std::move(k)),
        kernel(options.config) {
    if (options.trace_file) {
      trace.emplace(*options.trace_file, options.config);
      if (!trace->ok()) {
        log(LogLevel::Error, "trace_file_unwritable", {{"file", options.trace_file->string()}});
        trace.reset();
      }
    }
  }

  // An attempt handed to the work, until its outcome is back. Its kind and owner are the kernel's
  // (the record outlives the attempt unless the task ended and was forgotten meanwhile).
  struct Running {
    std::uint32_t attempt = 0;
    std::optional<CancellationToken> token;  // always set by the Start; optional, as a token allocates
    std::shared_ptr<Inbox> inbox;
  };
  struct Subscriber {
    std::optional<std::string> owner;
    std::function<void(const TaskEvent&)> listener;
    EventFilter wants;  // empty: every kind
  };
  struct Ack {
    Admission admission;
    AdmitDone done;
    bool durable = true;  // false: waits only for its id's reservation
  };

  RuntimeOptions options;
  std::shared_ptr<const HandlerRegistry> handlers;  // shared with the work queue, for the attempts it hands out
  RuntimeHooks hooks;
  Kernel kernel;
  std::unique_ptr<FileJournal> journal;
  std::optional<TraceWriter> trace;
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::shared_ptr<WorkReports> reports;  // from the workers, taken in batches (set by RuntimeCore)
  std::shared_ptr<WorkQueue> work_queue;  // set by RuntimeCore, with `reports`
  CancellationPool tokens;  // the attempts' cancellation states, reused once their outcome is back
  std::vector<AttemptJob> starting;  // attempts started by this input, handed over at its end (or a few at a time, below)
  // A batch of reports is being taken: its starts go over a few at a time (starts_per_handoff),
  // not one hand-off each, nor all at the batch's end: an owner slower than its workers (a busy
  // one: a hundred completions take it ~100 us) would leave them idle for the whole batch, and
  // then wait idle itself for the first outcome of the next (2026-11-28: no-op tasks end to end
  // ~29 -> ~21 ms per 20000 on Asio, ~28 -> ~18 ms on Qt; 4, 8 and 16 measured alike).
  bool taking_reports = false;
  static constexpr std::size_t starts_per_handoff = 8;
  detail::FlatIdMap<Running, 2> running;  // by TaskId::value: no allocation per attempt beyond its token; a quarter full at most
  std::map<FlushId, std::function<void(std::optional<std::string>)>> flushes;
  std::multimap<TaskId, std::function<void(std::optional<TaskInfo>)>> waiters;
  std::vector<std::function<void()>> shutdown_waiters;
  bool stopped = false;
  bool pause_rules_unsaved = false;  // paused or resumed before start() opened the journal
  std::map<std::uint64_t, Subscriber> subscribers;
  std::uint64_t next_subscription = 1;
  std::vector<Ack> acks;  // durable spawns waiting for the next commit
  // One user callback waiting for its batch. The commonest — an admission answer, a task event for
  // a subscriber — are kept as the callback and its argument, not as a closure over both (which
  // would allocate once per spawn, and once per event).
  struct AdmissionAnswer {
    AdmitDone done;
    Result<Admission, SpawnError> result;
  };
  struct EventDelivery {
    std::function<void(const TaskEvent&)> listener;  // a copy: an unsubscribe after the event still gets it
    TaskEvent event;
  };
  struct UserCall {
    std::variant<std::function<void()>, AdmissionAnswer, EventDelivery> what;
    void operator()() {
      if (auto* answer = std::get_if<AdmissionAnswer>(&what)) {
        answer->done(std::move(answer->result));
      } else if (auto* delivery = std::get_if<EventDelivery>(&what)) {
        delivery->listener(delivery->event);
      } else {
        std::get<std::function<void()>>(what)();
      }
    }
  };
  std::vector<UserCall> user_calls;  // callbacks waiting for their batch to run
  bool user_calls_posted = false;
  bool metrics_unpublished = false;  // inputs drained since the last Metrics::publish
  int turn_depth = 0;                // turns open now (RuntimeCore::Turn, take_reports)
  bool destroyed = false;  // the RuntimeCore is gone (its Impl lives on while a batch runs)
  bool commit_scheduled = false;
  // Ids are reserved in the journal a block ahead (FileJournal::reserve_ids): a spawn whose id is
  // not below a synced reservation waits for the commit, so that no id is handed out twice across
  // a crash, not even a task's that is not durable.
  static constexpr std::uint64_t id_block = 1024;
  std::uint64_t ids_synced_below = 0;
  std::uint64_t ids_reserved_below = 0;

  // After a spawn handed out `id`: reserves the next block once half of this one is used.
  // True when the spawn must wait for the commit before it is answered.
  bool reserve_past(TaskId id) {
    if (!journal) return false;
    if (id.value + id_block / 2 >= ids_reserved_below) {
      ids_reserved_below = id.value + 1 + id_block;
      journal->reserve_ids(ids_reserved_below);
    }
    return id.value >= ids_synced_below;
  }

  // The snapshot to write: its next_id covers every id reserved so far.
  Snapshot with_reserved_ids(Snapshot snapshot) const {
    snapshot.next_id = std::max(snapshot.next_id, ids_reserved_below);
    return snapshot;
  }

  Time now() const { return hooks.now(); }

  // Reads the clock for one kernel input and, when tracing, records the input as an event.
  template <class MakeEvent>
  Time input(MakeEvent&& make_event) {
    return input_at(now(), std::forward<MakeEvent>(make_event));
  }
  // The same for an input whose time was read already (a report of a batch: take_reports).
  // Any input but a batched spawn's first carries out the commands a batch left waiting, so that
  // no input can forget a record whose commands wait.
  template <class MakeEvent>
  Time input_at(Time t, MakeEvent&& make_event) {
    if (drain_owed) drain();
    return traced(t, std::forward<MakeEvent>(make_event));
  }
  template <class MakeEvent>
  Time traced(Time t, MakeEvent&& make_event) {
    if (trace) trace->event(TimedEvent{t, make_event()});
    return t;
  }

  void log(LogLevel level, std::string event, Json fields) {
    if (options.log) options.log(LogRecord{level, std::chrono::system_clock::now(), std::move(event), std::move(fields)});
  }

  // Posts to the owner, to run only while this runtime is alive.
  void later(std::function<void(Impl&)> f) {
    hooks.to_owner([weak = weak_from_this(), f = std::move(f)] {
      if (auto self = weak.lock()) f(*self);
    });
  }
  // User callbacks wait in order and run in one posted batch: a drain that answers a hundred
  // spawns and publishes their events makes one post to the owner, not a few hundred.
  void call_user(std::function<void()> f) { queue_user_call(UserCall{std::move(f)}); }
  void answer_admission(AdmitDone done, Result<Admission, SpawnError> result) {
    if (!done) {  // nobody asked: no user call to queue and run; a refusal goes to the log instead
      if (!result) {
        // NotPersisted: accepted (and running) but not durable, which is not a refusal.
        const bool refused = result.error().code != SpawnErrorCode::NotPersisted;
        log(refused ? LogLevel::Warn : LogLevel::Error, refused ? "unanswered_spawn_refused" : "unanswered_spawn_not_persisted",
            {{"code", tasklane::to_string(result.error().code)}, {"message", result.error().message}});
      }
      return;
    }
    queue_user_call(UserCall{AdmissionAnswer{std::move(done), std::move(result)}});
  }
  // Posted at once: a later call that runs out of memory while queueing leaves this one posted.
  void queue_user_call(UserCall call) {
    user_calls.push_back(std::move(call));
    post_user_calls();
  }
  void post_user_calls() {
    if (user_calls_posted) return;
    user_calls_posted = true;
    later([](Impl& self) { self.run_user_calls(); });
  }
  // A callback that throws propagates to the driver's loop (Asio's rule for handlers); the ones
  // behind it go back to the front of the queue and run on the next turn.
  void run_user_calls() {
    publish_metrics();  // a callback reads metrics as of the inputs that answered it
    std::vector<UserCall> batch;
    batch.swap(user_calls);
    user_calls_posted = false;
    run_call_batch(batch, [this] { return !destroyed; }, [this](auto first, auto last) {
      user_calls.insert(user_calls.begin(), first, last);
      post_user_calls();
    });
    if (user_calls.empty() && !destroyed) {  // the next batch reuses this one's capacity
      batch.clear();
      user_calls.swap(batch);
    }
  }

  // Spawns made while a RuntimeCore::Batch is open leave their commands in the kernel
  // (drain_later), and the batch carries them out together when it ends: each drain also arms the
  // timer, counts metrics and checks the hand-off and the journal, ~125 instructions of the Asio
  // strand's ~3800 a no-op task (callgrind, asio_noop, 2026-11-29). Only a spawn that ended no
  // task waits: a record whose Notify waits could be forgotten by a later input (retained_terminal)
  // before its waiters, events and log read it. Nor one that started a task: its attempt goes to
  // the workers at once, which would otherwise idle through the rest of the batch (asio_noop
  // 20.8 -> 23.7 ms per 20000 when a whole batch's starts waited for its end). Every other input
  // carries out what waits before it (input_at) and drains after it, as the code after it reads
  // what its commands did (a flush's answer, a stop). Either way the commands come out in the
  // kernel's order.
  int batch_depth = 0;
  bool drain_owed = false;  // a spawn of the open batch left commands to carry out

  // After a spawn: `quiet`, it ended no task (none it replaced, not itself) and started none.
  void drain_later(bool quiet) {
    if (batch_depth > 0 && quiet) {
      drain_owed = true;
      metrics_unpublished = true;  // the kernel's counts moved: publish_metrics() must not skip
      return;
    }
    drain();
  }
  void begin_batch() { ++batch_depth; }
  void end_batch() {  // may throw what a drain throws (out of memory)
    if (--batch_depth == 0 && drain_owed && !destroyed) drain();
  }
  void end_batch_quietly() noexcept {  // from a destructor: an input of the batch threw
    try {
      end_batch();
    } catch (...) {  // out of memory: what is left waits for the next input's drain (idle() says so)
    }
  }

  void drain() {
    kernel.drain([this](auto& command) {
      if (trace) trace->command(Command(command));  // a copy, only while tracing
      carry_out(command);
    });
    metrics_changed();
    if (trace) trace->flush();
    if (!starting.empty() && !taking_reports) work_queue->submit(starting);
    if (journal && journal->buffered() > 0 && !commit_scheduled) {
      commit_scheduled = true;  // group commit: every record buffered before this runs shares one sync
      later([](Impl& self) { self.commit(); });
    }
    hooks.arm_timer(kernel.next_deadline());
    drain_owed = false;
  }

  // Metrics are published after each input, or, inside a RuntimeCore::Turn (or a batch of reports),
  // once when the outermost turn ends: the publication takes a lock and copies the kernel's counts,
  // and one turn of a driver (a batch of spawns, of reports) holds many inputs.
  void metrics_changed() {
    metrics_unpublished = true;
    if (turn_depth == 0) publish_metrics();
  }
  void publish_metrics() {
    if (!metrics_unpublished) return;
    metrics->publish(kernel);
    metrics_unpublished = false;
  }
  void publish_metrics_quietly() noexcept {  // from a destructor
    try {
      publish_metrics();
    } catch (...) {  // out of memory, a failing lock: the next publication takes it up
    }
  }
  void begin_turn() { ++turn_depth; }
  void end_turn() noexcept {  // from destructors: also when the turn's input threw
    if (--turn_depth == 0) publish_metrics_quietly();
  }

  void commit() {
    commit_scheduled = false;
    const std::uint64_t reserving = ids_reserved_below;
    auto result = journal->commit();
    std::vector<Ack> done;
    done.swap(acks);
    if (result) ids_synced_below = reserving;
    if (!result) {
      log(LogLevel::Error, "journal_commit_failed", {{"error", result.error().message}});
    } else if (journal->journal_bytes() > options.snapshot_after_bytes) {
      if (auto s = journal->write_snapshot(with_reserved_ids(kernel.snapshot())); !s) {
        log(LogLevel::Error, "snapshot_failed", {{"error", s.error().message}});
      }
    }
    for (auto& ack : done) {
      if (result || !ack.durable) {  // a task that is not durable was never promised a record
        answer_admission(std::move(ack.done), ack.admission);
      } else {
        const std::string message = "task " + tasklane::to_string(ack.admission.id) +
                                    " was accepted but could not be persisted: " + result.error().message;
        answer_admission(std::move(ack.done), Failure{SpawnError{SpawnErrorCode::NotPersisted, message}});
      }
    }
  }

  // Pause rules live in snapshots only (records carry TaskInfo::paused, not the rule): write one now.
  PauseAnswer persist_pause_rules(std::size_t tasks) {
    PauseAnswer answer{tasks, {}, {}};
    if (stopped) {
      answer.error = make_error_code(errc::stopped);
      answer.message = "the runtime has stopped: the change holds in memory only";
    } else if (!journal) {
      pause_rules_unsaved = options.data_dir.has_value();  // not started yet: start() writes them
    } else if (auto s = journal->write_snapshot(with_reserved_ids(kernel.snapshot())); !s) {
      log(LogLevel::Error, "snapshot_failed", {{"error", s.error().message}});
      answer.error = make_error_code(errc::not_persisted);
      answer.message = "the pause rules could not be made durable: " + s.error().message;
    }
    return answer;
  }

  // Builds the event only when a subscriber wants its kind: most runtimes have no subscriber, and
  // a driver's own subscriber wants only what something listens to.
  template <class MakeEvent>
  void publish(TaskEventKind kind, MakeEvent&& make_event) {
    if (subscribers.empty()) return;
    std::optional<TaskEvent> e;
    for (const auto& [id, s] : subscribers) {
      if (s.wants && !s.wants(kind)) continue;
      if (!e) e.emplace(make_event());
      if (s.owner && *s.owner != e->owner) continue;
      queue_user_call(UserCall{EventDelivery{s.listener, *e}});
    }
  }

  // Feeds the metrics, then acts on `c` (moving from it).
  void carry_out(command::Start& start) {
    const auto task = kernel.glance(start.id);  // one look, for the start's lag and for its attempt
    metrics->on_start(start, task ? &*task : nullptr, kernel.last_time());
    on(start, task ? &*task : nullptr);
  }
  template <class C>
  void carry_out(C& command) {
    on(command);
  }

  // The running entry of `id`'s attempt, when it is that attempt's.
  Running* running_attempt(TaskId id, std::uint32_t attempt) {
    Running* r = running.find(id.value);
    return r && r->attempt == attempt ? r : nullptr;
  }

  // `task`: the kernel's glance of the started task (nullptr when it has none).
  void on(command::Start& s, const TaskGlance* task) {
    // Built before it goes in, so that running out of memory leaves no entry without a token. It
    // replaces a timed-out attempt of the task that has not answered yet.
    Running& r =
        running.put(s.id.value, Running{s.attempt, tokens.take(), s.inbox ? std::make_shared<Inbox>() : nullptr});
    publish(TaskEventKind::Started, [&] {
      return TaskEvent{TaskEventKind::Started, s.id, task ? std::string(task->owner) : std::string(), s.kind,
                       s.attempt, TaskStatus::Running, 0, {}, nullptr, {}};
    });
    const WorkFunction* work = handlers->find(s.kind);
    const AsyncWorkFunction* async_work = work ? nullptr : handlers->find_async(s.kind);
    if (!work && !async_work) {
      later([id = s.id, attempt = s.attempt, kind = s.kind](Impl& self) {
        self.on_work_done(id, attempt, Outcome::failure("no handler for kind '" + kind + "'", false), self.now());
      });
      return;
    }
    WorkHeartbeat heartbeat = task && task->heartbeat ? WorkHeartbeat(reports, s.id, s.attempt) : WorkHeartbeat();
    // Built in place: a default AttemptJob would make (and drop) a cancellation state of its own.
    starting.emplace_back(work, async_work, s.id, s.attempt, std::move(s.payload), *r.token,
                          WorkProgress(reports, s.id, s.attempt), r.inbox, std::move(heartbeat));
  }

  void on_heartbeat(TaskId id, std::uint32_t attempt, Time arrived) {
    const Time t = input_at(arrived, [&] { return Event{event::Heartbeat{id, attempt}}; });
    kernel.heartbeat(id, attempt, t);
    drain();
  }

  void on(command::Cancel& c) {
    Running* r = running_attempt(c.id, c.attempt);
    if (!r) return;
    r->token->cancel();
    if (r->inbox) r->inbox->close();
  }

  void on(command::Persist& p) {
    if (journal) journal->append(p.record);
  }

  void on(command::PersistSnapshot& p) {
    if (!journal) return;
    if (auto s = journal->write_snapshot(with_reserved_ids(p.snapshot)); !s) {
      log(LogLevel::Error, "shutdown_snapshot_failed", {{"error", s.error().message}});
    }
  }

  void on(command::Notify& n) {
    log_finished(n);
    publish(TaskEventKind::Finished, [&] {
      const auto task = kernel.glance(n.id);
      return TaskEvent{TaskEventKind::Finished, n.id, n.owner, task ? std::string(task->kind) : std::string(),
                       task ? task->attempt : 0, n.status, 1, {}, n.result, n.error};
    });
    const auto [first, last] = waiters.equal_range(n.id);
    // A copy only when someone waits.
    const std::optional<TaskInfo> copy = first != last ? kernel.get(n.id) : std::nullopt;
    if (n.next_run) on_next_run(*n.next_run);  // after: listeners see run 1 end, then run 2 appear
    for (auto it = first; it != last; ++it) call_user([done = std::move(it->second), copy] { done(copy); });
    waiters.erase(first, last);
  }

  // A run of a repeating series ended and the kernel spawned the next in the same input: a spawn
  // that no caller made, announced like one (a Spawned event, metrics, an id reservation).
  void on_next_run(TaskId next) {
    const auto run = kernel.glance(next);
    if (!run) return;  // it ended and was forgotten in the same input
    (void)reserve_past(next);
    publish(TaskEventKind::Spawned, [&] {
      return TaskEvent{TaskEventKind::Spawned, next, std::string(run->owner), std::string(run->kind), 0,
                       TaskStatus::Pending, 0, {}, nullptr, {}};
    });
  }

  void log_finished(const command::Notify& n) {
    if (!options.log) return;
    const auto task = kernel.glance(n.id);
    Json fields{{"id", tasklane::to_string(n.id)}, {"owner", n.owner}, {"status", tasklane::to_string(n.status)}};
    if (task) {
      fields["kind"] = task->kind;
      fields["attempt"] = task->attempt;
    }
    if (n.error) fields["error"] = *n.error;
    const bool bad = n.status == TaskStatus::Failed || n.status == TaskStatus::TimedOut;
    log(bad ? LogLevel::Warn : LogLevel::Info, "task_finished", std::move(fields));
  }

  void on(command::Deliver& d) {
    Running* r = running_attempt(d.to, d.attempt);
    if (!r || !r->inbox) return;
    publish(TaskEventKind::Inbox, [&] {
      const auto task = kernel.glance(d.to);  // a Deliver follows the attempt's Start: the record is there
      return TaskEvent{TaskEventKind::Inbox, d.to, task ? std::string(task->owner) : std::string(),
                       task ? std::string(task->kind) : std::string(), d.attempt, TaskStatus::Running, 0, d.from,
                       d.message, {}};
    });
    r->inbox->push(InboxMessage{std::move(d.from), std::move(d.message)});
  }

  void on(command::FlushDone& f) {
    const auto it = flushes.find(f.flush);
    if (it == flushes.end()) return;
    call_user([done = std::move(it->second), error = std::move(f.error)] { done(error); });
    flushes.erase(it);
  }

  void on(command::Stopped&) {
    stopped = true;
    log(LogLevel::Info, "runtime_stopped", Json::object());
    for (auto& done : shutdown_waiters) call_user(std::move(done));
    shutdown_waiters.clear();
    // Nothing starts after a stop, so a task still pending now will never end here: its waiters
    // get the task as it is (not terminal) rather than waiting forever.
    for (auto& [id, done] : waiters) {
      call_user([done = std::move(done), copy = kernel.get(id)] { done(copy); });
    }
    waiters.clear();
    for (auto& [id, done] : flushes) answer_stopped_flush(std::move(done));
    flushes.clear();
  }

  // A flush still waiting at the stop waits for pending tasks that will never run here.
  void answer_stopped_flush(std::function<void(std::optional<std::string>)> done) {
    call_user([done = std::move(done)] { done(std::string(stopped_flush_error)); });
  }
  static constexpr const char* stopped_flush_error = "runtime stopped before every flushed task ended";

  void on(command::RunQueuedWork& r) {
    std::optional<std::string> submitted;
    if (options.queued_work) submitted = options.queued_work(r);
    const Time t = input([&] { return Event{event::QueuedWorkAnswer{r.request, submitted}}; });
    kernel.answer_queued_work(r.request, std::move(submitted), t);
  }

  // The batch of reports the workers made since the last one, in order; each outcome (and beat) is its own
  // kernel input (and drain), exactly as if it had come alone. Every report of the batch had
  // arrived when the batch was taken, and its input is stamped with the time read just after the
  // take: one clock read for the batch (a vDSO call, ~2.5 % of the owner's time in the no-op
  // driver benchmarks), as an event loop reads its time once per turn. Other inputs made inside
  // the batch (a queued-work answer) read the clock themselves. A batch takes ~3 us a report, so
  // an attempt started late in a long batch has its deadlines counted from up to that much earlier.
  void take_reports() {
    taking_reports = true;
    begin_turn();  // the batch is one turn (inside the driver's, if it holds one)
    // If an input throws (out of memory), later starts must not wait for this batch.
    struct EndOfBatch {
      Impl& self;
      ~EndOfBatch() {
        self.taking_reports = false;
        self.end_turn();
      }
    } end_of_batch{*this};
    auto batch = reports->take();
    const Time arrived = hooks.now();  // after the take: every report of the batch arrived before this
    // A hand-off in the middle of the batch that fails (out of memory) must not drop the reports
    // behind it: they are taken first, and the failure is rethrown at the end.
    std::exception_ptr handoff_failed;
    for (auto& r : batch) {
      if (r.outcome) {
        on_work_done(r.id, r.attempt, std::move(*r.outcome), arrived);
        if (r.context) tokens.give_back(std::move(r.context->cancel));  // its Running entry is gone
        if (starting.size() >= starts_per_handoff && !handoff_failed) {
          try {
            work_queue->submit(starting);
          } catch (...) {
            handoff_failed = std::current_exception();
          }
        }
      } else if (r.beat_in_flight) {
        r.beat_in_flight->store(false, std::memory_order_release);  // a beat after this point is sent anew
        on_heartbeat(r.id, r.attempt, arrived);
      } else {
        on_progress(r.id, r.attempt, r.fraction, r.message);
      }
    }
    taking_reports = false;
    reports->recycle(std::move(batch));
    if (handoff_failed) std::rethrow_exception(handoff_failed);  // the starts left go with the next input
    if (!starting.empty()) work_queue->submit(starting);
  }

  void on_work_done(TaskId id, std::uint32_t attempt, Outcome&& outcome, Time arrived) {
    if (Running* r = running_attempt(id, attempt)) {
      if (r->inbox) r->inbox->close();
      running.erase(id.value);  // drops the token: its callbacks go now
    }
    const Time t = input_at(arrived, [&] { return Event{event::Complete{id, attempt, outcome}}; });
    kernel.complete(id, attempt, std::move(outcome), t);
    drain();
  }

  // Progress of an attempt that is still out. Of a task that has ended and been forgotten meanwhile
  // (its attempt timed out, its work ignores the token): no event, nobody can name its owner.
  void on_progress(TaskId id, std::uint32_t attempt, double fraction, const std::string& message) {
    if (!running_attempt(id, attempt) || subscribers.empty()) return;
    const auto task = kernel.glance(id);
    if (!task) return;
    publish(TaskEventKind::Progress, [&] {
      return TaskEvent{TaskEventKind::Progress, id, std::string(task->owner), std::string(task->kind), attempt,
                       TaskStatus::Running, fraction, message, nullptr, {}};
    });
  }
};

RuntimeCore::RuntimeCore(RuntimeOptions options, HandlerRegistry handlers, RuntimeHooks hooks)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handlers), std::move(hooks))) {
  impl_->reports = std::make_shared<WorkReports>([to_owner = impl_->hooks.to_owner, weak = std::weak_ptr<Impl>(impl_)] {
    to_owner([weak] {
      if (auto self = weak.lock()) self->take_reports();
    });
  });
  impl_->work_queue = std::make_shared<WorkQueue>(impl_->hooks.run_work, impl_->hooks.work_threads, impl_->handlers,
                                                  impl_->reports);
}

RuntimeCore::~RuntimeCore() {
  impl_->publish_metrics_quietly();  // the Metrics outlive the core: leave them up to date
  impl_->destroyed = true;
  impl_->reports->close();  // work that ignores its token may keep reporting: drop it, post nothing
  impl_->work_queue->close();
  impl_->running.for_each([](std::uint64_t, const Impl::Running& r) {
    if (r.token) r.token->cancel();
    if (r.inbox) r.inbox->close();
  });
}

Result<JournalRecovery, JournalError> RuntimeCore::start() {
  Impl& s = *impl_;
  JournalRecovery recovery;
  if (s.options.data_dir) {
    auto opened = FileJournal::open(*s.options.data_dir);
    if (!opened) {
      s.log(LogLevel::Error, "data_dir_unopenable", {{"error", opened.error().message}});
      // Stopped, not merely unstarted: otherwise it would accept durable tasks it cannot persist.
      s.kernel.shutdown(ShutdownMode::Drain, s.input([] { return Event{event::Shutdown{ShutdownMode::Drain}}; }));
      s.drain();
      return Failure{opened.error()};
    }
    s.journal = std::move(opened.value().journal);
    recovery = std::move(opened.value().recovery);
    if (recovery.torn_tail_at) {
      s.log(LogLevel::Warn, "journal_torn_tail_cut", {{"offset", *recovery.torn_tail_at}, {"bytes", recovery.torn_bytes}});
    }
    s.kernel.restore(recovery.snapshot, s.input([&] { return Event{event::Restore{recovery.snapshot}}; }));
  } else {
    s.kernel.tick(s.input([] { return Event{event::Tick{}}; }));
  }
  s.drain();
  if (s.pause_rules_unsaved && s.journal) (void)s.persist_pause_rules(0);  // logged if it fails
  s.log(LogLevel::Info, "runtime_started",
        {{"data_dir", s.options.data_dir ? s.options.data_dir->string() : std::string()},
         {"tasks_restored", recovery.snapshot.tasks.size()}, {"records_replayed", recovery.records_replayed}});
  return recovery;
}

void RuntimeCore::spawn(TaskSpec spec, SpawnDone done) {
  if (!done) return admit(std::move(spec), nullptr);
  admit(std::move(spec), [done = std::move(done)](Result<Admission, SpawnError> r) {
    if (r) {
      done(r.value().id);
    } else {
      done(Failure{r.error()});
    }
  });
}

void RuntimeCore::admit(const TaskSpec& spec, AdmitDone done) { admit_spec(spec, std::move(done)); }

void RuntimeCore::admit(TaskSpec&& spec, AdmitDone done) { admit_spec(std::move(spec), std::move(done)); }

// Both overloads: the kernel moves from an rvalue spec and copies only what it keeps from a const one.
template <class Spec>
void RuntimeCore::admit_spec(Spec&& spec, AdmitDone done) {
  Impl& s = *impl_;
  const bool durable = spec.durable && s.journal;
  // A spawn inside a Batch leaves what waits in place (drain_later), unlike every other input.
  const Time t = s.batch_depth > 0 ? s.traced(s.now(), [&] { return Event{event::Spawn{spec}}; })
                                   : s.input([&] { return Event{event::Spawn{spec}}; });
  const std::size_t unfinished = s.kernel.unfinished(), running = s.kernel.running();
  auto result = s.kernel.admit(std::forward<Spec>(spec), t);
  const bool created = result && !result.value().deduplicated;
  if (created) {
    s.publish(TaskEventKind::Spawned, [&] {
      const auto task = s.kernel.glance(result.value().id);
      return TaskEvent{TaskEventKind::Spawned, result.value().id, std::string(task->owner), std::string(task->kind), 0,
                       TaskStatus::Pending, 0, {}, nullptr, {}};
    });
  }
  const bool needs_reservation = created && s.reserve_past(result.value().id);  // a deduplicated spawn made no id
  if (created && (durable || needs_reservation)) {
    s.acks.push_back(Impl::Ack{result.value(), std::move(done), durable});
  } else {
    s.answer_admission(std::move(done), std::move(result));
  }
  // Only a spawn that ended nothing and started nothing waits: a start goes to the workers now.
  s.drain_later(s.kernel.unfinished() == unfinished + (created ? 1 : 0) && s.kernel.running() == running);
}

std::size_t RuntimeCore::abort(const AbortSelector& which) {
  const std::size_t n = impl_->kernel.abort(which, impl_->input([&] { return Event{event::Abort{which}}; }));
  impl_->drain();
  return n;
}

bool RuntimeCore::cancel(TaskId id) { return abort(abort_selector::Task{id}) == 1; }

PauseAnswer RuntimeCore::pause(const PauseSelector& which) {
  const std::size_t n = impl_->kernel.pause(which, impl_->input([&] { return Event{event::Pause{which}}; }));
  impl_->drain();
  return impl_->persist_pause_rules(n);
}

PauseAnswer RuntimeCore::resume(const PauseSelector& which) {
  const std::size_t n = impl_->kernel.resume(which, impl_->input([&] { return Event{event::Resume{which}}; }));
  impl_->drain();
  return impl_->persist_pause_rules(n);
}

void RuntimeCore::flush(const FlushSelector& which, std::function<void(std::optional<std::string>)> done) {
  Impl& s = *impl_;
  const FlushId id = s.kernel.flush(which, s.input([&] { return Event{event::Flush{which}}; }));
  s.flushes[id] = std::move(done);
  s.drain();
  if (const auto it = s.flushes.find(id); s.stopped && it != s.flushes.end()) {
    s.answer_stopped_flush(std::move(it->second));
    s.flushes.erase(it);
  }
}

Result<void, SendError> RuntimeCore::send(TaskId to, std::string from, Json message) {
  const Time t = impl_->input([&] { return Event{event::Send{to, from, message}}; });
  auto result = impl_->kernel.send(to, std::move(from), std::move(message), t);
  impl_->drain();
  return result;
}

void RuntimeCore::poke(std::optional<std::string> session, std::string reason) {
  const Time t = impl_->input([&] { return Event{event::Poke{session, reason}}; });
  impl_->kernel.poke(std::move(session), std::move(reason), t);
  impl_->drain();
}

void RuntimeCore::complete_session(std::string session, std::string reason) {
  const Time t = impl_->input([&] { return Event{event::SessionComplete{session, reason}}; });
  impl_->kernel.complete_session(std::move(session), std::move(reason), t);
  impl_->drain();
}

void RuntimeCore::wait(TaskId id, std::function<void(std::optional<TaskInfo>)> done) {
  Impl& s = *impl_;
  const auto task = s.kernel.glance(id);
  if (!task || is_terminal(task->status) || s.stopped) {
    s.call_user([done = std::move(done), copy = s.kernel.get(id)]() mutable { done(std::move(copy)); });
    return;
  }
  s.waiters.emplace(id, std::move(done));
}

void RuntimeCore::shutdown(ShutdownMode mode, std::function<void()> done) {
  Impl& s = *impl_;
  if (s.stopped) {
    s.call_user(std::move(done));
    return;
  }
  s.shutdown_waiters.push_back(std::move(done));
  s.kernel.shutdown(mode, s.input([&] { return Event{event::Shutdown{mode}}; }));
  s.drain();
}

void RuntimeCore::on_timer() {
  impl_->kernel.tick(impl_->input([] { return Event{event::Tick{}}; }));
  impl_->drain();
}

std::uint64_t RuntimeCore::subscribe(std::optional<std::string> owner, std::function<void(const TaskEvent&)> listener,
                                     EventFilter wants) {
  const std::uint64_t id = impl_->next_subscription++;
  impl_->subscribers[id] = Impl::Subscriber{std::move(owner), std::move(listener), std::move(wants)};
  return id;
}

void RuntimeCore::subscribe_as(std::uint64_t id, std::optional<std::string> owner,
                               std::function<void(const TaskEvent&)> listener) {
  impl_->subscribers[id] = Impl::Subscriber{std::move(owner), std::move(listener), nullptr};
  impl_->next_subscription = std::max(impl_->next_subscription, id + 1);
}

void RuntimeCore::unsubscribe(std::uint64_t subscription) { impl_->subscribers.erase(subscription); }

const Kernel& RuntimeCore::kernel() const { return impl_->kernel; }

std::shared_ptr<const Metrics> RuntimeCore::metrics() const { return impl_->metrics; }

void RuntimeCore::publish_metrics() { impl_->publish_metrics(); }

RuntimeCore::Turn::Turn(RuntimeCore& core) : impl_(core.impl_) { impl_->begin_turn(); }

RuntimeCore::Turn::~Turn() { impl_->end_turn(); }

bool RuntimeCore::idle() const { return impl_->running.empty() && !impl_->commit_scheduled && !impl_->drain_owed; }

RuntimeCore::Batch::Batch(RuntimeCore& core) : impl_(core.impl_) { impl_->begin_batch(); }

RuntimeCore::Batch::~Batch() {
  if (!ended_) impl_->end_batch_quietly();
}

void RuntimeCore::Batch::end() {
  ended_ = true;
  impl_->end_batch();
}

}  // namespace tasklane::drivers
