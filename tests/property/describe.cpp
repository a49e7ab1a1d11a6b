// Texts for kernel values in property-test traces (see describe.hpp).
#include "describe.hpp"

#include <sstream>
#include <type_traits>

namespace tasklane::property {
namespace {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

std::string text(const std::optional<std::string>& s) { return s ? "'" + *s + "'" : "none"; }

std::string describe_key(const SequenceKey& key) { return key.agent + "/" + key.scope + "/" + key.purpose; }

}  // namespace

std::string describe(Duration d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "ms";
  return std::to_string(d.count()) + "us";
}

std::string describe(const TaskSpec& spec) {
  std::ostringstream os;
  os << "kind='" << spec.kind << "' owner=" << spec.owner << " prio=" << to_string(spec.priority);
  if (spec.name) os << " name='" << *spec.name << "'";
  if (spec.key) os << " key=" << describe_key(*spec.key);
  if (spec.run_after.count() != 0) os << " run_after=" << describe(spec.run_after);
  if (spec.timeout) os << " timeout=" << describe(*spec.timeout);
  if (spec.heartbeat) os << " heartbeat=" << describe(*spec.heartbeat);
  if (spec.repeat) {
    os << " repeat=" << describe(spec.repeat->every) << "/" << to_string(spec.repeat->mode);
    if (spec.repeat->times) os << "x" << *spec.repeat->times;
  }
  const RetryPolicy& r = spec.retry;
  if (!(r == RetryPolicy{})) {
    os << " retry{max=" << r.max_attempts << " init=" << describe(r.initial_backoff) << " mult=" << r.multiplier
       << " cap=" << describe(r.max_backoff) << " jitter=" << r.jitter;
    for (const auto& e : r.non_retryable_errors) os << " fatal:" << e;
    if (r.requeue_on_restart) os << " requeue";
    os << "}";
  }
  if (spec.rate_limit) {
    os << " rate{'" << spec.rate_limit->key << "' " << spec.rate_limit->starts << "/" << describe(spec.rate_limit->interval) << "}";
  }
  if (spec.dedup) os << " dedup{'" << spec.dedup->key << "' " << to_string(spec.dedup->mode) << "}";
  if (spec.quota) {
    os << " quota{'" << spec.quota->key << "' cooldown=" << describe(spec.quota->cooldown)
       << " max=" << spec.quota->max_attempts << (spec.quota->single_flight ? " single" : "") << "}";
  }
  if (!spec.after.empty()) {
    os << " after{" << to_string(spec.after_mode);
    for (const TaskId d : spec.after) os << " " << to_string(d);
    os << "}";
  }
  if (spec.parent.task) os << " parent=" << to_string(*spec.parent.task);
  if (spec.parent.run) os << " run=" << *spec.parent.run;
  if (spec.inbox) os << " inbox";
  if (spec.durable) os << " durable";
  if (!spec.payload.is_null()) {
    const std::string dumped = spec.payload.dump();
    os << " payload=" << (dumped.size() > 24 ? dumped.substr(0, 20) + "...(" + std::to_string(dumped.size()) + "B)" : dumped);
  }
  return os.str();
}

std::string describe(const Outcome& o) {
  if (o.ok) return "ok " + o.result.dump();
  std::string s = "error '" + o.error + "'";
  if (!o.error_type.empty()) s += " type=" + o.error_type;
  if (!o.retryable) s += " non-retryable";
  return s;
}

std::string describe(const AbortSelector& which) {
  return std::visit(overloaded{
                        [](const abort_selector::Task& s) { return "task " + to_string(s.id); },
                        [](const abort_selector::Tree& s) { return "tree " + to_string(s.root); },
                        [](const abort_selector::Owner& s) { return "owner " + s.owner; },
                        [](const abort_selector::Run& s) { return "run " + s.run; },
                        [](const abort_selector::All&) { return std::string("all"); },
                    },
                    which);
}

std::string describe(const PauseSelector& which) {
  if (const auto* o = std::get_if<pause_selector::Owner>(&which)) return "owner=" + o->owner;
  return "purpose=" + std::get<pause_selector::Purpose>(which).purpose;
}

std::string describe(const FlushSelector& which) {
  return std::visit(overloaded{
                        [](const flush_selector::All&) { return std::string("all"); },
                        [](const flush_selector::Scope& s) { return "scope " + s.scope; },
                        [](const flush_selector::Purpose& s) { return "purpose " + s.purpose; },
                        [](const flush_selector::ScopePurpose& s) { return "scope+purpose " + s.scope + "/" + s.purpose; },
                    },
                    which);
}

std::string describe(const Event& event) {
  return std::visit(
      overloaded{
          [](const event::Spawn& e) { return "spawn " + describe(e.spec); },
          [](const event::Complete& e) {
            return "complete " + to_string(e.id) + "#" + std::to_string(e.attempt) + " " + describe(e.outcome);
          },
          [](const event::Tick&) { return std::string("tick"); },
          [](const event::Poke& e) { return "poke " + text(e.session) + " '" + e.reason + "'"; },
          [](const event::QueuedWorkAnswer& e) {
            return "answer_queued_work #" + std::to_string(e.request) + " " + text(e.submitted);
          },
          [](const event::SessionComplete& e) { return "complete_session '" + e.session + "'"; },
          [](const event::Abort& e) { return "abort " + describe(e.which); },
          [](const event::Flush& e) { return "flush " + describe(e.which); },
          [](const event::Send& e) { return "send " + to_string(e.to) + " from " + e.from + " " + e.message.dump(); },
          [](const event::Shutdown& e) {
            return std::string("shutdown ") + (e.mode == ShutdownMode::Drain ? "drain" : "cancel");
          },
          [](const event::Pause& e) { return "pause " + describe(e.which); },
          [](const event::Resume& e) { return "resume " + describe(e.which); },
          [](const event::Restore& e) {
            return "restore (" + std::to_string(e.snapshot.tasks.size()) + " tasks, next_id " +
                   std::to_string(e.snapshot.next_id) + ")";
          },
          [](const event::Heartbeat& e) { return "heartbeat " + to_string(e.id) + "#" + std::to_string(e.attempt); },
      },
      event);
}

std::string describe(const Command& command) {
  return std::visit(
      overloaded{
          [](const command::Start& c) {
            return "Start " + to_string(c.id) + "#" + std::to_string(c.attempt) +
                   (c.deadline ? " deadline=" + describe(*c.deadline) : std::string());
          },
          [](const command::Cancel& c) {
            return "Cancel " + to_string(c.id) + "#" + std::to_string(c.attempt) + " " + to_string(c.reason);
          },
          [](const command::Persist& c) {
            return "Persist " + to_string(c.record.id) + " " + to_string(c.record.status) + "#" +
                   std::to_string(c.record.attempt);
          },
          [](const command::PersistSnapshot& c) {
            return "PersistSnapshot (" + std::to_string(c.snapshot.tasks.size()) + " tasks)";
          },
          [](const command::Notify& c) {
            return "Notify " + to_string(c.id) + " " + to_string(c.status) + (c.error ? " '" + *c.error + "'" : "");
          },
          [](const command::Deliver& c) {
            return "Deliver " + to_string(c.to) + "#" + std::to_string(c.attempt) + " " + c.message.dump();
          },
          [](const command::FlushDone& c) { return "FlushDone " + std::to_string(c.flush) + " " + text(c.error); },
          [](const command::Stopped&) { return std::string("Stopped"); },
          [](const command::RunQueuedWork& c) {
            return "RunQueuedWork #" + std::to_string(c.request) + " " + text(c.session) + " '" + c.reason + "'";
          },
      },
      command);
}

std::string describe(const Config& c) {
  return "capacity=" + std::to_string(c.capacity) + " max_running=" + std::to_string(c.max_running) +
         " max_payload=" + std::to_string(c.max_payload_bytes) + " seed=" + std::to_string(c.seed) +
         (c.retained_terminal < 100 ? " retained_terminal=" + std::to_string(c.retained_terminal) : std::string()) +
         (c.queued_work_runner ? " runner poll=" + describe(c.queued_work_poll) : std::string()) +
         (c.max_dependencies != Config{}.max_dependencies ? " max_dependencies=" + std::to_string(c.max_dependencies)
                                                          : std::string());
}

}  // namespace tasklane::property
