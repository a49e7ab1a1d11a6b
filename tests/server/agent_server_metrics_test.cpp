// The agent server's GET /metrics (Prometheus text format) and its JSON-lines log (--log FILE),
// against the real server binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "http_client.hpp"

namespace {

using namespace agent_server::client;
namespace fs = std::filesystem;

class AgentServerMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tasklane-metrics-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = start_server(TASKLANE_AGENT_SERVER, dir_ / "data", {"--log", (dir_ / "server.log").string()});
  }
  void TearDown() override {
    stop();
    fs::remove_all(dir_);
  }
  void stop() {
    if (server_.pid < 0) return;
    kill(server_.pid, SIGTERM);
    int status = 0;
    waitpid(server_.pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    server_.pid = -1;
  }
  Reply get(const std::string& target) { return call(server_.port, http::verb::get, target); }
  Reply post(const std::string& target, const Json& body) { return call(server_.port, http::verb::post, target, body); }

  // The samples of the exposition: "name{labels}" -> value.
  std::map<std::string, double> scrape() {
    const Reply r = get("/metrics");
    EXPECT_EQ(r.status, 200u);
    std::map<std::string, double> samples;
    std::istringstream lines(r.text);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto space = line.rfind(' ');
      samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return samples;
  }

  // Polls until the task is terminal (bounded).
  void wait_terminal(const std::string& id) {
    for (int i = 0; i < 400; ++i) {
      const std::string status = get("/tasks/" + id).body.value("status", "");
      if (status != "pending" && status != "running") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << id << " did not finish";
  }

  fs::path dir_;
  Server server_;
};

TEST_F(AgentServerMetrics, MetricsAreInThePrometheusTextFormat) {
  const Reply r = get("/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_TRUE(r.body.is_discarded()) << "text, not JSON";
  EXPECT_NE(r.text.find("# HELP tasklane_tasks_spawned_total "), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("# TYPE tasklane_tasks_spawned_total counter"), std::string::npos);
  EXPECT_NE(r.text.find("# TYPE tasklane_tasks_pending gauge"), std::string::npos);
  EXPECT_NE(r.text.find("# TYPE tasklane_start_lag_seconds histogram"), std::string::npos);
  EXPECT_NE(r.text.find("tasklane_start_lag_seconds_bucket{le=\"+Inf\"} 0"), std::string::npos);
}

TEST_F(AgentServerMetrics, CountersAndGaugesFollowTheWork) {
  ASSERT_EQ(post("/tasks", {{"kind", "sleep"}, {"owner", "alice"}, {"payload", {{"ms", 20}}}}).status, 201u);
  ASSERT_EQ(post("/tasks", {{"kind", "flaky"}, {"owner", "alice"}, {"payload", {{"ms", 10}, {"failures", 1}}},
                            {"retry", {{"max_attempts", 2}, {"initial_backoff_ms", 1}}}}).status, 201u);
  ASSERT_EQ(post("/tasks", {{"kind", "sleep"}, {"owner", "bob"}, {"priority", "low"}, {"run_after_ms", 3'600'000}}).status, 201u);
  wait_terminal("bg_0");
  wait_terminal("bg_1");
  const auto m = scrape();
  EXPECT_EQ(m.at("tasklane_tasks_spawned_total"), 3);
  EXPECT_EQ(m.at("tasklane_attempts_started_total"), 3) << "bg_1 ran twice";
  EXPECT_EQ(m.at("tasklane_tasks_finished_total{status=\"completed\"}"), 2);
  EXPECT_EQ(m.at("tasklane_retries_total"), 1);
  EXPECT_EQ(m.at("tasklane_tasks_delayed{priority=\"low\"}"), 1) << "bob's task waits an hour";
  EXPECT_EQ(m.at("tasklane_tasks_running{priority=\"normal\"}"), 0);
  EXPECT_EQ(m.at("tasklane_start_lag_seconds_count"), 3);
  EXPECT_EQ(m.at("tasklane_start_lag_seconds_bucket{le=\"+Inf\"}"), 3);
}

TEST_F(AgentServerMetrics, TheLogIsJsonLinesWithTimeLevelEventAndFields) {
  ASSERT_EQ(post("/tasks", {{"kind", "flaky"}, {"owner", "carol"}, {"payload", {{"ms", 1}, {"failures", 5}}}}).status, 201u);
  wait_terminal("bg_0");
  stop();
  std::ifstream in(dir_ / "server.log");
  std::string line;
  std::map<std::string, Json> by_event;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    const Json j = Json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("event") && j.contains("fields")) << line;
    EXPECT_EQ(j.at("time").get<std::string>().back(), 'Z') << line;
    by_event[j.at("event").get<std::string>()] = j;
  }
  EXPECT_GE(lines, 3);
  ASSERT_TRUE(by_event.count("runtime_started"));
  ASSERT_TRUE(by_event.count("task_finished"));
  const Json& finished = by_event.at("task_finished");
  EXPECT_EQ(finished.at("level"), "warn") << "a failed task";
  EXPECT_EQ(finished.at("fields").value("id", ""), "bg_0");
  EXPECT_EQ(finished.at("fields").value("status", ""), "failed");
  EXPECT_EQ(finished.at("fields").value("owner", ""), "carol");
  EXPECT_TRUE(by_event.count("runtime_stopped"));
}

}  // namespace
