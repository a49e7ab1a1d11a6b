#include "chrome_trace.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tasklane::cli {
namespace {

constexpr int workers_pid = 1;
constexpr int lanes_pid = 2;
constexpr int runtime_pid = 3;
constexpr int events_tid = 1;
constexpr int flushes_tid = 2;

struct Attempt {
  TaskId id;
  std::uint32_t number = 0;
  int worker = 0;  // tid
  Time started{0};
  std::optional<int> lane;  // tid, while the lane slice is open
  std::string name;
};

using AttemptKey = std::pair<TaskId, std::uint32_t>;

class Converter {
 public:
  explicit Converter(const drivers::Trace& trace) : config_(trace.config), kernel_(trace.config) {
    for (const auto& entry : trace.entries) {
      if (const auto* e = std::get_if<TimedEvent>(&entry)) {
        origin_ = e->at;
        break;
      }
    }
    now_ = origin_;
    meta(runtime_pid, 0, "process_name", "runtime");
    meta(runtime_pid, events_tid, "thread_name", "events");
    meta(runtime_pid, flushes_tid, "thread_name", "flushes");
    meta(workers_pid, 0, "process_name", "workers");
    meta(lanes_pid, 0, "process_name", "sequence lanes");
  }

  void entry(const drivers::TraceEntry& entry) {
    if (const auto* e = std::get_if<TimedEvent>(&entry)) {
      on_event(*e);
    } else if (const auto* c = std::get_if<Command>(&entry)) {
      std::visit([&](const auto& command) { on(command); }, *c);
    } else {
      on_restart();
    }
  }

  // The process died: its work died with it, its flushes will never answer.
  void on_restart() {
    close_all(Json{{"died", "restart"}});
    busy_workers_.clear();
    instant(runtime_pid, events_tid, "restart", Json::object());
    kernel_ = Kernel(config_);
    ++generation_;
  }

  Json finish(ChromeTraceSummary& summary) {
    close_all(Json{{"unfinished", true}});

    summary.events = events_.size();
    summary.attempts = attempts_started_;
    summary.workers = worker_count_;
    summary.lanes = lanes_.size();
    summary.flushes = flushes_seen_;
    return Json{{"traceEvents", std::move(events_)},
                {"displayTimeUnit", "ms"},
                {"otherData", {{"generator", "tasklane trace"}, {"origin_us", origin_.count()}}}};
  }

 private:
  std::int64_t ts(Time t) const { return (t - origin_).count(); }

  void push(Json e) { events_.push_back(std::move(e)); }

  // Ends every open slice and span now, with `args`.
  void close_all(const Json& args) {
    for (auto& [key, a] : attempts_) {
      close_lane(a, args);
      push({{"ph", "E"}, {"ts", ts(now_)}, {"pid", workers_pid}, {"tid", a.worker}, {"name", a.name}, {"args", args}});
    }
    attempts_.clear();
    for (const auto& [flush, started] : open_flushes_) {
      (void)started;
      push({{"ph", "e"}, {"ts", ts(now_)}, {"pid", runtime_pid}, {"tid", flushes_tid}, {"name", "flush"}, {"cat", "flush"},
            {"id", flush_span_id(flush)}, {"args", args}});
    }
    open_flushes_.clear();
  }

  // Flush ids start again at 1 in a fresh kernel; span ids must not.
  std::uint64_t flush_span_id(FlushId flush) const { return generation_ * 1'000'000'000ULL + flush; }

  void meta(int pid, int tid, const char* what, const std::string& name) {
    push({{"ph", "M"}, {"ts", 0}, {"pid", pid}, {"tid", tid}, {"name", what}, {"args", {{"name", name}}}});
  }

  void instant(int pid, int tid, const std::string& name, Json args) {
    push({{"ph", "i"}, {"s", "t"}, {"ts", ts(now_)}, {"pid", pid}, {"tid", tid}, {"name", name}, {"args", std::move(args)}});
  }

  int take_worker() {
    int slot = 1;
    while (busy_workers_.count(slot)) ++slot;
    busy_workers_.insert(slot);
    if (static_cast<std::size_t>(slot) > worker_count_) {
      worker_count_ = static_cast<std::size_t>(slot);
      meta(workers_pid, slot, "thread_name", "worker " + std::to_string(slot));
    }
    return slot;
  }

  int lane_of(const SequenceKey& key) {
    const auto it = lanes_.find(key);
    if (it != lanes_.end()) return it->second;
    const int tid = static_cast<int>(lanes_.size()) + 1;
    lanes_[key] = tid;
    meta(lanes_pid, tid, "thread_name", key.agent + "/" + key.scope + "/" + key.purpose);
    return tid;
  }

  void close_lane(Attempt& a, Json args) {
    if (!a.lane) return;
    push({{"ph", "X"}, {"ts", ts(a.started)}, {"dur", (now_ - a.started).count()}, {"pid", lanes_pid}, {"tid", *a.lane},
          {"name", a.name}, {"args", std::move(args)}});
    a.lane.reset();
  }

  Attempt* attempt(TaskId id, std::uint32_t number) {
    const auto it = attempts_.find({id, number});
    return it == attempts_.end() ? nullptr : &it->second;
  }

  // Inputs: fed to the kernel (for its reads), then what they mean for the picture.
  void on_event(const TimedEvent& e) {
    now_ = std::max(now_, e.at);
    if (const auto* flush = std::get_if<event::Flush>(&e.event)) {
      const FlushId id = kernel_.flush(flush->which, e.at);
      ++flushes_seen_;
      open_flushes_[id] = now_;
      push({{"ph", "b"}, {"ts", ts(now_)}, {"pid", runtime_pid}, {"tid", flushes_tid}, {"name", "flush"}, {"cat", "flush"}, {"id", flush_span_id(id)}});
      discard_commands();
      return;
    }
    apply(kernel_, e);
    discard_commands();
    if (const auto* done = std::get_if<event::Complete>(&e.event)) {
      on_work_returned(*done);
    } else if (const auto* s = std::get_if<event::Shutdown>(&e.event)) {
      instant(runtime_pid, events_tid, "shutdown", {{"mode", s->mode == ShutdownMode::Drain ? "drain" : "cancel"}});
    } else if (std::holds_alternative<event::Restore>(e.event)) {
      instant(runtime_pid, events_tid, "restore", {{"tasks", std::get<event::Restore>(e.event).snapshot.tasks.size()}});
    }
  }

  // The recorded commands are the truth; the fresh kernel is only read.
  void discard_commands() {
    while (kernel_.poll()) {
    }
  }

  void on_work_returned(const event::Complete& done) {
    Attempt* a = attempt(done.id, done.attempt);
    if (!a) return;  // a completion for an attempt this trace never started
    const std::optional<TaskInfo> info = kernel_.get(done.id);
    Json args{{"id", to_string(done.id)}, {"attempt", done.attempt}, {"outcome", done.outcome.ok ? "ok" : "error"}};
    if (!done.outcome.ok && !done.outcome.error.empty()) args["error"] = done.outcome.error;
    if (info) args["task_status"] = to_string(info->status);
    close_lane(*a, args);
    push({{"ph", "E"}, {"ts", ts(now_)}, {"pid", workers_pid}, {"tid", a->worker}, {"name", a->name}, {"args", std::move(args)}});
    busy_workers_.erase(a->worker);
    attempts_.erase({done.id, done.attempt});
  }

  void on(const command::Start& s) {
    const std::optional<TaskInfo> info = kernel_.get(s.id);
    Attempt a;
    a.id = s.id;
    a.number = s.attempt;
    a.worker = take_worker();
    a.started = now_;
    a.name = s.kind;
    Json args{{"id", to_string(s.id)}, {"attempt", s.attempt}};
    if (info) {
      args["owner"] = info->spec.owner;
      args["priority"] = to_string(info->spec.priority);
      args["lag_us"] = (now_ - info->due).count();
      if (info->spec.name) args["task_name"] = *info->spec.name;
      if (info->spec.key) a.lane = lane_of(*info->spec.key);
    }
    if (s.deadline) args["deadline_us"] = ts(*s.deadline);
    push({{"ph", "B"}, {"ts", ts(now_)}, {"pid", workers_pid}, {"tid", a.worker}, {"name", a.name}, {"args", args}});
    if (s.attempt > 1) {
      Json retry{{"id", to_string(s.id)}, {"attempt", s.attempt}};
      if (info && info->error) retry["previous_error"] = *info->error;
      instant(workers_pid, a.worker, "retry", std::move(retry));
    }
    ++attempts_started_;
    attempts_[{s.id, s.attempt}] = std::move(a);
  }

  void on(const command::Cancel& c) {
    Attempt* a = attempt(c.id, c.attempt);
    const bool timeout = c.reason == CancelReason::TimedOut;
    Json args{{"id", to_string(c.id)}, {"attempt", c.attempt}, {"reason", to_string(c.reason)}};
    if (!a) {
      instant(runtime_pid, events_tid, timeout ? "timeout" : "cancel", std::move(args));
      return;
    }
    instant(workers_pid, a->worker, timeout ? "timeout" : "cancel", args);
    if (timeout) close_lane(*a, {{"id", to_string(c.id)}, {"attempt", c.attempt}, {"outcome", "timed out"}});
  }

  void on(const command::Notify& n) {
    // A task that ends while an attempt of it is still open ended without that attempt's work
    // returning here (a timeout): the lane is free from now on.
    const std::optional<TaskInfo> info = kernel_.get(n.id);
    Attempt* a = info ? attempt(n.id, info->attempt) : nullptr;
    if (a) {
      close_lane(*a, {{"id", to_string(n.id)}, {"task_status", to_string(n.status)}});
      return;
    }
    if (!info || info->attempt == 0) {
      Json args{{"id", to_string(n.id)}, {"owner", n.owner}, {"status", to_string(n.status)}};
      if (n.error) args["error"] = *n.error;
      instant(runtime_pid, events_tid, "ended without running", std::move(args));
    }
  }

  void on(const command::Deliver& d) {
    if (Attempt* a = attempt(d.to, d.attempt)) instant(workers_pid, a->worker, "inbox", {{"from", d.from}});
  }

  void on(const command::FlushDone& f) {
    if (!open_flushes_.erase(f.flush)) return;
    Json args = Json::object();
    if (f.error) args["error"] = *f.error;
    push({{"ph", "e"}, {"ts", ts(now_)}, {"pid", runtime_pid}, {"tid", flushes_tid}, {"name", "flush"}, {"cat", "flush"},
          {"id", flush_span_id(f.flush)}, {"args", std::move(args)}});
  }

  void on(const command::Stopped&) { instant(runtime_pid, events_tid, "stopped", Json::object()); }
  void on(const command::Persist&) {}
  void on(const command::PersistSnapshot&) {}
  void on(const command::RunQueuedWork& r) {
    instant(runtime_pid, events_tid, "run queued work", {{"session", r.session ? Json(*r.session) : Json()}, {"reason", r.reason}});
  }

  Config config_;
  Kernel kernel_;
  std::uint64_t generation_ = 0;  // restarts so far
  Time origin_{0};
  Time now_{0};
  Json events_ = Json::array();
  std::map<AttemptKey, Attempt> attempts_;
  std::set<int> busy_workers_;
  std::size_t worker_count_ = 0;
  std::map<SequenceKey, int> lanes_;
  std::map<FlushId, Time> open_flushes_;
  std::size_t flushes_seen_ = 0;
  std::size_t attempts_started_ = 0;
};

}  // namespace

Json chrome_trace(const drivers::Trace& trace, ChromeTraceSummary& summary,
                  const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  Converter converter(trace);
  for (std::size_t i = 0; i < trace.entries.size(); ++i) {
    if (progress && i % 256 == 0) progress(i, trace.entries.size());
    converter.entry(trace.entries[i]);
  }
  return converter.finish(summary);
}

}  // namespace tasklane::cli
