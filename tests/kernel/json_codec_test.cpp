// The JSON codec: every value survives encode -> decode (and encode -> text -> decode) unchanged,
// a minimal HTTP spawn body decodes with defaults, and bad input answers a DecodeError that names
// the field at fault instead of throwing.
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernel/full_records.hpp"
#include "tasklane/json.hpp"

namespace tasklane {
namespace {

using testkit::full_info;
using testkit::full_spec;

// ---- values with something other than the default in every field ------------------------------

Snapshot full_snapshot() {
  TaskInfo second = full_info();
  second.id = TaskId{43};
  second.status = TaskStatus::Pending;
  second.finished_at.reset();
  second.error.reset();
  second.spec = TaskSpec{};
  second.spec.kind = "sleep";
  return Snapshot{44, 0xdeadbeefcafef00dULL, {full_info(), second},
                  {QuotaUsage{"session-7/compaction", 2, Time{1'700'000'000'000'000}}, QuotaUsage{"other", 1, {}}},
                  {RateLimitUsage{"openai", 3, Time{1'700'000'000'123'456}}},
                  {"alice"},
                  {"compaction"}};
}

std::vector<Event> every_event() {
  return {
      event::Spawn{full_spec()},
      event::Complete{TaskId{7}, 2, Outcome{false, Json{{"x", 1}}, "boom", "bad_request", false}},
      event::Complete{TaskId{8}, 1, Outcome::success(Json::array({1, 2, 3}))},
      event::Tick{},
      event::Poke{"session-7", "turn finished"},
      event::Poke{std::nullopt, "poll"},
      event::QueuedWorkAnswer{17, "session-7"},
      event::QueuedWorkAnswer{18, std::nullopt},
      event::SessionComplete{"session-7", "done"},
      event::Abort{abort_selector::Task{TaskId{3}}},
      event::Abort{abort_selector::Tree{TaskId{4}}},
      event::Abort{abort_selector::Owner{"alice"}},
      event::Abort{abort_selector::Run{"run-9"}},
      event::Abort{abort_selector::All{}},
      event::Flush{flush_selector::All{}},
      event::Flush{flush_selector::Scope{"session-7"}},
      event::Flush{flush_selector::Purpose{"facts"}},
      event::Flush{flush_selector::ScopePurpose{"session-7", "facts"}},
      event::Send{TaskId{5}, "bob", Json{{"text", "hi"}}},
      event::Shutdown{ShutdownMode::Cancel},
      event::Heartbeat{TaskId{6}, 3},
      event::Restore{full_snapshot()},
      event::Pause{pause_selector::Owner{"alice"}},
      event::Pause{pause_selector::Purpose{"compaction"}},
      event::Resume{pause_selector::Purpose{"compaction"}},
  };
}

std::vector<Command> every_command() {
  return {
      command::Start{TaskId{5}, 2, "summarize", Json{{"turn", 12}}, Time{99'000'000}, true},
      command::Start{TaskId{6}, 1, "sleep", nullptr, std::nullopt, false},
      command::Cancel{TaskId{5}, 2, CancelReason::TimedOut},
      command::Cancel{TaskId{5}, 3, CancelReason::Shutdown},
      command::Persist{full_info()},
      command::PersistSnapshot{full_snapshot()},
      command::Notify{"alice", TaskId{5}, TaskStatus::Failed, Json{{"r", 1}}, "boom", TaskId{6}},
      command::Deliver{TaskId{5}, 4, "bob", Json{{"text", "hi"}}},
      command::FlushDone{12, "first error"},
      command::FlushDone{13, std::nullopt},
      command::Stopped{},
      command::RunQueuedWork{21, "session-7", "poke", true},
  };
}

// decode(encode(x)) == x, straight and through text.
template <class T, class Decode>
void expect_round_trip(const T& value, Decode decode) {
  const Json encoded = to_json(value);
  const auto direct = decode(encoded);
  ASSERT_TRUE(direct) << direct.error().message << "\n" << encoded.dump();
  EXPECT_EQ(direct.value(), value) << encoded.dump();

  const auto parsed = parse_json(encoded.dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto through_text = decode(parsed.value());
  ASSERT_TRUE(through_text) << through_text.error().message << "\n" << encoded.dump();
  EXPECT_EQ(through_text.value(), value) << encoded.dump();
  EXPECT_EQ(to_json(through_text.value()).dump(), encoded.dump());
}

Json parse(std::string_view text) {
  auto parsed = parse_json(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? parsed.value() : Json{};
}

// The decode fails, and its message starts with `path` and contains `what`.
template <class T>
void expect_error(const Result<T, DecodeError>& result, const std::string& path, const std::string& what) {
  ASSERT_FALSE(result) << "decoded although " << path << " is wrong";
  const std::string& message = result.error().message;
  EXPECT_EQ(message.rfind(path + ":", 0), 0U) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

// ---- round trips -------------------------------------------------------------------------------

TEST(JsonCodecRoundTrip, FullTaskSpec) { expect_round_trip(full_spec(), task_spec_from_json); }

TEST(JsonCodecRoundTrip, DefaultTaskSpec) { expect_round_trip(TaskSpec{}, task_spec_from_json); }

// A spec with a priority outside the enum (a spawn the kernel refuses, traced before it is checked)
// round-trips as its number; a number beyond a byte is an error.
TEST(JsonCodecRoundTrip, APriorityOutsideTheEnumAsItsNumber) {
  TaskSpec spec;
  spec.kind = "k";
  spec.priority = static_cast<Priority>(9);
  expect_round_trip(spec, task_spec_from_json);
  EXPECT_EQ(to_json(spec)["priority"], 9);
  EXPECT_EQ(std::string(to_string(static_cast<Priority>(9))), "invalid");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","priority":256})")), "spec.priority", "out of range");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","priority":-1})")), "spec.priority", "out of range");
}

// The modes a caller sets are enums too: one cast from a bad number round-trips as its number
// (after_mode even without `after`, so that a replay refuses the spawn again), and names stay names.
TEST(JsonCodecRoundTrip, ModesOutsideTheirEnumsAsTheirNumbers) {
  TaskSpec spec;
  spec.kind = "k";
  spec.dedup = DedupSpec{"d", static_cast<DedupMode>(2)};
  spec.repeat = Repeat{Duration{5}, static_cast<RepeatMode>(200), std::nullopt};
  spec.after_mode = static_cast<DependencyMode>(3);
  expect_round_trip(spec, task_spec_from_json);
  const Json j = to_json(spec);
  EXPECT_EQ(j["dedup"]["mode"], 2);
  EXPECT_EQ(j["repeat"]["mode"], 200);
  EXPECT_EQ(j["after_mode"], 3);
  EXPECT_FALSE(j.contains("after"));
  spec.after_mode = DependencyMode::AllFinished;
  expect_round_trip(spec, task_spec_from_json);  // a mode other than the default, without `after`
  EXPECT_EQ(to_json(spec)["after_mode"], "all_finished");
  spec.after_mode = DependencyMode::AllSucceeded;
  EXPECT_FALSE(to_json(spec).contains("after_mode")) << "the default mode without `after` stays left out";
  EXPECT_EQ(std::string(to_string(static_cast<DedupMode>(2))), "invalid");
  EXPECT_EQ(std::string(to_string(static_cast<RepeatMode>(2))), "invalid");
  EXPECT_EQ(std::string(to_string(static_cast<DependencyMode>(2))), "invalid");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","after_mode":256})")), "spec.after_mode", "out of range");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","dedup":{"key":"d","mode":-1}})")), "spec.dedup.mode",
               "out of range");
  const Event shutdown = event::Shutdown{static_cast<ShutdownMode>(7)};
  expect_round_trip(shutdown, event_from_json);
  EXPECT_EQ(to_json(shutdown)["mode"], 7);
}

TEST(JsonCodecRoundTrip, FullTaskInfo) { expect_round_trip(full_info(), task_info_from_json); }

TEST(JsonCodecRoundTrip, Snapshot) {
  expect_round_trip(full_snapshot(), snapshot_from_json);
  expect_round_trip(Snapshot{}, snapshot_from_json);
}

TEST(JsonCodecRoundTrip, EveryEventAlternative) {
  std::set<std::size_t> seen;
  for (const Event& e : every_event()) {
    SCOPED_TRACE(to_json(e).dump());
    expect_round_trip(e, event_from_json);
    seen.insert(e.index());
  }
  EXPECT_EQ(seen.size(), std::variant_size_v<Event>);
}

TEST(JsonCodecRoundTrip, EveryCommandAlternative) {
  std::set<std::size_t> seen;
  for (const Command& c : every_command()) {
    SCOPED_TRACE(to_json(c).dump());
    expect_round_trip(c, command_from_json);
    seen.insert(c.index());
  }
  EXPECT_EQ(seen.size(), std::variant_size_v<Command>);
}

TEST(JsonCodecRoundTrip, TimedEvents) {
  for (const Event& e : every_event()) expect_round_trip(TimedEvent{Time{1'234'567}, e}, timed_event_from_json);
}

TEST(JsonCodecRoundTrip, ExtremeNumbers) {
  TaskInfo info = full_info();
  info.id = TaskId{std::numeric_limits<std::uint64_t>::max()};
  info.attempt = std::numeric_limits<std::uint32_t>::max();
  info.created_at = Time{std::numeric_limits<std::int64_t>::min()};
  info.due = Time{std::numeric_limits<std::int64_t>::max()};
  info.spec.run_after = Duration{-1};  // refused by spawn, but a value the codec must carry
  info.spec.retry.multiplier = 1e300;
  info.spec.retry.jitter = 5e-324;     // the smallest subnormal
  expect_round_trip(info, task_info_from_json);

  Snapshot snapshot;
  snapshot.next_id = std::numeric_limits<std::uint64_t>::max();
  snapshot.rng_state = std::numeric_limits<std::uint64_t>::max() - 1;
  expect_round_trip(snapshot, snapshot_from_json);
}

// ---- the shape other programs read and write ---------------------------------------------------

TEST(JsonCodecShape, SpecFieldsAreSnakeCaseMicroseconds) {
  const Json j = to_json(full_spec());
  EXPECT_EQ(j["kind"], "summarize");
  EXPECT_EQ(j["priority"], "high");
  EXPECT_EQ(j["run_after_us"], 250'000);
  EXPECT_EQ(j["timeout_us"], 30'000'000);
  EXPECT_EQ(j["heartbeat_us"], 1'500'000);
  EXPECT_EQ(j["key"], (Json{{"agent", "agent-1"}, {"scope", "session-7"}, {"purpose", "facts"}}));
  EXPECT_EQ(j["retry"]["initial_backoff_us"], 10'000);
  EXPECT_EQ(j["quota"]["cooldown_us"], 5'000'000);
  EXPECT_EQ(j["parent"]["task"], "bg_1");
  EXPECT_EQ(j["dedup"], (Json{{"key", "refresh-index"}, {"mode", "replace_pending"}}));
  EXPECT_EQ(j["rate_limit"], (Json{{"key", "openai"}, {"starts", 60}, {"interval_us", 60'000'000}}));
}

TEST(JsonCodecShape, SnapshotsWithoutRateLimitsStillDecode) {
  const auto old = snapshot_from_json(parse(R"({"next_id":3,"rng_state":7,"tasks":[],"quotas":[]})"));
  ASSERT_TRUE(old.has_value()) << old.error().message;
  EXPECT_TRUE(old.value().rate_limits.empty());
  EXPECT_FALSE(to_json(old.value()).contains("rate_limits")) << "left out when empty: old snapshots read as they did";
  EXPECT_EQ(to_json(full_snapshot())["rate_limits"],
            parse(R"([{"key":"openai","tokens":3,"refilled_at_us":1700000000123456}])"));
  expect_error(snapshot_from_json(parse(R"({"next_id":3,"rng_state":7,"tasks":[],"quotas":[],"rate_limits":[{"key":"k"}]})")),
               "snapshot.rate_limits[0].tokens", "missing");
}

TEST(JsonCodecShape, PauseSelectorsAndRulesAreNamedAndLeftOutWhileEmpty) {
  EXPECT_EQ(to_json(Event{event::Pause{pause_selector::Owner{"alice"}}}),
            (Json{{"type", "pause"}, {"which", {{"select", "owner"}, {"owner", "alice"}}}}));
  EXPECT_EQ(to_json(Event{event::Resume{pause_selector::Purpose{"facts"}}}),
            (Json{{"type", "resume"}, {"which", {{"select", "purpose"}, {"purpose", "facts"}}}}));
  Snapshot s;
  EXPECT_FALSE(to_json(s).contains("paused_owners") || to_json(s).contains("paused_purposes"));
  s.paused_owners = {"alice"};
  s.paused_purposes = {"compaction"};
  EXPECT_EQ(to_json(s)["paused_owners"], Json{"alice"});
  EXPECT_EQ(to_json(s)["paused_purposes"], Json{"compaction"});
  TaskInfo info = full_info();
  info.paused = false;
  EXPECT_FALSE(to_json(info).contains("paused"));
}

TEST(JsonCodecShape, DependenciesAreIdListsLeftOutWhileEmpty) {
  const Json j = to_json(full_info());
  EXPECT_EQ(j["spec"]["after"], (Json{"bg_3", "bg_7"}));
  EXPECT_EQ(j["spec"]["after_mode"], "all_finished");
  EXPECT_EQ(j["waiting_for"], Json{"bg_7"});
  TaskInfo plain = full_info();
  plain.spec.after.clear();
  plain.waiting_for.clear();
  EXPECT_EQ(to_json(plain)["spec"]["after_mode"], "all_finished") << "a mode set without `after` is kept";
  plain.spec.after_mode = DependencyMode::AllSucceeded;
  const Json old = to_json(plain);
  EXPECT_FALSE(old["spec"].contains("after") || old["spec"].contains("after_mode") || old.contains("waiting_for"))
      << "records without dependencies encode as before";
  const auto spec = task_spec_from_json(parse(R"({"kind":"k","after":["bg_1"]})"));
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec.value().after_mode, DependencyMode::AllSucceeded);
  expect_error(task_spec_from_json(parse(R"({"kind":"k","after":["bg_1"],"after_mode":"any"})")), "spec.after_mode",
               "unknown dependency mode \"any\"");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","after":["one"]})")), "spec.after[0]", "task id");
}

TEST(JsonCodecShape, RepeatAndSeriesAreNamedAndLeftOutWhenUnset) {
  const Json j = to_json(full_info());
  EXPECT_EQ(j["spec"]["repeat"], (Json{{"every_us", 300'000'000}, {"mode", "fixed_delay"}, {"times", 12}}));
  EXPECT_EQ(j["series"], "bg_40");
  EXPECT_EQ(j["run"], 3);
  EXPECT_EQ(j["series_end"], "series ended: runtime is shutting down");
  TaskInfo plain = full_info();
  plain.spec.repeat.reset();
  plain.series.reset();
  plain.run = 0;
  plain.series_end.reset();
  const Json old = to_json(plain);
  EXPECT_FALSE(old["spec"].contains("repeat") || old.contains("series") || old.contains("run") || old.contains("series_end"))
      << "records of tasks that do not repeat encode as before";
  const auto spec = task_spec_from_json(parse(R"({"kind":"k","repeat":{"every_us":1000}})"));
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_EQ(spec.value().repeat, (Repeat{Duration{1000}, RepeatMode::FixedRate, std::nullopt}));
  expect_error(task_spec_from_json(parse(R"({"kind":"k","repeat":{"every_us":1000,"mode":"cron"}})")), "spec.repeat.mode",
               "unknown repeat mode \"cron\"");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","repeat":{"mode":"fixed_rate"}})")), "spec.repeat.every_us",
               "missing");
  // A record never holds what spawn refuses: a damaged or hand-edited one would divide by zero.
  expect_error(task_spec_from_json(parse(R"({"kind":"k","repeat":{"every_us":0}})")), "spec.repeat.every_us",
               "must be positive and at most ten years (got 0)");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","repeat":{"every_us":-5}})")), "spec.repeat.every_us",
               "must be positive and at most ten years (got -5)");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","repeat":{"every_us":1000,"times":0}})")), "spec.repeat.times",
               "must be at least 1");
}

TEST(JsonCodecShape, DedupModeDefaultsToKeepExistingAndUnknownModesAreRefused) {
  const auto spec = task_spec_from_json(parse(R"({"kind":"k","dedup":{"key":"x"}})"));
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_EQ(spec.value().dedup, (DedupSpec{"x", DedupMode::KeepExisting}));
  expect_error(task_spec_from_json(parse(R"({"kind":"k","dedup":{"key":"x","mode":"newest"}})")), "spec.dedup.mode",
               "unknown dedup mode \"newest\"");
}

TEST(JsonCodecShape, EmptyOptionalsAreLeftOut) {
  const Json j = to_json(TaskSpec{});
  EXPECT_FALSE(j.contains("name"));
  EXPECT_FALSE(j.contains("key"));
  EXPECT_FALSE(j.contains("timeout_us"));
  EXPECT_FALSE(j.contains("heartbeat_us"));
  EXPECT_FALSE(j.contains("quota"));
  EXPECT_FALSE(j.contains("dedup"));
  EXPECT_EQ(j["parent"], Json::object());
}

TEST(JsonCodecShape, VariantsNameTheirAlternative) {
  EXPECT_EQ(to_json(Event{event::Abort{abort_selector::Task{TaskId{3}}}}),
            parse(R"({"type":"abort","which":{"select":"task","id":"bg_3"}})"));
  EXPECT_EQ(to_json(Event{event::Flush{flush_selector::ScopePurpose{"s", "p"}}}),
            parse(R"({"type":"flush","which":{"select":"scope_purpose","scope":"s","purpose":"p"}})"));
  EXPECT_EQ(to_json(Event{event::Tick{}}), parse(R"({"type":"tick"})"));
  EXPECT_EQ(to_json(Event{event::Shutdown{ShutdownMode::Drain}}), parse(R"({"type":"shutdown","mode":"drain"})"));
  EXPECT_EQ(to_json(Command{command::Cancel{TaskId{2}, 1, CancelReason::TimedOut}}),
            parse(R"({"type":"cancel","id":"bg_2","attempt":1,"reason":"timed_out"})"));
  EXPECT_EQ(to_json(Command{command::Stopped{}}), parse(R"({"type":"stopped"})"));
  EXPECT_EQ(to_json(TimedEvent{Time{5}, event::Tick{}}), parse(R"({"at_us":5,"event":{"type":"tick"}})"));
}

// ---- lenient where people type JSON by hand ----------------------------------------------------

TEST(JsonCodecSpawnBody, MinimalBodyTakesDefaults) {
  const auto spec = task_spec_from_json(parse(R"({"kind":"sleep","owner":"alice","payload":{"ms":5}})"));
  ASSERT_TRUE(spec) << spec.error().message;
  TaskSpec expected;
  expected.kind = "sleep";
  expected.owner = "alice";
  expected.payload = Json{{"ms", 5}};
  EXPECT_EQ(spec.value(), expected);
}

TEST(JsonCodecSpawnBody, NullMeansAbsentAndUnknownFieldsAreIgnored) {
  const auto spec = task_spec_from_json(parse(
      R"({"kind":"k","name":null,"timeout_us":null,"key":null,"quota":null,"payload":null,"owner":null,
          "parent":{"task":null},"color":"blue","retry":{"max_attempts":3,"extra":[1]}})"));
  ASSERT_TRUE(spec) << spec.error().message;
  TaskSpec expected;
  expected.kind = "k";
  expected.retry.max_attempts = 3;
  EXPECT_EQ(spec.value(), expected);
}

TEST(JsonCodecSpawnBody, IntegersAreAcceptedForDoubles) {
  const auto spec = task_spec_from_json(parse(R"({"kind":"k","retry":{"multiplier":3,"jitter":0}})"));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec.value().retry.multiplier, 3.0);
  EXPECT_EQ(spec.value().retry.jitter, 0.0);
}

TEST(JsonCodecSpawnBody, SignedIntegersBuiltInCodeAreAcceptedForUnsignedFields) {
  Json j = {{"kind", "k"}, {"retry", {{"max_attempts", 4}}}};  // an int, not an unsigned, in nlohmann
  ASSERT_TRUE(j["retry"]["max_attempts"].is_number_integer() && !j["retry"]["max_attempts"].is_number_unsigned());
  const auto spec = task_spec_from_json(j);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec.value().retry.max_attempts, 4U);
}

// ---- bad input: a DecodeError that names the field ---------------------------------------------

TEST(JsonCodecErrors, WrongType) {
  expect_error(task_spec_from_json(parse(R"({"kind":"k","owner":5})")), "spec.owner", "expected a string, got 5");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","inbox":"yes"})")), "spec.inbox", "expected a boolean");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","retry":[]})")), "spec.retry", "expected an object, got array");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","retry":{"jitter":"0.5"}})")), "spec.retry.jitter",
               "expected a number");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","timeout_us":1.5})")), "spec.timeout_us",
               "expected an integer");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","retry":{"non_retryable_errors":["a",7]}})")),
               "spec.retry.non_retryable_errors[1]", "expected a string");
  expect_error(task_spec_from_json(parse(R"(["kind","k"])")), "spec", "expected an object");
}

TEST(JsonCodecErrors, UnknownEnumName) {
  expect_error(task_spec_from_json(parse(R"({"kind":"k","priority":"urgent"})")), "spec.priority",
               "unknown priority \"urgent\"");
  Json info = to_json(full_info());
  info["status"] = "done";
  expect_error(task_info_from_json(info), "task.status", "unknown task status \"done\"");
  expect_error(event_from_json(parse(R"({"type":"shutdown","mode":"now"})")), "event.mode", "unknown shutdown mode");
  expect_error(command_from_json(parse(R"({"type":"cancel","id":"bg_1","attempt":1,"reason":"bored"})")),
               "command.reason", "unknown cancel reason");
}

TEST(JsonCodecErrors, BadTaskId) {
  expect_error(event_from_json(parse(R"({"type":"abort","which":{"select":"task","id":"bg_x"}})")),
               "event.which.id", "expected a task id like \"bg_7\", got \"bg_x\"");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","parent":{"task":"bg_01"}})")), "spec.parent.task",
               "task id");
  expect_error(event_from_json(parse(R"({"type":"send","to":7,"from":"a"})")), "event.to", "expected a string");
}

TEST(JsonCodecErrors, NegativeOrTooLargeUnsigned) {
  expect_error(task_spec_from_json(parse(R"({"kind":"k","retry":{"max_attempts":-1}})")), "spec.retry.max_attempts",
               "expected an unsigned integer, got -1");
  expect_error(task_spec_from_json(parse(R"({"kind":"k","quota":{"max_attempts":4294967296}})")),
               "spec.quota.max_attempts", "out of range");
  expect_error(snapshot_from_json(parse(R"({"next_id":-3,"rng_state":0,"tasks":[],"quotas":[]})")),
               "snapshot.next_id", "expected an unsigned integer");
  expect_error(snapshot_from_json(parse(R"({"next_id":18446744073709551616,"rng_state":0,"tasks":[],"quotas":[]})")),
               "snapshot.next_id", "expected an unsigned integer");
  expect_error(event_from_json(parse(R"({"type":"complete","id":"bg_1","attempt":2.0,"outcome":{}})")),
               "event.attempt", "expected an unsigned integer");
}

TEST(JsonCodecErrors, TimeOutsideInt64) {
  expect_error(timed_event_from_json(parse(R"({"at_us":9223372036854775808,"event":{"type":"tick"}})")),
               "timed_event.at_us", "out of range");
}

TEST(JsonCodecErrors, MissingRequiredField) {
  expect_error(task_spec_from_json(parse(R"({"owner":"alice"})")), "spec.kind", "missing");
  expect_error(task_spec_from_json(parse(R"({"kind":null})")), "spec.kind", "missing");
  expect_error(event_from_json(parse(R"({"type":"spawn","spec":{"owner":"alice"}})")), "event.spec.kind", "missing");
  expect_error(event_from_json(parse(R"({"kind":"k"})")), "event.type", "missing");
  expect_error(command_from_json(parse(R"({"type":"notify","owner":"a","status":"failed"})")), "command.id",
               "missing");
  Json snapshot = to_json(full_snapshot());
  snapshot["tasks"][1].erase("due_us");
  expect_error(snapshot_from_json(snapshot), "snapshot.tasks[1].due_us", "missing");
}

TEST(JsonCodecErrors, UnknownType) {
  expect_error(event_from_json(parse(R"({"type":"explode"})")), "event.type", "unknown event type \"explode\"");
  expect_error(command_from_json(parse(R"({"type":"spawn"})")), "command.type", "unknown command type \"spawn\"");
  expect_error(event_from_json(parse(R"({"type":"abort","which":{"select":"everyone"}})")), "event.which.select",
               "unknown abort selector");
  expect_error(event_from_json(parse(R"({"type":"flush","which":{"select":"task"}})")), "event.which.select",
               "unknown flush selector");
  expect_error(event_from_json(parse(R"({"type":3})")), "event.type", "expected a string");
}

TEST(JsonCodecErrors, LongStringsAreCutShortInMessages) {
  const std::string long_name(10'000, 'x');
  const auto spec = task_spec_from_json(Json{{"kind", "k"}, {"priority", long_name}});
  ASSERT_FALSE(spec);
  EXPECT_LT(spec.error().message.size(), 200U) << spec.error().message;
}

TEST(JsonCodecErrors, InvalidUtf8InAStringBuiltInCodeDoesNotThrow) {
  const auto spec = task_spec_from_json(Json{{"kind", "k"}, {"priority", "\xff\xfe"}});
  expect_error(spec, "spec.priority", "unknown priority");
}

TEST(JsonCodecErrors, DeeplyNestedPayloadIsRefused) {
  std::string text = R"({"kind":"k","payload":)";
  text += std::string(100'000, '[') + std::string(100'000, ']') + "}";
  const auto parsed = parse_json(text);
  ASSERT_TRUE(parsed);
  expect_error(task_spec_from_json(parsed.value()), "spec.payload", "nested more than");

  std::string shallow = R"({"kind":"k","payload":)";
  shallow += std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_TRUE(task_spec_from_json(parse(shallow)));
}

// Every member of every encoded value, replaced by each kind of wrong value: the decode never throws,
// and when it fails, the message names that member (or something inside it).
TEST(JsonCodecErrors, EveryFieldReplacedNamesItself) {
  const std::vector<Json> replacements = {nullptr, -1, 4294967296ULL, 1.5, "bg_x", true, Json::array(), Json::object()};
  using Decoder = std::function<std::optional<std::string>(const Json&)>;  // nullopt: decoded
  const auto error_of = [](auto decode) -> Decoder {
    return [decode](const Json& j) -> std::optional<std::string> {
      const auto result = decode(j);
      if (result) return std::nullopt;
      return result.error().message;
    };
  };
  struct Case {
    Json encoded;
    std::string root;
    Decoder decode;
  };
  std::vector<Case> cases = {{to_json(full_info()), "task", error_of(task_info_from_json)},
                             {to_json(full_snapshot()), "snapshot", error_of(snapshot_from_json)}};
  for (const Event& e : every_event()) cases.push_back({to_json(TimedEvent{Time{1}, e}), "timed_event", error_of(timed_event_from_json)});
  for (const Command& c : every_command()) cases.push_back({to_json(c), "command", error_of(command_from_json)});

  std::size_t tried = 0;
  std::size_t refused = 0;
  for (const Case& c : cases) {
    // Walks every member and array item: (JSON pointer, the path the codec prints).
    std::vector<std::pair<Json::json_pointer, std::string>> todo{{Json::json_pointer{}, c.root}};
    while (!todo.empty()) {
      const auto [pointer, path] = todo.back();
      todo.pop_back();
      const Json& here = c.encoded.at(pointer);
      if (here.is_object()) {
        for (const auto& [key, value] : here.items()) todo.emplace_back(pointer / key, path + "." + key);
      } else if (here.is_array()) {
        for (std::size_t i = 0; i < here.size(); ++i) todo.emplace_back(pointer / i, path + "[" + std::to_string(i) + "]");
      }
      if (pointer.empty()) continue;
      for (const Json& replacement : replacements) {
        Json changed = c.encoded;
        changed.at(pointer) = replacement;
        std::optional<std::string> error;
        ASSERT_NO_THROW(error = c.decode(changed)) << path;
        ++tried;
        if (!error) continue;
        ++refused;
        const bool names_path = error->rfind(path, 0) == 0 &&
                                (error->size() > path.size() && std::string(":.[").find((*error)[path.size()]) != std::string::npos);
        EXPECT_TRUE(names_path) << "replaced " << path << " with " << replacement.dump() << ", got: " << *error;
      }
    }
  }
  EXPECT_GT(tried, 1000U);
  EXPECT_GT(refused, tried / 3) << refused << " of " << tried;
}

// ---- parse_json --------------------------------------------------------------------------------

TEST(JsonCodecParse, GarbageFailsCleanly) {
  for (const std::string_view text :
       {"", " ", "{", "nul", "[1,]", "{\"a\":}", "{\"a\":1} trailing", "\xff\xfe", "'single'", "[1 2]", "NaN",
        "{\"a\":1,}", "\"unterminated", "01"}) {
    const auto parsed = parse_json(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_FALSE(parsed.error().message.empty());
  }
  EXPECT_FALSE(parse_json(std::string_view("{\"a\":\0}", 7)));
}

TEST(JsonCodecParse, ValidTextParses) {
  const auto parsed = parse_json(R"( {"kind":"k","n":[1,2.5,null,"x"]} )");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.value(), (Json{{"kind", "k"}, {"n", {1, 2.5, nullptr, "x"}}}));
}

TEST(JsonCodecParse, DecodersRefuseNonObjects) {
  for (const std::string_view text : {"null", "5", "\"spawn\"", "[]", "true"}) {
    const Json j = parse(text);
    EXPECT_FALSE(task_spec_from_json(j)) << text;
    EXPECT_FALSE(task_info_from_json(j)) << text;
    EXPECT_FALSE(snapshot_from_json(j)) << text;
    EXPECT_FALSE(event_from_json(j)) << text;
    EXPECT_FALSE(timed_event_from_json(j)) << text;
    EXPECT_FALSE(command_from_json(j)) << text;
  }
}

}  // namespace
}  // namespace tasklane
