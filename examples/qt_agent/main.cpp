// tasklane_qt_agent: a Qt Core program that plays a desktop agent, to show the Qt driver at work.
//
// The user takes three turns. After each one the agent schedules, in the background, fact
// extraction and memory compaction for the session (each in its own sequence lane, so two of a
// kind never overlap). Compaction shares a quota with a cooldown between starts and has a
// per-attempt timeout: the second turn's first compaction attempt is slow, times out, and is
// retried. A reviewing sub-agent runs the whole time and gets a message in its inbox after every
// turn. Every line of the timeline comes from a TaskRuntime signal; then the agent flushes its
// background work, shuts down gracefully and quits, in about two seconds.
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QTimer>
#include <chrono>
#include <cstdio>
#include <thread>

#include "tasklane/qt/json_variant.hpp"
#include "tasklane/qt/task_runtime.hpp"

namespace {

using namespace std::chrono_literals;
using tasklane::Json;
using tasklane::Outcome;
using tasklane::drivers::WorkContext;

constexpr const char* session = "session-7";
constexpr int turns = 3;
constexpr auto turn_interval = 600ms;
constexpr auto wrap_up_after = 400ms;

// Sleeps `total` in small steps, reporting progress; false when the attempt was cancelled.
bool work_for(WorkContext& ctx, std::chrono::milliseconds total, const char* doing) {
  constexpr int steps = 4;
  for (int i = 1; i <= steps; ++i) {
    if (ctx.cancel.cancelled()) return false;
    std::this_thread::sleep_for(total / steps);
    ctx.progress(static_cast<double>(i) / steps, doing);
  }
  return !ctx.cancel.cancelled();
}

tasklane::drivers::HandlerRegistry agent_handlers() {
  tasklane::drivers::HandlerRegistry handlers;
  handlers.add("extract_facts", [](WorkContext& ctx) {
    if (!work_for(ctx, 160ms, "reading the turn")) return Outcome::failure("cancelled");
    const int turn = ctx.payload.at("turn").get<int>();
    return Outcome::success({{"facts", 2 + turn}});
  });
  handlers.add("compact_memory", [](WorkContext& ctx) {
    const int turn = ctx.payload.at("turn").get<int>();
    // The model is slow once: the timeout cancels this attempt and the retry goes through.
    const auto how_long = (turn == 2 && ctx.attempt == 1) ? 2000ms : 120ms;
    if (!work_for(ctx, how_long, "summarizing")) return Outcome::failure("cancelled");
    return Outcome::success({{"kept_tokens", 1200 - 150 * turn}});
  });
  handlers.add("review", [](WorkContext& ctx) {
    int reviewed = 0;
    while (!ctx.cancel.cancelled()) {
      const auto message = ctx.inbox->pop_for(50ms);
      if (!message) continue;
      if (message->message.value("text", "") == "wrap up") break;
      ++reviewed;
      ctx.progress(static_cast<double>(reviewed) / turns, "reviewed turn " + std::to_string(reviewed));
    }
    return Outcome::success({{"reviewed_turns", reviewed}, {"verdict", "looks good"}});
  });
  return handlers;
}

tasklane::TaskSpec background(const char* kind, const char* purpose, int turn) {
  tasklane::TaskSpec spec;
  spec.kind = kind;
  spec.owner = session;
  spec.payload = {{"turn", turn}};
  spec.key = tasklane::SequenceKey{"desktop-agent", session, purpose};
  spec.priority = tasklane::Priority::Low;
  spec.durable = true;
  return spec;
}

tasklane::TaskSpec compaction(int turn) {
  tasklane::TaskSpec spec = background("compact_memory", "compaction", turn);
  spec.quota = tasklane::QuotaSpec{std::string(session) + "/compaction", tasklane::milliseconds(300), 0, false};
  spec.timeout = tasklane::milliseconds(250);
  spec.retry.max_attempts = 2;
  spec.retry.initial_backoff = tasklane::milliseconds(100);
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QTemporaryDir data;
  if (!data.isValid()) {
    std::fprintf(stderr, "cannot make a data directory\n");
    return 1;
  }
  QThreadPool pool;  // the sub-agent holds a thread for the whole run: give the work room
  pool.setMaxThreadCount(4);

  tasklane::drivers::RuntimeOptions options;
  options.config.max_running = 3;
  options.data_dir = data.path().toStdString();
  tasklane::qt::TaskRuntime runtime(std::move(options), agent_handlers(), &pool);

  QElapsedTimer clock;
  clock.start();
  auto say = [&clock](const QString& line) {
    std::printf("[%5lld ms] %s\n", static_cast<long long>(clock.elapsed()), qPrintable(line));
    std::fflush(stdout);
  };
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::taskSpawned, &app,
                   [&](const QString& id, const QString& kind) { say(QString("%1 %2 queued").arg(id, kind)); });
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::taskStarted, &app,
                   [&](const QString& id, const QString& kind, int attempt) {
                     say(attempt == 1 ? QString("%1 %2 started").arg(id, kind)
                                      : QString("%1 %2 started again (attempt %3, the last one timed out)")
                                            .arg(id, kind)
                                            .arg(attempt));
                   });
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::taskProgress, &app,
                   [&](const QString& id, double fraction, const QString& message) {
                     if (message.startsWith("reviewed")) say(QString("%1 %2").arg(id, message));
                     else if (fraction >= 1.0) say(QString("%1 %2: done").arg(id, message));
                   });
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::inboxMessage, &app,
                   [&](const QString& id, const QString& from, const QVariant& message) {
                     say(QString("%1 inbox <- %2: %3").arg(id, from, message.toMap().value("text").toString()));
                   });
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::taskFinished, &app,
                   [&](const QString& id, const QString& status, const QVariant& result, const QString& error) {
                     const std::string detail = error.isEmpty() ? tasklane::qt::toJson(result).dump() : error.toStdString();
                     say(QString("%1 %2 %3").arg(id, status, QString::fromStdString(detail)));
                   });
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::runningCountChanged, &app, [&](int running) {
    say(QString("   (%1 running, %2 waiting)").arg(running).arg(runtime.pendingCount()));
  });
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::flushFinished, &app,
                   [&](quint64, bool ok, const QString& error) {
                     say(ok ? QString("flush: all background work is done") : QString("flush: first error: %1").arg(error));
                     runtime.shutdown(tasklane::ShutdownMode::Drain);
                   });
  QObject::connect(&runtime, &tasklane::qt::TaskRuntime::stopped, &app, [&] {
    say("runtime stopped; bye");
    QCoreApplication::quit();
  });

  if (QString why; !runtime.start(&why)) {
    std::fprintf(stderr, "cannot open %s: %s\n", qPrintable(data.path()), qPrintable(why));
    return 1;
  }

  int turn = 0;
  QTimer turns_timer;
  QString reviewer_id;
  auto take_turn = [&] {
    ++turn;
    say(QString("-- turn %1: the user asks, the agent answers").arg(turn));
    for (const tasklane::TaskSpec& spec : {background("extract_facts", "facts", turn), compaction(turn)}) {
      runtime.spawn(spec, [&](const tasklane::qt::SpawnReply& reply) {
        if (!reply.ok()) say(QString("refused: %1").arg(reply.message));
      });
    }
    const QString refused = runtime.send(reviewer_id, session, QVariantMap{{"text", QString("turn %1 is in").arg(turn)}});
    if (!refused.isEmpty()) say(QString("send refused: %1").arg(refused));
    if (turn < turns) return;
    turns_timer.stop();
    QTimer::singleShot(wrap_up_after, &app, [&] {
      say("-- the user closes the window: the agent waits for its background work, then quits");
      (void)runtime.send(reviewer_id, session, QVariantMap{{"text", "wrap up"}});
      runtime.flush();
    });
  };
  turns_timer.setInterval(turn_interval);
  QObject::connect(&turns_timer, &QTimer::timeout, &app, take_turn);

  // The conversation starts once the reviewing sub-agent is accepted.
  tasklane::TaskSpec reviewer;
  reviewer.kind = "review";
  reviewer.owner = session;
  reviewer.name = "reviewer";
  reviewer.inbox = true;
  runtime.spawn(reviewer, [&](const tasklane::qt::SpawnReply& reply) {
    if (!reply.ok()) {
      say(QString("the sub-agent was refused: %1").arg(reply.message));
      QCoreApplication::exit(1);
      return;
    }
    reviewer_id = tasklane::qt::idString(reply.id);
    take_turn();
    turns_timer.start();
  });
  return QCoreApplication::exec();
}
