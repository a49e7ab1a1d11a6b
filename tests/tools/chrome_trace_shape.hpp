// What tests hold a Chrome trace (tasklane trace) to: a {"traceEvents": [...]} object whose every
// event has ph, ts, pid, tid and name; B/E slices balanced and properly nested per thread, with
// E at or after its B; b/e async spans balanced per id; X with a duration >= 0; instants with a
// scope. Returns what it counted, and every problem as a sentence.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tasklane::tools_test {

struct ShapeReport {
  std::vector<std::string> problems;
  std::size_t slices = 0;        // B/E pairs
  std::size_t lane_slices = 0;   // X events
  std::size_t async_spans = 0;   // b/e pairs
  std::multiset<std::string> instants;
  std::set<std::string> thread_names;
};

inline ShapeReport check_chrome_trace_shape(const nlohmann::json& chrome) {
  ShapeReport r;
  if (!chrome.is_object() || !chrome.contains("traceEvents") || !chrome.at("traceEvents").is_array()) {
    r.problems.push_back("no traceEvents array");
    return r;
  }
  std::map<std::pair<long, long>, std::vector<std::pair<std::string, long long>>> open;  // (pid, tid) -> stack
  std::map<std::string, long long> open_async;
  std::size_t index = 0;
  for (const auto& e : chrome.at("traceEvents")) {
    const std::string at = "event " + std::to_string(index++) + " " + e.dump();
    for (const char* field : {"ph", "ts", "pid", "tid", "name"}) {
      if (!e.contains(field)) r.problems.push_back(at + ": no " + field);
    }
    if (!r.problems.empty()) return r;
    if (!e.at("ts").is_number() || e.at("ts").get<long long>() < 0) r.problems.push_back(at + ": ts is not a time >= 0");
    const std::string ph = e.at("ph").get<std::string>();
    const long long ts = e.at("ts").get<long long>();
    const auto thread = std::make_pair(e.at("pid").get<long>(), e.at("tid").get<long>());
    const std::string name = e.at("name").get<std::string>();
    if (ph == "B") {
      open[thread].emplace_back(name, ts);
    } else if (ph == "E") {
      auto& stack = open[thread];
      if (stack.empty()) {
        r.problems.push_back(at + ": E without a B on its thread");
      } else {
        if (stack.back().first != name) r.problems.push_back(at + ": E closes '" + stack.back().first + "'");
        if (ts < stack.back().second) r.problems.push_back(at + ": E before its B");
        stack.pop_back();
        ++r.slices;
      }
    } else if (ph == "X") {
      if (!e.contains("dur") || e.at("dur").get<long long>() < 0) r.problems.push_back(at + ": X without a duration >= 0");
      ++r.lane_slices;
    } else if (ph == "b" || ph == "e") {
      if (!e.contains("id") || !e.contains("cat")) {
        r.problems.push_back(at + ": async event without id and cat");
        continue;
      }
      const std::string key = e.at("cat").get<std::string>() + "/" + e.at("id").dump();
      if (ph == "b") {
        if (!open_async.emplace(key, ts).second) r.problems.push_back(at + ": async span opened twice");
      } else if (const auto it = open_async.find(key); it == open_async.end()) {
        r.problems.push_back(at + ": e without its b");
      } else {
        if (ts < it->second) r.problems.push_back(at + ": e before its b");
        open_async.erase(it);
        ++r.async_spans;
      }
    } else if (ph == "i") {
      if (!e.contains("s")) r.problems.push_back(at + ": instant without a scope");
      r.instants.insert(name);
    } else if (ph == "M") {
      if (name == "thread_name") r.thread_names.insert(e.at("args").at("name").get<std::string>());
    } else {
      r.problems.push_back(at + ": unexpected phase " + ph);
    }
  }
  for (const auto& [thread, stack] : open) {
    if (!stack.empty()) r.problems.push_back("slice '" + stack.back().first + "' never closed");
  }
  if (!open_async.empty()) r.problems.push_back("async span " + open_async.begin()->first + " never closed");
  return r;
}

}  // namespace tasklane::tools_test
