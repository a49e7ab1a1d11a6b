// tasklane_agent_demo: what `./run demo` runs. It starts the agent server on a fresh data directory,
// drives a scripted agent workload through the HTTP API while printing the server's event stream
// as a live timeline, kills the server with SIGKILL in the middle of work, restarts it to show that
// pending work survived and that work cut off mid-run is reported orphaned, then shuts it down
// gracefully and prints a summary. Exits 0 when every step behaved as expected.
#include <utility>  // before Asio (Boost 1.74 + gcc 12)

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_client.hpp"

namespace {

using namespace agent_server::client;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const Clock::time_point demo_start = Clock::now();
std::mutex print_mutex;

void say(const std::string& line) {
  const double t = std::chrono::duration<double>(Clock::now() - demo_start).count();
  std::lock_guard lock(print_mutex);
  std::cout << "[" << std::fixed << std::setprecision(2) << std::setw(6) << t << "s] " << line << std::endl;
}

Json spawn(unsigned short port, const Json& body) {
  const Reply r = call(port, http::verb::post, "/tasks", body);
  if (r.status != 201) throw std::runtime_error("spawn refused: " + r.body.dump());
  return r.body;
}

// Prints the server's event stream until the connection ends.
class EventPrinter {
 public:
  explicit EventPrinter(unsigned short port) : thread_([this, port] { run(port); }) {}
  ~EventPrinter() {
    if (thread_.joinable()) thread_.join();
  }
  // Ends the stream from another thread: shutting the descriptor down wakes the blocked read.
  void stop() {
    const int fd = fd_.load();
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void run(unsigned short port) {
    net::io_context io;
    net::ip::tcp::socket socket(io);
    beast::error_code ec;
    socket.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return;
    fd_ = socket.native_handle();
    const std::string request = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    net::write(socket, net::buffer(request), ec);
    net::streambuf buffer;
    while (!ec) {
      net::read_until(socket, buffer, "\n", ec);
      std::istream in(&buffer);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("data: ", 0) == 0) print(Json::parse(line.substr(6), nullptr, false));
      }
    }
    fd_ = -1;
  }

  static void print(const Json& e) {
    if (!e.is_object()) return;
    const std::string kind = e.value("event", "");
    std::string line = e.value("id", "") + " " + e.value("kind", "") + " (" + e.value("owner", "") + ") ";
    if (kind == "progress") {
      const double p = e.value("progress", 0.0);
      if (p != 0.5 && p != 1.0) return;  // a few lines per task, not fifty
      line += "progress " + std::to_string(static_cast<int>(p * 100)) + "% " + e.value("message", "");
    } else if (kind == "finished") {
      line += "finished " + e.value("status", "");
      if (e.contains("error")) line += ": " + e.value("error", "");
    } else if (kind == "started") {
      line += "started attempt " + std::to_string(e.value("attempt", 0));
    } else if (kind == "inbox") {
      line += "inbox message from " + e.value("from", "");
    } else {
      line += kind;
    }
    say("  event: " + line);
  }

  std::atomic<int> fd_{-1};
  std::thread thread_;
};

bool tasklane_id_after(const std::string& a, const std::string& b) { return std::stoull(a.substr(3)) > std::stoull(b.substr(3)); }

void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void check(bool ok, const std::string& what, int& failures) {
  say(std::string(ok ? "ok:    " : "FAIL:  ") + what);
  if (!ok) ++failures;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path self = std::filesystem::canonical("/proc/self/exe");
  const std::filesystem::path server_binary = self.parent_path() / "tasklane_agent_server";
  const std::filesystem::path data = argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::temp_directory_path() /
                                                                                      ("tasklane-demo-" + std::to_string(getpid()));
  std::filesystem::remove_all(data);
  int failures = 0;

  say("starting the agent server on a fresh data directory " + data.string());
  // The server's JSON-lines log goes to its stderr; the demo shows only its warnings and errors.
  const std::vector<std::string> quiet_log{"--log-level", "warn"};
  Server server = start_server(server_binary, data, quiet_log);
  say("server listening on 127.0.0.1:" + std::to_string(server.port));
  std::optional<EventPrinter> events(std::in_place, server.port);
  pause_ms(200);

  say("turn 1 of session alice ends: post-turn work is scheduled");
  const Json key_facts = {{"agent", "helper"}, {"scope", "alice"}, {"purpose", "facts"}};
  spawn(server.port, {{"kind", "maintenance"}, {"owner", "alice"}, {"name", "facts-1"}, {"key", key_facts}, {"payload", {{"ms", 300}}}});
  spawn(server.port, {{"kind", "maintenance"}, {"owner", "alice"}, {"name", "facts-2"}, {"key", key_facts}, {"payload", {{"ms", 300}}}});
  spawn(server.port, {{"kind", "compact"}, {"owner", "alice"}, {"priority", "high"}, {"payload", {{"ms", 400}}}});
  spawn(server.port, {{"kind", "flaky"}, {"owner", "alice"}, {"payload", {{"failures", 2}, {"ms", 50}}},
                      {"retry", {{"max_attempts", 3}, {"initial_backoff_ms", 100}}}});
  spawn(server.port, {{"kind", "sleep"}, {"owner", "alice"}, {"priority", "low"}, {"description", "export traces"}, {"payload", {{"ms", 200}}}});
  const Json agent = spawn(server.port, {{"kind", "sub_agent"}, {"owner", "alice"}, {"name", "researcher"}, {"payload", {{"ms", 4000}}}});
  pause_ms(300);
  say("alice sends two messages to the researcher sub-agent");
  call(server.port, http::verb::post, "/tasks/" + agent["id"].get<std::string>() + "/inbox", {{"from", "alice"}, {"message", "find the paper"}});
  call(server.port, http::verb::post, "/tasks/" + agent["id"].get<std::string>() + "/inbox", {{"from", "alice"}, {"message", "stop"}});
  const Reply refused = call(server.port, http::verb::post, "/tasks/" + agent["id"].get<std::string>() + "/inbox", {{"from", "mallory"}, {"message", "hi"}});
  check(refused.status == 403, "a message from someone who does not own the sub-agent is refused: " + refused.body.value("error", ""), failures);

  say("a task that keeps failing; its error surfaces at the next flush");
  spawn(server.port, {{"kind", "flaky"}, {"owner", "bob"}, {"payload", {{"failures", 9}, {"ms", 20}}}, {"retry", {{"max_attempts", 2}, {"initial_backoff_ms", 50}}}});
  const Reply flushed = call(server.port, http::verb::post, "/flush", Json::object());
  check(flushed.body.value("ok", true) == false && flushed.body.value("error", "").find("planned failure") != std::string::npos,
        "flush reports the first error: " + flushed.body.value("error", ""), failures);

  say("a tree of work is cancelled at its root");
  const Json root = spawn(server.port, {{"kind", "sleep"}, {"owner", "carol"}, {"payload", {{"ms", 5000}}}});
  spawn(server.port, {{"kind", "sleep"}, {"owner", "carol"}, {"parent", {{"task", root["id"]}}}, {"payload", {{"ms", 5000}}}});
  const Reply cancelled = call(server.port, http::verb::delete_, "/tasks/" + root["id"].get<std::string>() + "?tree=1");
  check(cancelled.body.value("cancelled", 0) == 2, "cancel tree reached the root and its child", failures);

  say("durable work for later, and a long job that will be cut off by a crash");
  const Json later = spawn(server.port, {{"kind", "sleep"}, {"owner", "dave"}, {"priority", "critical"}, {"run_after_ms", 3600000}, {"payload", {{"ms", 10}}}});
  const Json doomed = spawn(server.port, {{"kind", "sleep"}, {"owner", "dave"}, {"payload", {{"ms", 30000}}}});
  pause_ms(400);

  say("SIGKILL the server in the middle of work");
  events->stop();
  kill(server.pid, SIGKILL);
  waitpid(server.pid, nullptr, 0);
  events.reset();

  say("restart on the same data directory");
  server = start_server(server_binary, data, quiet_log);
  events.emplace(server.port);
  const Reply survived = call(server.port, http::verb::get, "/tasks/" + later["id"].get<std::string>());
  check(survived.body.value("status", "") == "pending" && survived.body.value("priority", "") == "critical",
        "delayed work survived the crash: " + later["id"].get<std::string>() + " is " + survived.body.value("status", "") +
            ", due in an hour, priority " + survived.body.value("priority", ""), failures);
  const Reply orphan = call(server.port, http::verb::get, "/tasks/" + doomed["id"].get<std::string>());
  check(orphan.body.value("status", "") == "failed", "work cut off by the crash is reported: " + orphan.body.value("error", ""), failures);
  const Json next = spawn(server.port, {{"kind", "sleep"}, {"owner", "dave"}, {"payload", {{"ms", 100}}}});
  check(tasklane_id_after(next["id"].get<std::string>(), doomed["id"].get<std::string>()), "ids keep growing after the restart: " + next["id"].get<std::string>(), failures);
  pause_ms(300);

  say("graceful shutdown (SIGTERM): running work finishes, pending work is persisted");
  events->stop();
  kill(server.pid, SIGTERM);
  int status = 0;
  waitpid(server.pid, &status, 0);
  events.reset();
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server exited cleanly", failures);

  std::map<std::string, int> by_status;
  server = start_server(server_binary, data, quiet_log);
  for (const char* owner : {"alice", "bob", "carol", "dave"}) {
    const Reply r = call(server.port, http::verb::get, std::string("/tasks?owner=") + owner);
    for (const auto& t : r.body["tasks"]) ++by_status[t.value("status", "?")];
  }
  kill(server.pid, SIGTERM);
  waitpid(server.pid, nullptr, 0);
  std::string summary;
  for (const auto& [s, n] : by_status) summary += " " + s + "=" + std::to_string(n);
  say("summary of every task in the store:" + summary);
  std::filesystem::remove_all(data);
  say(failures == 0 ? "demo finished: every step behaved as expected" : "demo finished with " + std::to_string(failures) + " failed checks");
  return failures == 0 ? 0 : 1;
}
