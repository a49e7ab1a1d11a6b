// TaskRecord, the kernel's compact form of a task: it converts to and from a TaskInfo exactly, with
// every field alone and all together, and its kind and owner are pooled.
#include "../../core/src/task_record.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "kernel/full_records.hpp"

namespace tasklane {
namespace {

struct Pools {
  detail::StringPool kinds;
  detail::StringPool owners;
};

TaskInfo round_trip(const TaskInfo& info, Pools& pools) {
  detail::TaskRecord r = detail::TaskRecord::make(info, pools.kinds, pools.owners);
  TaskInfo back = r.to_info(info.id);
  r.release(pools.kinds, pools.owners);
  return back;
}

TEST(TaskRecord, EveryFieldSetRoundTrips) {
  Pools pools;
  const TaskInfo full = testkit::full_info();
  EXPECT_EQ(round_trip(full, pools), full);
  EXPECT_EQ(pools.kinds.size(), 0u);  // released
  EXPECT_EQ(pools.owners.size(), 0u);
}

TEST(TaskRecord, ADefaultTaskRoundTripsAndKeepsNoExtras) {
  Pools pools;
  TaskInfo plain;
  plain.id = TaskId{5};
  plain.spec.kind = "noop";
  plain.spec.owner = "bench";
  EXPECT_EQ(round_trip(plain, pools), plain);
  detail::TaskRecord r = detail::TaskRecord::make(plain, pools.kinds, pools.owners);
  EXPECT_FALSE(r.has_extras());  // nothing rarely set: no box
  EXPECT_EQ(r.name(), nullptr);
  EXPECT_EQ(r.quota(), nullptr);
  EXPECT_EQ(r.repeat(), nullptr);
  EXPECT_EQ(r.undelivered(), nullptr);
  EXPECT_FALSE(r.series().has_value());
  EXPECT_FALSE(r.timeout().has_value());
  EXPECT_FALSE(r.finished_at().has_value());
  EXPECT_EQ(&r.retry(), &detail::TaskRecord().retry());  // the shared default policy, no copy
  r.release(pools.kinds, pools.owners);
}

// Each field alone: a field the record forgot to carry (or carries only beside another) shows here.
TEST(TaskRecord, EachFieldAloneRoundTrips) {
  const TaskInfo full = testkit::full_info();
  const std::vector<std::pair<const char*, std::function<void(TaskInfo&)>>> fields = {
      {"kind", [&](TaskInfo& i) { i.spec.kind = full.spec.kind; }},
      {"payload", [&](TaskInfo& i) { i.spec.payload = full.spec.payload; }},
      {"owner", [&](TaskInfo& i) { i.spec.owner = full.spec.owner; }},
      {"name", [&](TaskInfo& i) { i.spec.name = full.spec.name; }},
      {"description", [&](TaskInfo& i) { i.spec.description = full.spec.description; }},
      {"key", [&](TaskInfo& i) { i.spec.key = full.spec.key; }},
      {"run_after", [&](TaskInfo& i) { i.spec.run_after = full.spec.run_after; }},
      {"timeout", [&](TaskInfo& i) { i.spec.timeout = full.spec.timeout; }},
      {"timeout zero", [&](TaskInfo& i) { i.spec.timeout = Duration{0}; }},  // set, not unset
      {"heartbeat", [&](TaskInfo& i) { i.spec.heartbeat = full.spec.heartbeat; }},
      {"retry.max_attempts", [&](TaskInfo& i) { i.spec.retry.max_attempts = 3; }},
      {"retry.requeue_on_restart", [&](TaskInfo& i) { i.spec.retry.requeue_on_restart = true; }},
      {"retry", [&](TaskInfo& i) { i.spec.retry = full.spec.retry; }},
      {"quota", [&](TaskInfo& i) { i.spec.quota = full.spec.quota; }},
      {"dedup", [&](TaskInfo& i) { i.spec.dedup = full.spec.dedup; }},
      {"rate_limit", [&](TaskInfo& i) { i.spec.rate_limit = full.spec.rate_limit; }},
      {"after", [&](TaskInfo& i) { i.spec.after = full.spec.after; }},
      {"after_mode", [&](TaskInfo& i) { i.spec.after_mode = full.spec.after_mode; }},
      {"repeat", [&](TaskInfo& i) { i.spec.repeat = full.spec.repeat; }},
      {"parent.task", [&](TaskInfo& i) { i.spec.parent.task = full.spec.parent.task; }},
      {"parent.run", [&](TaskInfo& i) { i.spec.parent.run = full.spec.parent.run; }},
      {"parent.call", [&](TaskInfo& i) { i.spec.parent.call = full.spec.parent.call; }},
      {"parent.agent", [&](TaskInfo& i) { i.spec.parent.agent = full.spec.parent.agent; }},
      {"priority", [&](TaskInfo& i) { i.spec.priority = full.spec.priority; }},
      {"inbox", [&](TaskInfo& i) { i.spec.inbox = true; }},
      {"durable", [&](TaskInfo& i) { i.spec.durable = true; }},
      {"status", [&](TaskInfo& i) { i.status = full.status; }},
      {"cancel_requested", [&](TaskInfo& i) { i.cancel_requested = true; }},
      {"paused", [&](TaskInfo& i) { i.paused = true; }},
      {"error_unflushed", [&](TaskInfo& i) { i.error_unflushed = true; }},
      {"attempt", [&](TaskInfo& i) { i.attempt = full.attempt; }},
      {"created_at", [&](TaskInfo& i) { i.created_at = full.created_at; }},
      {"due", [&](TaskInfo& i) { i.due = full.due; }},
      {"finished_at", [&](TaskInfo& i) { i.finished_at = full.finished_at; }},
      {"finished_at zero", [&](TaskInfo& i) { i.finished_at = Time{0}; }},  // set, not unset
      {"error", [&](TaskInfo& i) { i.error = full.error; }},
      {"result", [&](TaskInfo& i) { i.result = full.result; }},
      {"waiting_for", [&](TaskInfo& i) { i.waiting_for = full.waiting_for; }},
      {"series", [&](TaskInfo& i) { i.series = full.series; }},
      {"run", [&](TaskInfo& i) { i.run = full.run; }},
      {"series_end", [&](TaskInfo& i) { i.series_end = full.series_end; }},
      {"undelivered", [&](TaskInfo& i) { i.undelivered = full.undelivered; }},
      {"undelivered empty", [&](TaskInfo& i) { i.undelivered = std::vector<InboxMessage>{}; }},
  };
  Pools pools;
  TaskInfo plain;
  plain.id = TaskId{9};
  for (const auto& [name, set] : fields) {
    TaskInfo one = plain;
    set(one);
    ASSERT_FALSE(one == plain) << name << " does not change the default";
    EXPECT_EQ(round_trip(one, pools), one) << name;
    // The rarely-set fields live in the boxed extras; every other field keeps a task without them.
    const std::string field = name;
    const bool rare = field == "name" || field == "description" || field == "quota" || field == "dedup" ||
                      field == "rate_limit" || field == "after" || field == "repeat" || field.rfind("parent.", 0) == 0 ||
                      field == "waiting_for" || field == "series" || field == "series_end" ||
                      field.rfind("undelivered", 0) == 0;
    detail::TaskRecord r = detail::TaskRecord::make(one, pools.kinds, pools.owners);
    EXPECT_EQ(r.has_extras(), rare) << name;
    r.release(pools.kinds, pools.owners);
  }
}

TEST(TaskRecord, ASpecMovesInAndComesBackTheSame) {
  Pools pools;
  TaskSpec spec = testkit::full_spec();
  const TaskSpec copy = spec;
  detail::TaskRecord r = detail::TaskRecord::make(std::move(spec), pools.kinds, pools.owners);
  EXPECT_EQ(r.spec(), copy);
  EXPECT_EQ(r.kind(), "summarize");
  EXPECT_EQ(r.owner(), "alice");
  ASSERT_NE(r.quota(), nullptr);
  EXPECT_EQ(r.quota()->key, "session-7/compaction");
  r.release(pools.kinds, pools.owners);
}

// A const spec (one a caller spawns from again and again) is copied field by field, and stays whole.
TEST(TaskRecord, AConstSpecIsCopiedInAndLeftAsItWas) {
  Pools pools;
  const TaskSpec spec = testkit::full_spec();
  detail::TaskRecord first;
  first.adopt_spec(spec, pools.kinds, pools.owners);
  detail::TaskRecord second;
  second.adopt_spec(spec, pools.kinds, pools.owners);
  EXPECT_EQ(spec, testkit::full_spec()) << "nothing moved out of a const spec";
  EXPECT_EQ(first.spec(), spec);
  EXPECT_EQ(second.spec(), spec);
  EXPECT_EQ(pools.kinds.size(), 1u) << "both records share the one pooled kind";
  first.release(pools.kinds, pools.owners);
  second.release(pools.kinds, pools.owners);
}

TEST(TaskRecord, RecordsOfOneKindAndOwnerShareTheirStrings) {
  Pools pools;
  TaskSpec spec;
  spec.kind = "compact";
  spec.owner = "session-7";
  std::vector<detail::TaskRecord> records;
  for (int i = 0; i < 100; ++i) records.push_back(detail::TaskRecord::make(TaskSpec(spec), pools.kinds, pools.owners));
  EXPECT_EQ(pools.kinds.size(), 1u);
  EXPECT_EQ(pools.owners.size(), 1u);
  EXPECT_EQ(&records.front().kind(), &records.back().kind());
  for (auto& r : records) r.release(pools.kinds, pools.owners);
  EXPECT_EQ(pools.kinds.size(), 0u);
  EXPECT_EQ(pools.owners.size(), 0u);
}

TEST(TaskRecord, IsAQuarterOfATaskInfo) {
  if constexpr (sizeof(void*) == 8) {
    EXPECT_LE(sizeof(detail::TaskRecord), 136u);  // TaskInfo: 480
  }
}

TEST(TaskRecord, StateChangesReadBack) {
  Pools pools;
  detail::TaskRecord r = detail::TaskRecord::make(TaskSpec{}, pools.kinds, pools.owners);
  r.set_result(Json{{"ok", 1}});
  EXPECT_EQ(r.result(), (Json{{"ok", 1}}));
  r.set_result(Json());
  EXPECT_TRUE(r.result().is_null());
  r.set_finished_at(Time{7});
  EXPECT_EQ(r.finished_at(), Time{7});
  r.waiting_for_mut().push_back(TaskId{3});
  EXPECT_EQ(r.waiting_for(), std::vector<TaskId>{TaskId{3}});
  r.extras_mut().undelivered = std::vector<InboxMessage>{{"a", 1}};
  ASSERT_NE(r.undelivered(), nullptr);
  r.drop_undelivered();
  EXPECT_EQ(r.undelivered(), nullptr);
  r.set_series(TaskId{2}, 4);
  EXPECT_EQ(r.series(), TaskId{2});
  EXPECT_EQ(r.run, 4u);
  r.release(pools.kinds, pools.owners);
}

}  // namespace
}  // namespace tasklane
