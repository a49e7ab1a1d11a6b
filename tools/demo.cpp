// tasklane_demo (`./run demo`): one scripted agent session on the simulation driver, printed as a
// timeline with one line per kernel command, then a short summary. Virtual time, a fixed seed:
// the output is the same on every run and every machine.
//
// The story: an agent turn in session-1 finishes. Fact extraction and memory compaction run after
// it, one after the other (one sequence key per session); compaction has a quota with a cooldown
// and a timeout that fires on its first, slow attempt, and the retry succeeds. A sub-agent with an
// inbox gets two messages. A low-priority export waits for the higher-priority work. Indexing the
// turn fails and its error surfaces at the session's flush. A research tree is cancelled. Then a
// graceful shutdown drains the last task and persists what is still pending.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "tasklane/drivers/invariants.hpp"
#include "tasklane/drivers/simulation.hpp"

namespace {

using namespace tasklane;
using sim::Simulation;
using sim::WorkPlan;
using sim::WorkRequest;

const std::string session = "session-1";

std::string stamp(Time at) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "[%8.3f ms]", static_cast<double>(at.count()) / 1000.0);
  return buffer;
}

std::string format_line(Time at, const std::string& verb, const std::string& text) {
  char head[64];
  std::snprintf(head, sizeof head, "%s %-8s ", stamp(at).c_str(), verb.c_str());
  return head + text;
}

// What the script does, between the kernel's commands.
void say(Time at, const std::string& text) { std::printf("%s -- %s\n", stamp(at).c_str(), text.c_str()); }

WorkPlan takes(std::int64_t ms, Outcome outcome = Outcome::success()) {
  return WorkPlan{milliseconds(ms), std::move(outcome), false, milliseconds(2), std::nullopt};
}

TaskSpec task(std::string kind, Priority priority) {
  TaskSpec spec;
  spec.kind = std::move(kind);
  spec.owner = session;
  spec.priority = priority;
  spec.payload = {{"session", session}, {"turn", 1}};
  return spec;
}

class Demo {
 public:
  Demo() : sim_(make_config(), /*seed=*/7), checker_(sim_.kernel()) {
    sim_.on_kind("extract_facts", [](const WorkRequest&) { return takes(8, Outcome::success({{"facts", 3}})); });
    sim_.on_kind("compact_memory", [](const WorkRequest& w) {
      // The first attempt hits a slow model and runs past its 25 ms timeout; the retry is quick.
      return w.start.attempt == 1 ? takes(60) : takes(12, Outcome::success({{"tokens_saved", 4100}}));
    });
    sim_.on_kind("index_turn", [](const WorkRequest&) {
      return takes(4, Outcome::failure("vector store rejected the batch: dimension mismatch (1536 != 768)", false));
    });
    sim_.on_kind("sub_agent", [](const WorkRequest&) { return takes(100, Outcome::success({{"answered", 2}})); });
    sim_.on_kind("research", [](const WorkRequest&) { return WorkPlan{Duration{0}, Outcome::success(), true, milliseconds(2), std::nullopt}; });
    sim_.on_kind("export_transcript", [](const WorkRequest&) { return takes(5, Outcome::success({{"bytes", 18230}})); });
    sim_.on_kind("summarize_session", [](const WorkRequest&) { return takes(20, Outcome::success({{"summary", "ok"}})); });

    sim::watch(sim_, checker_);
    sim_.on_command([this](Time at, const Command& c) { print(at, c); });
    sim_.on_input([this](const TimedEvent& e) { note_stale(e); });
  }

  int run() {
    std::printf("tasklane demo: one agent session on the simulation driver (virtual time, seed 7)\n");
    std::printf("max_running 2; priorities low < normal < high < critical\n\n");

    say(sim_.now(), "turn 1 of " + session + " finished: schedule the post-turn work");
    const TaskId facts = spawn("facts", post_turn("extract_facts"));
    TaskSpec compaction = post_turn("compact_memory");
    compaction.timeout = milliseconds(25);
    compaction.retry.max_attempts = 3;
    compaction.retry.initial_backoff = milliseconds(5);
    compaction.quota = QuotaSpec{session + "/compaction", milliseconds(40), 10, false};
    const TaskId compact = spawn("compaction", compaction);
    TaskSpec agent = task("sub_agent", Priority::Normal);
    agent.name = "researcher";
    agent.inbox = true;
    agent.parent.run = "turn-1";
    const TaskId sub = spawn("sub-agent", agent);
    TaskSpec index = task("index_turn", Priority::Normal);
    index.key = SequenceKey{"assistant", session, "index"};
    spawn("index", index);
    TaskSpec root = task("research", Priority::Normal);
    root.parent.run = "turn-1";
    const TaskId tree = spawn("research tree", root);
    for (int i = 0; i < 2; ++i) {
      TaskSpec child = task("research", Priority::Normal);
      child.parent.task = tree;
      child.payload["query"] = i == 0 ? "prior art" : "benchmarks";
      spawn("research step", child);
    }
    const TaskId exporter = spawn("export", low_priority_export());
    const FlushId flush = sim_.flush(flush_selector::Scope{session});
    print_pending();
    say(sim_.now(), "flush #" + std::to_string(flush) + " waits for every task of scope " + session);

    advance_to(milliseconds(2));
    message(sub, "look up the user's deadline");
    advance_to(milliseconds(40));
    message(sub, "also check the calendar");
    advance_to(milliseconds(50));
    say(sim_.now(), "the user moved on: cancel the research tree " + to_string(tree));
    const std::size_t cancelled = sim_.abort(abort_selector::Tree{tree});
    print_pending();
    say(sim_.now(), std::to_string(cancelled) + " tasks cancelled or asked to stop");

    advance_to(milliseconds(110));
    say(sim_.now(), "the session is closing");
    TaskSpec summary = task("summarize_session", Priority::Normal);
    summary.durable = true;
    spawn("summary", summary);
    TaskSpec reminder = task("follow_up_reminder", Priority::Low);
    reminder.durable = true;
    reminder.run_after = seconds(3600);
    spawn("reminder", reminder);
    advance_to(milliseconds(115));
    say(sim_.now(), "graceful shutdown (drain): running work finishes, pending work is persisted");
    sim_.shutdown(ShutdownMode::Drain);
    sim_.run_until_idle();
    print_pending();

    summarize(flush, {facts, compact, exporter});
    return checker_.ok() ? 0 : 1;
  }

 private:
  static Config make_config() {
    Config c;
    c.max_running = 2;
    c.capacity = 64;
    c.seed = 2024;
    return c;
  }

  static TaskSpec post_turn(std::string kind) {
    TaskSpec spec = task(std::move(kind), Priority::High);
    spec.key = SequenceKey{"assistant", session, "post_turn"};
    spec.durable = true;
    return spec;
  }

  static TaskSpec low_priority_export() {
    TaskSpec spec = task("export_transcript", Priority::Low);
    spec.description = "export the transcript for the user's archive";
    return spec;
  }

  TaskId spawn(const std::string& what, TaskSpec spec) {
    const std::string kind = spec.kind;
    const Priority priority = spec.priority;
    const auto id = sim_.spawn(std::move(spec));
    if (!id) {
      say(sim_.now(), what + " refused: " + id.error().message);
      return TaskId{~0ULL};
    }
    checker_.on_spawned(id.value());
    const std::string text = to_string(id.value()) + " " + kind + " (" + to_string(priority) + ", " + what + ")";
    std::printf("%s\n", format_line(sim_.now(), "spawn", text).c_str());
    print_pending();
    return id.value();
  }

  void message(TaskId to, const std::string& text) {
    say(sim_.now(), "message for the sub-agent: \"" + text + "\"");
    const auto sent = sim_.send(to, session, {{"text", text}});
    print_pending();
    if (!sent) say(sim_.now(), std::string("send failed: ") + sent.error().message);
  }

  void advance_to(Time t) {
    sim_.advance_to(t);
    print_pending();
  }

  // Commands are collected while an input runs and printed after the script's own line for it,
  // so that "spawn bg_1" comes before the "start bg_1" the spawn caused.
  void print_pending() {
    for (const auto& l : pending_) std::printf("%s\n", l.c_str());
    pending_.clear();
  }

  void line(Time at, const std::string& verb, const std::string& text) {
    pending_.push_back(format_line(at, verb, text));
  }

  std::string kind_of(TaskId id) const {
    const std::optional<TaskInfo> info = sim_.kernel().get(id);
    return info ? info->spec.kind : std::string("?");
  }

  void print(Time at, const Command& command) {
    std::visit(
        [&](const auto& c) {
          using C = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<C, command::Start>) {
            std::string text = to_string(c.id) + " " + c.kind + " (attempt " + std::to_string(c.attempt);
            if (c.deadline) text += ", deadline " + sim::format_time(*c.deadline);
            line(at, "start", text + ")");
          } else if constexpr (std::is_same_v<C, command::Cancel>) {
            line(at, "cancel", to_string(c.id) + " " + kind_of(c.id) + " attempt " + std::to_string(c.attempt) + " (" +
                                   to_string(c.reason) + ")");
          } else if constexpr (std::is_same_v<C, command::Persist>) {
            line(at, "persist", to_string(c.record.id) + " " + to_string(c.record.status) + ", attempt " +
                                    std::to_string(c.record.attempt));
          } else if constexpr (std::is_same_v<C, command::PersistSnapshot>) {
            std::size_t pending = 0;
            for (const auto& t : c.snapshot.tasks) pending += is_terminal(t.status) ? 0 : 1;
            line(at, "snapshot", std::to_string(c.snapshot.tasks.size()) + " durable records, " + std::to_string(pending) +
                                     " pending for the next start");
          } else if constexpr (std::is_same_v<C, command::Notify>) {
            std::string text = to_string(c.id) + " " + kind_of(c.id) + " " + to_string(c.status);
            if (c.error) text += ": " + *c.error;
            if (!c.result.is_null()) text += " " + c.result.dump();
            line(at, "notify", text + " -> " + c.owner);
          } else if constexpr (std::is_same_v<C, command::Deliver>) {
            line(at, "deliver", to_string(c.to) + " attempt " + std::to_string(c.attempt) + " <- " + c.from + ": " +
                                    c.message.dump());
          } else if constexpr (std::is_same_v<C, command::FlushDone>) {
            line(at, "flushed", "#" + std::to_string(c.flush) + (c.error ? " with error: " + *c.error : " clean"));
          } else if constexpr (std::is_same_v<C, command::Stopped>) {
            line(at, "stopped", "nothing runs; the kernel accepts no more work");
          } else {
            line(at, "queued", "run queued work");
          }
        },
        command);
  }

  // A completion the kernel ignored is not a command, but it is worth seeing.
  void note_stale(const TimedEvent& e) {
    const auto ignored = sim_.kernel().stats().ignored_completions;
    if (ignored == ignored_seen_) return;
    ignored_seen_ = ignored;
    if (const auto* c = std::get_if<event::Complete>(&e.event)) {
      line(e.at, "stale", to_string(c->id) + " " + kind_of(c->id) + " attempt " + std::to_string(c->attempt) +
                              " returned after its timeout: ignored");
    }
  }

  void summarize(FlushId flush, std::initializer_list<TaskId> highlighted) {
    const KernelStats& s = sim_.kernel().stats();
    std::printf("\nsummary (virtual time %s)\n", sim::format_time(sim_.now()).c_str());
    std::printf("  tasks      %" PRIu64 " spawned: %" PRIu64 " completed, %" PRIu64 " failed, %" PRIu64
                " cancelled, %" PRIu64 " timed out, %zu pending\n",
                s.spawned, s.completed, s.failed, s.cancelled, s.timed_out, sim_.kernel().unfinished());
    std::printf("  attempts   %" PRIu64 " started, %" PRIu64 " hit their timeout, %" PRIu64 " retried, %" PRIu64
                " stale completion ignored\n",
                s.started, s.attempt_timeouts, s.retried, s.ignored_completions);
    for (const TaskId id : highlighted) {
      const std::optional<TaskInfo> info = sim_.kernel().get(id);
      if (!info) continue;
      std::printf("  %-10s %s %s after %u attempt(s), finished at %s\n", to_string(id).c_str(), info->spec.kind.c_str(),
                  to_string(info->status), info->attempt,
                  info->finished_at ? sim::format_time(*info->finished_at).c_str() : "-");
    }
    if (const auto done = sim_.flush_result(flush)) {
      std::printf("  flush #%" PRIu64 "   %s\n", flush, done->error ? ("error: " + *done->error).c_str() : "clean");
    }
    std::printf("  inbox      %zu messages delivered\n", sim_.deliveries().size());
    std::printf("  durable    %zu records persisted, snapshot at shutdown: %s\n", sim_.persisted().size(),
                sim_.persisted_snapshot() ? "yes" : "no");
    std::printf("  replay     %zu inputs, %zu commands, command hash %016" PRIx64 "\n", sim_.trace().size(),
                sim_.commands().size(), sim_.command_hash());
    if (checker_.ok()) {
      std::printf("  invariants all held\n");
    } else {
      for (const auto& v : checker_.violations()) std::printf("  VIOLATION  %s\n", v.c_str());
    }
  }

  Simulation sim_;
  sim::InvariantChecker checker_;
  std::uint64_t ignored_seen_ = 0;
  std::vector<std::string> pending_;
};

}  // namespace

int main() { return Demo().run(); }
