// The Qt facade of TaskRuntime: its signals, its NOTIFY properties and its Q_INVOKABLE calls, as a
// Qt program sees them (the conformance suite covers the behaviour behind them).
#include <gtest/gtest.h>

#include <QMetaObject>
#include <QVariant>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "qt/qt_harness.hpp"
#include "conformance/work_support.hpp"
#include "tasklane/qt/json_variant.hpp"

namespace tasklane::qt_test {
namespace {

using namespace conformance;  // Signal, hold, eventually, task

using conformance::QtHarness;
using drivers::HandlerRegistry;
using drivers::WorkContext;
using qt::TaskRuntime;

// Every signal of one runtime as a line of text, in the order the runtime's thread emitted them.
// The lines are shared with the connections, which may outlive the log until the runtime is gone.
class SignalLog {
 public:
  explicit SignalLog(TaskRuntime* rt) {
    auto on = [&](auto signal, auto format) {
      QObject::connect(
          rt, signal, rt, [state = state_, format](auto... args) { state->add(format(args...)); },
          Qt::DirectConnection);
    };
    on(&TaskRuntime::taskSpawned, [](const QString& id, const QString& kind, const QString& owner) {
      return "spawned " + id + " " + kind + " " + owner;
    });
    on(&TaskRuntime::taskStarted, [](const QString& id, const QString& kind, int attempt) {
      return "started " + id + " " + kind + " " + QString::number(attempt);
    });
    on(&TaskRuntime::taskProgress, [](const QString& id, double fraction, const QString& message) {
      return "progress " + id + " " + QString::number(fraction) + " " + message;
    });
    on(&TaskRuntime::taskFinished, [](const QString& id, const QString& status, const QVariant& result, const QString& error) {
      return "finished " + id + " " + status + " " + QString::fromStdString(qt::toJson(result).dump()) + " " + error;
    });
    on(&TaskRuntime::inboxMessage, [](const QString& id, const QString& from, const QVariant& message) {
      return "inbox " + id + " " + from + " " + QString::fromStdString(qt::toJson(message).dump());
    });
    on(&TaskRuntime::flushFinished, [](quint64 flush, bool ok, const QString& error) {
      return "flushed " + QString::number(flush) + (ok ? " ok" : " failed: " + error);
    });
    on(&TaskRuntime::stopped, [] { return QString("stopped"); });
    on(&TaskRuntime::runningCountChanged, [](int n) { return "running " + QString::number(n); });
    on(&TaskRuntime::pendingCountChanged, [](int n) { return "pending " + QString::number(n); });
  }

  std::vector<std::string> lines() const {
    std::lock_guard lock(state_->mutex);
    return state_->lines;
  }
  bool has(const std::string& line) const {
    const auto all = lines();
    return std::find(all.begin(), all.end(), line) != all.end();
  }
  // Lines starting with one of `prefixes`, in order.
  std::vector<std::string> only(std::initializer_list<std::string> prefixes) const {
    std::vector<std::string> out;
    for (const auto& line : lines()) {
      for (const auto& p : prefixes) {
        if (line.rfind(p, 0) == 0) {
          out.push_back(line);
          break;
        }
      }
    }
    return out;
  }

 private:
  struct State {
    void add(const QString& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line.toStdString());
    }
    std::mutex mutex;
    std::vector<std::string> lines;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Without the harness's own taskEvent connection: only what a test connects listens.
std::unique_ptr<QtHarness> open(HandlerRegistry handlers, drivers::RuntimeOptions options = {}) {
  return std::make_unique<QtHarness>(std::move(handlers), std::move(options), nullptr, false);
}

TEST(QtSignals, FollowATaskFromSpawnToFinish) {
  HandlerRegistry handlers;
  handlers.add("steps", [](WorkContext& ctx) {
    ctx.progress(0.5, "half way");
    return Outcome::success({{"n", 1}});
  });
  auto h = open(std::move(handlers));
  SignalLog log(h->runtime());
  ASSERT_FALSE(h->start());
  const auto [ec, id] = h->spawn(task("steps"));
  ASSERT_FALSE(ec);
  EXPECT_EQ(h->wait(id).second.status, TaskStatus::Completed);
  const std::vector<std::string> expected{"spawned bg_0 steps alice", "started bg_0 steps 1", "progress bg_0 0.5 half way",
                                          "finished bg_0 completed {\"n\":1} "};
  EXPECT_TRUE(eventually([&] { return log.only({"spawned", "started", "progress", "finished"}) == expected; }))
      << ::testing::PrintToString(log.lines());
}

TEST(QtSignals, FinishedCarriesTheErrorOfAFailedTask) {
  HandlerRegistry handlers;
  handlers.add("boom", [](WorkContext&) { return Outcome::failure("boom"); });
  auto h = open(std::move(handlers));
  SignalLog log(h->runtime());
  ASSERT_FALSE(h->start());
  const TaskId id = h->spawn(task("boom")).second;
  EXPECT_EQ(h->wait(id).second.status, TaskStatus::Failed);
  EXPECT_TRUE(eventually([&] { return log.has("finished bg_0 failed null boom"); })) << ::testing::PrintToString(log.lines());
}

TEST(QtSignals, InvokableSendReachesTheInboxAndSaysWhyWhenRefused) {
  HandlerRegistry handlers;
  handlers.add("sub-agent", [](WorkContext& ctx) {
    const auto m = ctx.inbox->pop_for(std::chrono::duration_cast<std::chrono::milliseconds>(conformance::harness_timeout));
    return m ? Outcome::success(m->message) : Outcome::failure("no message");
  });
  auto h = open(std::move(handlers));
  SignalLog log(h->runtime());
  ASSERT_FALSE(h->start());
  TaskSpec spec = task("sub-agent");
  spec.inbox = true;
  const TaskId id = h->spawn(spec).second;
  const QString to = qt::idString(id);
  EXPECT_EQ(h->on_owner([to](TaskRuntime& rt) { return rt.send(to, "mallory", QVariant("hi")); }),
            "caller does not own this task");
  EXPECT_EQ(h->on_owner([](TaskRuntime& rt) { return rt.send("bg_99", "alice", QVariant("hi")); }), "task not found");
  EXPECT_EQ(h->on_owner([](TaskRuntime& rt) { return rt.send("not an id", "alice", QVariant("hi")); }), "task not found");
  // By name, as a QML or queued caller would.
  QString refused = "not called";
  const QVariant message = QVariantMap{{"text", "look again"}};
  EXPECT_TRUE(h->on_owner([&](TaskRuntime& rt) {
    return QMetaObject::invokeMethod(&rt, "send", Qt::DirectConnection, Q_RETURN_ARG(QString, refused), Q_ARG(QString, to),
                                     Q_ARG(QString, "alice"), Q_ARG(QVariant, message));
  }));
  EXPECT_EQ(refused, "");
  const TaskInfo info = h->wait(id).second;
  EXPECT_EQ(info.status, TaskStatus::Completed);
  EXPECT_EQ(info.result, Json({{"text", "look again"}}));
  EXPECT_TRUE(eventually([&] { return log.has("inbox bg_0 alice {\"text\":\"look again\"}"); }))
      << ::testing::PrintToString(log.lines());
}

TEST(QtSignals, FlushFinishedCarriesItsNumberAndTheFirstError) {
  HandlerRegistry handlers;
  handlers.add("boom", [](WorkContext&) { return Outcome::failure("boom"); });
  auto h = open(std::move(handlers));
  SignalLog log(h->runtime());
  ASSERT_FALSE(h->start());
  const TaskId id = h->spawn(task("boom")).second;
  EXPECT_EQ(h->wait(id).second.status, TaskStatus::Failed);
  EXPECT_EQ(h->flush(flush_selector::All{}).second, "boom");
  EXPECT_EQ(h->flush(flush_selector::All{}).second, "");
  EXPECT_TRUE(eventually([&] { return log.only({"flushed"}).size() == 2; }));
  EXPECT_EQ(log.only({"flushed"}), (std::vector<std::string>{"flushed 1 failed: boom", "flushed 2 ok"}));
}

// One running slot and "hold" tasks that run until `release` is set: the counts move one step at a time.
std::unique_ptr<QtHarness> open_one_slot_of_hold(const std::shared_ptr<Signal>& release) {
  HandlerRegistry handlers;
  handlers.add("hold", [release](WorkContext& ctx) {
    (void)hold(ctx, *release);
    return Outcome::success();
  });
  drivers::RuntimeOptions options;
  options.config.max_running = 1;
  return open(std::move(handlers), options);
}

TEST(QtSignals, CountsAreAnnouncedAfterTheEventsThatChangedThem) {
  auto release = std::make_shared<Signal>();
  auto h = open_one_slot_of_hold(release);
  SignalLog log(h->runtime());
  ASSERT_FALSE(h->start());
  const TaskId first = h->spawn(task("hold")).second;
  const TaskId second = h->spawn(task("hold")).second;
  EXPECT_TRUE(eventually([&] { return log.has("pending 1"); }));
  EXPECT_EQ(h->on_owner([](TaskRuntime& rt) { return rt.property("runningCount").toInt(); }), 1);
  EXPECT_EQ(h->on_owner([](TaskRuntime& rt) { return rt.property("pendingCount").toInt(); }), 1);
  release->set();
  EXPECT_EQ(h->wait(first).second.status, TaskStatus::Completed);
  EXPECT_EQ(h->wait(second).second.status, TaskStatus::Completed);
  EXPECT_TRUE(eventually([&] { return log.only({"running", "pending"}).size() == 4; }));
  EXPECT_EQ(log.only({"spawned", "started", "finished", "running", "pending"}),
            (std::vector<std::string>{"spawned bg_0 hold alice", "started bg_0 hold 1", "running 1",
                                      "spawned bg_1 hold alice", "pending 1", "finished bg_0 completed null ",
                                      "started bg_1 hold 1", "pending 0", "finished bg_1 completed null ", "running 0"}));
}

// Counts change without a post while nobody listens; a listener that connects later hears every
// change from then on, with the right values.
TEST(QtSignals, CountsHeardByALateListenerStartFromTheTrueCounts) {
  auto release = std::make_shared<Signal>();
  auto h = open_one_slot_of_hold(release);
  ASSERT_FALSE(h->start());
  const TaskId first = h->spawn(task("hold")).second;  // running 1, announced to nobody
  EXPECT_TRUE(eventually([&] { return h->on_owner([](TaskRuntime& rt) { return rt.runningCount(); }) == 1; }));
  SignalLog log(h->runtime());
  const TaskId second = h->spawn(task("hold")).second;
  EXPECT_TRUE(eventually([&] { return log.has("pending 1"); }));
  release->set();
  EXPECT_EQ(h->wait(first).second.status, TaskStatus::Completed);
  EXPECT_EQ(h->wait(second).second.status, TaskStatus::Completed);
  EXPECT_TRUE(eventually([&] { return log.has("running 0"); })) << ::testing::PrintToString(log.lines());
  EXPECT_EQ(log.only({"running", "pending"}), (std::vector<std::string>{"pending 1", "pending 0", "running 0"}));
}

// Task events nothing listens to are not built. A listener connected later (here from the test's
// thread, not the runtime's) hears every event that happens from then on: the finish of a task
// already running, and all of a task spawned after it. What happened before it connected, it
// does not hear (the first task's spawn and start).
TEST(QtSignals, TaskSignalsReachALateListenerFromItsConnectionOn) {
  auto release = std::make_shared<Signal>();
  auto h = open_one_slot_of_hold(release);
  ASSERT_FALSE(h->start());
  const TaskId first = h->spawn(task("hold")).second;
  EXPECT_TRUE(eventually([&] { return h->on_owner([](TaskRuntime& rt) { return rt.runningCount(); }) == 1; }));
  SignalLog log(h->runtime());
  release->set();
  EXPECT_EQ(h->wait(first).second.status, TaskStatus::Completed);
  const TaskId second = h->spawn(task("hold")).second;
  EXPECT_EQ(h->wait(second).second.status, TaskStatus::Completed);
  const std::vector<std::string> expected{"finished bg_0 completed null ", "spawned bg_1 hold alice",
                                          "started bg_1 hold 1", "finished bg_1 completed null "};
  EXPECT_TRUE(eventually([&] { return log.only({"spawned", "started", "finished"}) == expected; }))
      << ::testing::PrintToString(log.lines());
}

// A listener that goes away and one that comes after it: the second hears its events though the
// first left the runtime with nothing connected in between.
TEST(QtSignals, ASecondListenerAfterTheFirstDisconnectedHearsItsEvents) {
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(); });
  auto h = open(std::move(handlers));
  ASSERT_FALSE(h->start());
  auto heard = std::make_shared<std::atomic<int>>(0);
  auto* rt = h->runtime();
  auto connection = QObject::connect(rt, &TaskRuntime::taskFinished, rt, [heard] { ++*heard; }, Qt::DirectConnection);
  EXPECT_EQ(h->wait(h->spawn(task("ok")).second).second.status, TaskStatus::Completed);
  EXPECT_TRUE(eventually([&] { return heard->load() == 1; }));
  QObject::disconnect(connection);
  EXPECT_EQ(h->wait(h->spawn(task("ok")).second).second.status, TaskStatus::Completed);
  SignalLog log(rt);
  EXPECT_EQ(h->wait(h->spawn(task("ok")).second).second.status, TaskStatus::Completed);
  EXPECT_TRUE(eventually([&] { return log.has("finished bg_2 completed null "); })) << ::testing::PrintToString(log.lines());
  EXPECT_EQ(heard->load(), 1) << "the disconnected listener heard nothing more";
  EXPECT_FALSE(log.has("finished bg_1 completed null ")) << "bg_1 finished before the log connected";
}

TEST(QtSignals, InvokableCancelAndCancelTreeByName) {
  HandlerRegistry handlers;
  auto h = open(std::move(handlers));
  ASSERT_FALSE(h->start());
  TaskSpec root = task("someday");
  root.run_after = std::chrono::hours(1);
  const TaskId parent = h->spawn(root).second;
  TaskSpec child = root;
  child.parent.task = parent;
  const TaskId kid = h->spawn(child).second;
  TaskSpec alone = root;
  const TaskId other = h->spawn(alone).second;
  auto invoke_int = [&](const char* method, TaskId id) {
    return h->on_owner([method, id](TaskRuntime& rt) {
      int n = -1;
      (void)QMetaObject::invokeMethod(&rt, method, Qt::DirectConnection, Q_RETURN_ARG(int, n), Q_ARG(QString, qt::idString(id)));
      return n;
    });
  };
  EXPECT_EQ(invoke_int("cancelTree", parent), 2);
  EXPECT_EQ(h->wait(kid).second.status, TaskStatus::Cancelled);
  const auto cancel = [&](QString id) {
    return h->on_owner([id](TaskRuntime& rt) {
      bool ok = false;
      (void)QMetaObject::invokeMethod(&rt, "cancel", Qt::DirectConnection, Q_RETURN_ARG(bool, ok), Q_ARG(QString, id));
      return ok;
    });
  };
  EXPECT_TRUE(cancel(qt::idString(other)));
  EXPECT_FALSE(cancel(qt::idString(other))) << "a terminal task cannot be cancelled again";
  EXPECT_FALSE(cancel("bg_12345"));
  EXPECT_FALSE(cancel("garbage"));
}

TEST(QtSignals, InvokableSpawnFlushAndShutdownByName) {
  HandlerRegistry handlers;
  handlers.add("ok", [](WorkContext&) { return Outcome::success(7); });
  auto h = open(std::move(handlers));
  SignalLog log(h->runtime());
  ASSERT_FALSE(h->start());
  auto replies = std::make_shared<std::vector<std::string>>();  // written and read on the runtime's thread
  const bool invoked = h->on_owner([replies](TaskRuntime& rt) {
    const TaskRuntime::SpawnCallback remember = [replies](const qt::SpawnReply& r) {
      replies->push_back(r.ok() ? tasklane::to_string(r.id) : r.message.toStdString());
    };
    TaskSpec empty_kind;
    return QMetaObject::invokeMethod(&rt, "spawn", Qt::DirectConnection, Q_ARG(tasklane::TaskSpec, task("ok")),
                                     Q_ARG(tasklane::qt::TaskRuntime::SpawnCallback, remember)) &&
           QMetaObject::invokeMethod(&rt, "spawn", Qt::DirectConnection, Q_ARG(tasklane::TaskSpec, empty_kind),
                                     Q_ARG(tasklane::qt::TaskRuntime::SpawnCallback, remember));
  });
  ASSERT_TRUE(invoked);
  EXPECT_TRUE(eventually([&] { return h->on_owner([replies](TaskRuntime&) { return replies->size(); }) == 2; }));
  EXPECT_EQ(h->on_owner([replies](TaskRuntime&) { return *replies; }),
            (std::vector<std::string>{"bg_0", "task kind must not be empty"}));
  EXPECT_EQ(h->wait(TaskId{0}).second.status, TaskStatus::Completed);
  EXPECT_TRUE(h->on_owner([](TaskRuntime& rt) {
    quint64 flush = 0;
    return QMetaObject::invokeMethod(&rt, "flush", Qt::DirectConnection, Q_RETURN_ARG(quint64, flush)) && flush == 1 &&
           QMetaObject::invokeMethod(&rt, "shutdown", Qt::DirectConnection);
  }));
  EXPECT_TRUE(eventually([&] { return log.has("stopped") && log.has("flushed 1 ok"); })) << ::testing::PrintToString(log.lines());
}

TEST(QtSignals, SpawnReplySaysWhenADedupKeyFoldedOrReplacedTheSpawn) {
  auto h = open(HandlerRegistry{});
  ASSERT_FALSE(h->start());
  auto replies = std::make_shared<std::vector<qt::SpawnReply>>();  // written and read on the runtime's thread
  ASSERT_TRUE(h->on_owner([replies](TaskRuntime& rt) {
    TaskSpec keep = task("later");
    keep.run_after = seconds(60);
    keep.dedup = DedupSpec{"index", DedupMode::KeepExisting};
    TaskSpec debounce = keep;
    debounce.dedup = DedupSpec{"summary", DedupMode::ReplacePending};
    const TaskRuntime::SpawnCallback remember = [replies](const qt::SpawnReply& r) { replies->push_back(r); };
    for (const TaskSpec& spec : {keep, keep, debounce, debounce}) rt.spawn(spec, remember);
    return true;
  }));
  ASSERT_TRUE(eventually([&] { return h->on_owner([replies](TaskRuntime&) { return replies->size(); }) == 4; }));
  const auto got = h->on_owner([replies](TaskRuntime&) { return *replies; });
  EXPECT_EQ(got[1].id, got[0].id);
  EXPECT_TRUE(got[1].deduplicated && !got[0].deduplicated);
  EXPECT_EQ(got[2].replaced, std::nullopt);
  EXPECT_EQ(got[3].replaced, got[2].id);
  EXPECT_FALSE(got[3].deduplicated);
}

TEST(QtSignals, StoppedFollowsShutdown) {
  HandlerRegistry handlers;
  auto h = open(std::move(handlers));
  SignalLog log(h->runtime());
  ASSERT_FALSE(h->start());
  EXPECT_FALSE(log.has("stopped"));
  EXPECT_FALSE(h->shutdown(ShutdownMode::Drain));
  EXPECT_TRUE(eventually([&] { return log.has("stopped"); }));
}

// Chromium's sequence_checker for Qt: a call off the owner thread stops a debug build at once.
TEST(QtOwnerThreadDeathTest, CallFromAnotherThreadAssertsInDebugBuilds) {
#ifdef NDEBUG
  GTEST_SKIP() << "the owner-thread check is compiled only without NDEBUG";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        QThread elsewhere;
        TaskRuntime rt(drivers::RuntimeOptions{}, HandlerRegistry{});
        rt.moveToThread(&elsewhere);
        (void)rt.cancel(TaskId{0});
      },
      "called from a thread other than the one it lives in");
#endif
}

}  // namespace
}  // namespace tasklane::qt_test
