// The agent server's HTTP API with a real client on loopback: the happy paths, every kind of bad
// request (each a 4xx with a JSON error that says what is wrong), and a server that keeps serving.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "http_client.hpp"

namespace {

using namespace agent_server::client;
namespace fs = std::filesystem;

class AgentServerApi : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = fs::temp_directory_path() / ("tasklane-api-test-" + std::to_string(getpid()));
    fs::remove_all(data_);
    server_ = start_server(TASKLANE_AGENT_SERVER, data_);
  }
  void TearDown() override {
    kill(server_.pid, SIGTERM);
    int status = 0;
    waitpid(server_.pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the server did not exit cleanly";
    fs::remove_all(data_);
  }

  Reply post(const std::string& target, const Json& body) { return call(server_.port, http::verb::post, target, body); }
  Reply post_raw(const std::string& target, const std::string& body) {
    return call(server_.port, http::verb::post, target, nullptr, &body);
  }
  Reply get(const std::string& target) { return call(server_.port, http::verb::get, target); }

  // Polls until the task is terminal (bounded).
  Json wait_terminal(const std::string& id) {
    for (int i = 0; i < 400; ++i) {
      const Reply r = get("/tasks/" + id);
      const std::string status = r.body.value("status", "");
      if (status != "pending" && status != "running") return r.body;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << id << " did not finish";
    return nullptr;
  }

  void expect_still_serving() { EXPECT_EQ(get("/health").status, 200u); }

  fs::path data_;
  Server server_;
};

TEST_F(AgentServerApi, SpawnAnswersTheTaskWithItsIdAndItsResultLater) {
  const Reply spawned = post("/tasks", {{"kind", "sleep"}, {"owner", "alice"}, {"name", "summarize"}, {"payload", {{"ms", 50}}},
                                        {"priority", "high"}, {"timeout_ms", 5000}, {"key", {{"agent", "a"}, {"scope", "s"}, {"purpose", "facts"}}},
                                        {"retry", {{"max_attempts", 3}}}});
  ASSERT_EQ(spawned.status, 201u) << spawned.body.dump();
  EXPECT_EQ(spawned.body.value("id", ""), "bg_0");
  EXPECT_EQ(spawned.body.value("priority", ""), "high");
  EXPECT_TRUE(spawned.body.value("durable", false)) << "server tasks are durable by default";
  const Json done = wait_terminal("bg_0");
  EXPECT_EQ(done.value("status", ""), "completed");
  EXPECT_EQ(done["result"].value("slept_ms", 0), 50);
  const Reply listed = get("/tasks?owner=alice");
  ASSERT_EQ(listed.body["tasks"].size(), 1u);
  EXPECT_EQ(get("/tasks?owner=nobody").body["tasks"].size(), 0u);
}

TEST_F(AgentServerApi, NonDurableWhenTheBodySaysSo) {
  const Reply spawned = post("/tasks", {{"kind", "sleep"}, {"durable", false}, {"payload", {{"ms", 1}}}});
  ASSERT_EQ(spawned.status, 201u);
  EXPECT_FALSE(spawned.body.value("durable", true));
}

TEST_F(AgentServerApi, BadRequestsGetA4xxWithAnErrorThatSaysWhatIsWrong) {
  struct Case {
    std::string body;
    unsigned status;
    std::string mentions;
  };
  const Case cases[] = {
      {"{not json", 400, "malformed JSON"},
      {"[1,2]", 400, "JSON object"},
      {R"({"owner":"alice"})", 400, "kind"},
      {R"({"kind":"teleport"})", 400, "unknown kind 'teleport'"},
      {R"({"kind":"sleep","timeout_ms":"soon"})", 400, "timeout_ms"},
      {R"({"kind":"sleep","timeout_ms":0})", 400, "timeout_ms"},
      {R"({"kind":"sleep","priority":"urgent"})", 400, "priority"},
      {R"({"kind":"sleep","key":"abc"})", 400, "key"},
      {R"({"kind":"sleep","retry":{"max_attempts":0}})", 400, "retry.max_attempts"},
      {R"({"kind":"sleep","parent":{"task":"bg_x"}})", 400, "parent.task"},
      {R"({"kind":"sleep","parent":{"task":"bg_999"}})", 400, "parent task does not exist"},
      {R"({"kind":"sleep","name":"all"})", 400, "reserved"},
      {R"({"kind":"sleep","dedup_key":""})", 400, "dedup_key"},
      {R"({"kind":"sleep","dedup_key":"k","dedup_mode":"newest"})", 400, "dedup_mode"},
      {R"({"kind":"sleep","dedup_mode":"keep_existing"})", 400, "needs a dedup_key"},
      {R"({"kind":"sleep","rate_limit":{"starts":2}})", 400, "rate_limit.key"},
      {R"({"kind":"sleep","rate_limit":{"key":"k","starts":0}})", 400, "rate_limit.starts"},
      {R"({"kind":"sleep","rate_limit":{"key":"k","interval_ms":0}})", 400, "rate_limit.interval_ms"},
      {R"({"kind":"sleep","rate_limit":{"key":"k","starts":4294967297}})", 400, "rate_limit.starts"},
      {R"({"kind":"sleep","rate_limit":{"key":"k","interval_ms":9223372036854775807}})", 400, "rate_limit.interval_ms"},
      {R"({"kind":"sleep","timeout_ms":18446744073709551615})", 400, "timeout_ms"},
      {R"({"kind":"sleep","heartbeat_ms":0})", 400, "heartbeat_ms"},
      {R"({"kind":"sleep","heartbeat_ms":"often"})", 400, "heartbeat_ms"},
      {R"({"kind":"sleep","after":"bg_1"})", 400, "after: expected an array"},
      {R"({"kind":"sleep","after":["first"]})", 400, "after[0]"},
      {R"({"kind":"sleep","after":["bg_0"]})", 400, "no cycles"},
      {R"({"kind":"sleep","after":["bg_77"]})", 400, "after: bg_77"},
      {R"({"kind":"sleep","after_mode":"all_finished"})", 400, "needs a non-empty"},
      {R"({"kind":"sleep","after":[],"after_mode":"some"})", 400, "after_mode"},
      {R"({"kind":"sleep","repeat":60000})", 400, "repeat: expected an object"},
      {R"({"kind":"sleep","repeat":{"mode":"fixed_rate"}})", 400, "repeat.every_ms: missing"},
      {R"({"kind":"sleep","repeat":{"every_ms":0}})", 400, "repeat.every_ms"},
      {R"({"kind":"sleep","repeat":{"every_ms":10,"mode":"cron"}})", 400, "repeat.mode"},
      {R"({"kind":"sleep","repeat":{"every_ms":10,"times":0}})", 400, "repeat.times"},
      {R"({"kind":"sleep","repeat":{"every_ms":10},"dedup_key":"k","dedup_mode":"replace_pending"})", 400, "replace_pending"},
  };
  for (const auto& c : cases) {
    const Reply r = post_raw("/tasks", c.body);
    EXPECT_EQ(r.status, c.status) << c.body;
    ASSERT_TRUE(r.body.is_object() && r.body.contains("error")) << c.body << " -> " << r.body.dump();
    EXPECT_NE(r.body["error"].get<std::string>().find(c.mentions), std::string::npos)
        << c.body << " -> " << r.body["error"].get<std::string>();
    expect_still_serving();
  }
}

TEST_F(AgentServerApi, ABodyOverTheLimitIsRefusedWith413) {
  const std::string huge = R"({"kind":"sleep","payload":")" + std::string(2 << 20, 'x') + R"("})";
  const Reply r = post_raw("/tasks", huge);
  EXPECT_EQ(r.status, 413u);
  EXPECT_NE(r.body.value("error", "").find("limit"), std::string::npos);
  expect_still_serving();
}

TEST_F(AgentServerApi, UnknownTasksAndRoutesAre404) {
  EXPECT_EQ(get("/tasks/bg_42").status, 404u);
  EXPECT_EQ(get("/tasks/nonsense").status, 404u);
  EXPECT_EQ(call(server_.port, http::verb::delete_, "/tasks/bg_42").status, 404u);
  EXPECT_EQ(post("/tasks/bg_42/inbox", {{"from", "alice"}, {"message", "hi"}}).status, 404u);
  EXPECT_EQ(get("/nowhere").status, 404u);
  EXPECT_EQ(get("/tasks").status, 400u) << "listing needs an owner";
  expect_still_serving();
}

TEST_F(AgentServerApi, DuplicateLiveNamesConflict) {
  ASSERT_EQ(post("/tasks", {{"kind", "sleep"}, {"owner", "alice"}, {"name", "facts"}, {"payload", {{"ms", 2000}}}}).status, 201u);
  const Reply second = post("/tasks", {{"kind", "sleep"}, {"owner", "alice"}, {"name", "facts"}});
  EXPECT_EQ(second.status, 409u);
  EXPECT_NE(second.body.value("error", "").find("facts"), std::string::npos) << second.body.dump();
}

TEST_F(AgentServerApi, ADedupKeyAnswersTheLiveTaskAndSaysSo) {
  const Json body = {{"kind", "sleep"}, {"owner", "alice"}, {"dedup_key", "reindex"}, {"payload", {{"ms", 2000}}}};
  const Reply first = post("/tasks", body);
  ASSERT_EQ(first.status, 201u) << first.body.dump();
  EXPECT_FALSE(first.body.contains("deduplicated"));
  EXPECT_EQ(first.body.value("dedup_key", ""), "reindex");
  const Reply second = post("/tasks", body);
  ASSERT_EQ(second.status, 200u) << second.body.dump();
  EXPECT_EQ(second.body.value("id", ""), first.body.value("id", ""));
  EXPECT_TRUE(second.body.value("deduplicated", false));
  EXPECT_EQ(get("/tasks?owner=alice").body["tasks"].size(), 1u);
}

TEST_F(AgentServerApi, ReplacePendingDebouncesAndNamesTheReplacedTask) {
  const Json body = {{"kind", "sleep"},          {"owner", "bob"},   {"dedup_key", "summary"},
                     {"dedup_mode", "replace_pending"}, {"run_after_ms", 5000}, {"payload", {{"ms", 1}}}};
  const std::string first = post("/tasks", body).body.value("id", "");
  const Reply second = post("/tasks", body);
  ASSERT_EQ(second.status, 201u) << second.body.dump();
  EXPECT_EQ(second.body.value("replaced", ""), first);
  const Json old = get("/tasks/" + first).body;
  EXPECT_EQ(old.value("status", ""), "cancelled");
  EXPECT_NE(old.value("error", "").find("replaced by " + second.body.value("id", "")), std::string::npos) << old.dump();
}

TEST_F(AgentServerApi, ARateLimitHoldsTasksOverItPendingUntilATokenIsFree) {
  const Json body = {{"kind", "sleep"},
                     {"owner", "carol"},
                     {"rate_limit", {{"key", "openai"}, {"starts", 1}, {"interval_ms", 60000}}},
                     {"payload", {{"ms", 1}}}};
  const Reply first = post("/tasks", body);
  ASSERT_EQ(first.status, 201u) << first.body.dump();
  EXPECT_EQ(first.body["rate_limit"], (Json{{"key", "openai"}, {"starts", 1}, {"interval_ms", 60000}}));
  const std::string second = post("/tasks", body).body.value("id", "");
  EXPECT_EQ(wait_terminal(first.body.value("id", "")).value("status", ""), "completed");
  EXPECT_EQ(get("/tasks/" + second).body.value("status", ""), "pending") << "one start a minute";
}

TEST_F(AgentServerApi, AHeartbeatIntervalEndsASilentCallAndSparesOneThatBeats) {
  const Reply stuck = post("/tasks", {{"kind", "sleep"}, {"owner", "dave"}, {"heartbeat_ms", 150}, {"payload", {{"stuck", true}}}});
  ASSERT_EQ(stuck.status, 201u) << stuck.body.dump();
  EXPECT_EQ(stuck.body.value("heartbeat_ms", 0), 150);
  const Json ended = wait_terminal(stuck.body.value("id", ""));
  EXPECT_EQ(ended.value("status", ""), "timed_out");
  EXPECT_EQ(ended.value("error", ""), "heartbeat timeout: no heartbeat within 150 ms");
  const Reply beating = post("/tasks", {{"kind", "sleep"}, {"owner", "dave"}, {"heartbeat_ms", 300}, {"payload", {{"ms", 700}}}});
  EXPECT_EQ(wait_terminal(beating.body.value("id", "")).value("status", ""), "completed") << "it beats every 50 ms";
}

TEST_F(AgentServerApi, AfterWaitsForDependenciesAndAFailedOneFailsTheWaiterWithItsReason) {
  const std::string fetch = post("/tasks", {{"kind", "sleep"}, {"owner", "dana"}, {"payload", {{"ms", 100}}}}).body["id"];
  const std::string bad =
      post("/tasks", {{"kind", "flaky"}, {"owner", "dana"}, {"retry", {{"max_attempts", 1}}},
                      {"payload", {{"failures", 1}, {"ms", 1}}}})
          .body["id"];
  const Reply waiter = post("/tasks", {{"kind", "sleep"}, {"owner", "dana"}, {"after", {fetch}}, {"payload", {{"ms", 1}}}});
  ASSERT_EQ(waiter.status, 201u) << waiter.body.dump();
  EXPECT_EQ(waiter.body["after"], Json::array({fetch}));
  EXPECT_EQ(waiter.body["after_mode"], "all_succeeded");
  EXPECT_EQ(waiter.body["waiting_for"], Json::array({fetch})) << "callers see what it waits for";
  const Reply doomed = post("/tasks", {{"kind", "sleep"}, {"owner", "dana"}, {"after", {fetch, bad}}, {"payload", {{"ms", 1}}}});
  const Reply cleanup = post("/tasks", {{"kind", "sleep"}, {"owner", "dana"}, {"after", {bad}}, {"after_mode", "all_finished"},
                                        {"payload", {{"ms", 1}}}});
  EXPECT_EQ(wait_terminal(waiter.body["id"]).value("status", ""), "completed");
  const Json failed = wait_terminal(doomed.body["id"]);
  EXPECT_EQ(failed.value("status", ""), "failed");
  EXPECT_EQ(failed.value("error", ""), "dependency " + bad + " failed: flaky: planned failure 1 of 1");
  EXPECT_EQ(wait_terminal(cleanup.body["id"]).value("status", ""), "completed");
}

TEST_F(AgentServerApi, ARepeatingTaskRunsItsTimesAndCancellingTheSeriesStopsIt) {
  const Reply spawned = post("/tasks", {{"kind", "sleep"}, {"owner", "rita"}, {"payload", {{"ms", 1}}},
                                        {"repeat", {{"every_ms", 60}, {"mode", "fixed_delay"}, {"times", 3}}}});
  ASSERT_EQ(spawned.status, 201u) << spawned.body.dump();
  const std::string series = spawned.body["id"];
  EXPECT_EQ(spawned.body["repeat"], (Json{{"every_ms", 60}, {"mode", "fixed_delay"}, {"times", 3}}));
  EXPECT_EQ(spawned.body.value("series", ""), series);
  EXPECT_EQ(spawned.body.value("run", 0), 1);
  Json runs;
  for (int i = 0; i < 400; ++i) {
    runs = get("/tasks?owner=rita").body["tasks"];
    const bool done = runs.size() == 3 && std::all_of(runs.begin(), runs.end(), [](const Json& t) { return t["status"] == "completed"; });
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(runs.size(), 3u) << runs.dump();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].value("status", ""), "completed") << runs.dump();
    EXPECT_EQ(runs[i].value("series", ""), series);
    EXPECT_EQ(runs[i].value("run", 0u), i + 1);
  }

  const std::string forever =
      post("/tasks", {{"kind", "sleep"}, {"owner", "sam"}, {"payload", {{"ms", 1}}}, {"repeat", {{"every_ms", 400}}}}).body["id"];
  EXPECT_EQ(wait_terminal(forever).value("status", ""), "completed");
  const Json listed = get("/tasks?owner=sam").body["tasks"];
  ASSERT_EQ(listed.size(), 2u) << "the next run waits for its slot: " << listed.dump();
  EXPECT_EQ(listed[1].value("status", ""), "pending");
  const Reply cancelled = call(server_.port, http::verb::delete_, "/tasks/" + forever);
  EXPECT_EQ(cancelled.body.value("cancelled", 0), 1) << "the series id reaches its current run: " << cancelled.body.dump();
  EXPECT_EQ(get("/tasks/" + listed[1].value("id", "")).body.value("status", ""), "cancelled");
}

TEST_F(AgentServerApi, PauseHoldsAnOwnersQueuedWorkUntilResume) {
  const Reply paused = post("/pause", {{"owner", "erin"}});
  ASSERT_EQ(paused.status, 200u) << paused.body.dump();
  EXPECT_EQ(paused.body, (Json{{"paused", 0}, {"owner", "erin"}}));
  const std::string held = post("/tasks", {{"kind", "sleep"}, {"owner", "erin"}, {"payload", {{"ms", 1}}}}).body["id"];
  const std::string free = post("/tasks", {{"kind", "sleep"}, {"owner", "frank"}, {"payload", {{"ms", 1}}}}).body["id"];
  EXPECT_EQ(wait_terminal(free).value("status", ""), "completed");
  const Json waiting = get("/tasks/" + held).body;
  EXPECT_EQ(waiting.value("status", ""), "pending");
  EXPECT_TRUE(waiting.value("paused", false)) << waiting.dump();
  EXPECT_EQ(post("/resume", {{"owner", "erin"}}).body, (Json{{"resumed", 1}, {"owner", "erin"}}));
  EXPECT_EQ(wait_terminal(held).value("status", ""), "completed");
  EXPECT_EQ(post("/pause", {{"purpose", "compaction"}}).status, 200u);
  for (const char* bad : {R"({})", R"({"owner":"a","purpose":"b"})", R"({"owner":7})", R"([1])"}) {
    const Reply r = post_raw("/pause", bad);
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_NE(r.body.value("error", "").find("\"owner\""), std::string::npos) << bad << " -> " << r.body.dump();
  }
}

TEST_F(AgentServerApi, CancelAndCancelTree) {
  const std::string root = post("/tasks", {{"kind", "sleep"}, {"owner", "carol"}, {"payload", {{"ms", 5000}}}}).body["id"];
  post("/tasks", {{"kind", "sleep"}, {"owner", "carol"}, {"parent", {{"task", root}}}, {"payload", {{"ms", 5000}}}});
  const Reply cancelled = call(server_.port, http::verb::delete_, "/tasks/" + root + "?tree=1");
  EXPECT_EQ(cancelled.body.value("cancelled", 0), 2);
  EXPECT_EQ(wait_terminal(root).value("status", ""), "cancelled");
  EXPECT_EQ(call(server_.port, http::verb::delete_, "/tasks/" + root).body.value("cancelled", -1), 0) << "already terminal";
}

TEST_F(AgentServerApi, InboxDeliversAndRefusesWithTypedErrors) {
  const std::string agent = post("/tasks", {{"kind", "sub_agent"}, {"owner", "alice"}, {"payload", {{"ms", 5000}}}}).body["id"];
  EXPECT_EQ(post("/tasks/" + agent + "/inbox", {{"from", "mallory"}, {"message", "hi"}}).status, 403u);
  EXPECT_EQ(post("/tasks/" + agent + "/inbox", {{"message", "no sender"}}).status, 400u);
  EXPECT_EQ(post("/tasks/" + agent + "/inbox", {{"from", "alice"}, {"message", "hello"}}).status, 202u);
  EXPECT_EQ(post("/tasks/" + agent + "/inbox", {{"from", "alice"}, {"message", "stop"}}).status, 202u);
  const Json done = wait_terminal(agent);
  ASSERT_EQ(done.value("status", ""), "completed");
  EXPECT_EQ(done["result"]["answered"].size(), 2u);
  EXPECT_EQ(post("/tasks/" + agent + "/inbox", {{"from", "alice"}, {"message", "late"}}).status, 409u) << "terminated";
  const std::string plain = post("/tasks", {{"kind", "sleep"}, {"owner", "alice"}, {"payload", {{"ms", 2000}}}}).body["id"];
  EXPECT_EQ(post("/tasks/" + plain + "/inbox", {{"from", "alice"}, {"message", "x"}}).status, 409u) << "no inbox";
}

TEST_F(AgentServerApi, FlushReportsTheFirstErrorAndFlushByScopeLeavesOthers) {
  post("/tasks", {{"kind", "flaky"}, {"owner", "bob"}, {"payload", {{"failures", 5}, {"ms", 10}}}, {"retry", {{"max_attempts", 1}}},
                  {"key", {{"agent", "a"}, {"scope", "bob"}, {"purpose", "facts"}}}});
  const Reply scoped = post("/flush", {{"scope", "bob"}});
  EXPECT_FALSE(scoped.body.value("ok", true));
  EXPECT_NE(scoped.body.value("error", "").find("planned failure 1"), std::string::npos) << scoped.body.dump();
  const Reply again = post("/flush", Json::object());
  EXPECT_TRUE(again.body.value("ok", false)) << "the error was reported once: " << again.body.dump();
  EXPECT_EQ(post_raw("/flush", "{oops").status, 400u);
  EXPECT_EQ(post("/flush", {{"scope", 7}}).status, 400u);
}

}  // namespace
