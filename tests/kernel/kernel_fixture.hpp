// kernel_fixture.hpp: a tiny harness for driving tasklane::Kernel by hand, with explicit times.
//
// No simulation driver: a test calls the kernel's inputs itself, drains the kernel (drain(), which
// lends the commands poll() would give) into a vector after each one and looks for the commands it
// expects with the finders below.
//
//   testkit::Harness h;
//   const TaskId id = h.spawn(testkit::task("summarize"), testkit::ms(0));
//   const auto out = h.drain();
//   ASSERT_EQ(testkit::starts(out).size(), 1u);
//   h.succeed(id, 1, testkit::ms(5));
//   EXPECT_EQ(testkit::notifies(h.drain()).at(0).status, TaskStatus::Completed);
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tasklane/kernel.hpp"

namespace tasklane {

// Readable failure messages: gtest finds these by argument-dependent lookup.
inline void PrintTo(const TaskStatus& s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(const TaskId& id, std::ostream* os) { *os << to_string(id); }
inline void PrintTo(const SpawnErrorCode& c, std::ostream* os) { *os << to_string(c); }
inline void PrintTo(const SendErrorCode& c, std::ostream* os) { *os << to_string(c); }
inline void PrintTo(const CancelReason& r, std::ostream* os) { *os << to_string(r); }

}  // namespace tasklane

namespace tasklane::testkit {

// Test times are written in milliseconds since the origin; the kernel counts microseconds.
constexpr Time ms(std::int64_t v) { return milliseconds(v); }
constexpr Time us(std::int64_t v) { return Time{v}; }

inline TaskSpec task(std::string kind = "work", std::string owner = "alice") {
  TaskSpec spec;
  spec.kind = std::move(kind);
  spec.owner = std::move(owner);
  return spec;
}

// A task whose attempts time out after `timeout`.
inline TaskSpec timed(Duration timeout, std::string kind = "work") {
  TaskSpec spec = task(std::move(kind));
  spec.timeout = timeout;
  return spec;
}

inline SequenceKey key(std::string scope, std::string purpose, std::string agent = "agent") {
  return SequenceKey{std::move(agent), std::move(scope), std::move(purpose)};
}

template <class C>
std::vector<C> only(const std::vector<Command>& commands) {
  std::vector<C> out;
  for (const auto& c : commands) {
    if (const auto* x = std::get_if<C>(&c)) out.push_back(*x);
  }
  return out;
}

inline std::vector<command::Start> starts(const std::vector<Command>& c) { return only<command::Start>(c); }
inline std::vector<command::Cancel> cancels(const std::vector<Command>& c) { return only<command::Cancel>(c); }
inline std::vector<command::Persist> persists(const std::vector<Command>& c) { return only<command::Persist>(c); }
inline std::vector<command::Notify> notifies(const std::vector<Command>& c) { return only<command::Notify>(c); }
inline std::vector<command::Deliver> delivers(const std::vector<Command>& c) { return only<command::Deliver>(c); }
inline std::vector<command::FlushDone> flush_dones(const std::vector<Command>& c) { return only<command::FlushDone>(c); }
inline std::vector<command::RunQueuedWork> queued_work(const std::vector<Command>& c) {
  return only<command::RunQueuedWork>(c);
}
inline std::vector<command::PersistSnapshot> persisted_snapshots(const std::vector<Command>& c) {
  return only<command::PersistSnapshot>(c);
}
inline std::size_t stops(const std::vector<Command>& c) { return only<command::Stopped>(c).size(); }

inline std::vector<TaskId> started_ids(const std::vector<Command>& c) {
  std::vector<TaskId> ids;
  for (const auto& s : starts(c)) ids.push_back(s.id);
  return ids;
}
inline std::vector<TaskId> notified_ids(const std::vector<Command>& c) {
  std::vector<TaskId> ids;
  for (const auto& n : notifies(c)) ids.push_back(n.id);
  return ids;
}

inline std::vector<Command> drain(Kernel& kernel) {
  std::vector<Command> out;
  kernel.drain([&out](auto& c) { out.emplace_back(std::move(c)); });
  return out;
}

// A kernel and the log of every command it emitted, with the inputs a scenario uses most.
class Harness {
 public:
  explicit Harness(Config config = {}) : kernel(config) {}

  Kernel kernel;
  std::vector<Command> log;  // every command drained so far, in order

  // The commands emitted since the last drain.
  std::vector<Command> drain() {
    auto out = testkit::drain(kernel);
    log.insert(log.end(), out.begin(), out.end());
    return out;
  }

  // Spawns a task that must be accepted; a refusal fails the test and answers an id nobody has.
  TaskId spawn(TaskSpec spec, Time now) {
    auto r = kernel.spawn(std::move(spec), now);
    EXPECT_TRUE(r.has_value()) << "spawn refused: " << (r ? std::string() : r.error().message);
    return r ? r.value() : TaskId{std::numeric_limits<std::uint64_t>::max()};
  }
  // Spawns a task that must be refused.
  SpawnError refuse(TaskSpec spec, Time now) {
    auto r = kernel.spawn(std::move(spec), now);
    EXPECT_FALSE(r.has_value()) << "spawn accepted as " << (r ? to_string(r.value()) : std::string());
    return r ? SpawnError{SpawnErrorCode::EmptyKind, "<accepted>"} : r.error();
  }

  void succeed(TaskId id, std::uint32_t attempt, Time now, Json result = nullptr) {
    kernel.complete(id, attempt, Outcome::success(std::move(result)), now);
  }
  void fail(TaskId id, std::uint32_t attempt, Time now, std::string error, bool retryable = true,
            std::string error_type = {}) {
    kernel.complete(id, attempt, Outcome::failure(std::move(error), retryable, std::move(error_type)), now);
  }
  void tick(Time now) { kernel.tick(now); }

  TaskStatus status(TaskId id) const {
    const std::optional<TaskInfo> info = kernel.get(id);
    EXPECT_TRUE(info.has_value()) << to_string(id) << " is unknown";
    return info ? info->status : TaskStatus::Pending;
  }
};

}  // namespace tasklane::testkit
