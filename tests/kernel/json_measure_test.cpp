// json_size and the depth measure: the payload limit's two measures. json_size counts the bytes of the
// compact dump without building it, so it must agree with dump() on every kind of value: escapes,
// control characters, invalid UTF-8 (replaced), floats, big numbers, nesting.
#include "../../core/src/json_measure.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace tasklane {
namespace {

std::size_t dumped(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace).size(); }

std::vector<Json> corpus() {
  std::vector<Json> values = {
      Json(),
      Json(true),
      Json(false),
      Json(0),
      Json(-1),
      Json(std::numeric_limits<std::int64_t>::min()),
      Json(std::numeric_limits<std::uint64_t>::max()),
      Json(0.1),
      Json(-1.5e300),
      Json(3.0),
      Json(std::numeric_limits<double>::quiet_NaN()),
      Json(std::numeric_limits<double>::infinity()),
      Json(""),
      Json("plain text"),
      Json("quote \" backslash \\ slash / tab \t newline \n bell \x07 nul-free"),
      Json("back\\slash"),  // each escape alone: a count that skipped one would still match a mix
      Json("say \"hi\""),
      Json("tab\there"),
      Json("\x1f"),
      Json("\x7f"),  // DEL: printed as it is
      Json(std::string("\x01\x1f\x7f", 3)),
      Json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),        // valid UTF-8, 2 to 4 bytes
      Json(std::string("bad \xff\xfe end")),                    // invalid bytes: replaced
      Json(std::string("cut \xe2\x82")),                        // a sequence cut short at the end
      Json(std::string("\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80")),  // bad continuation, surrogate, > U+10FFFF
      Json::array(),
      Json::object(),
      Json{{"turn", 3}, {"session", "s-1"}, {"tags", {"a", "b"}}},
      Json{{"nested", {{"deeper", {{"deepest", Json::array({1, 2.5, nullptr, "x"})}}}}}},
      Json::binary({1, 2, 3}),
      Json(-0.0),
      Json(Json::value_t::discarded),
      Json{{"key \"quoted\"", 1}, {"caf\xc3\xa9", 2}, {std::string("bad \xff key"), 3}},  // keys escaped, UTF-8, replaced
  };
  std::string long_text(5000, 'x');  // longer than the serializer's buffer
  long_text.push_back('\n');
  values.emplace_back(long_text);
  return values;
}

TEST(JsonMeasure, SizeAgreesWithTheCompactDumpForEveryKindOfValue) {
  for (const Json& v : corpus()) {
    EXPECT_EQ(detail::json_size(v), dumped(v)) << dumped(v) << " bytes: " << v.dump(-1, ' ', false, Json::error_handler_t::replace);
    const Json wrapped{{"k", v}, {"list", Json::array({v, v})}};
    EXPECT_EQ(detail::json_size(wrapped), dumped(wrapped));
  }
}

std::size_t depth(const Json& v) { return detail::json_measure::measure(v).depth; }

Json nested(std::size_t levels) {
  Json v = 1;
  for (std::size_t i = 1; i < levels; ++i) v = (i % 2) ? Json::array({std::move(v)}) : Json{{"k", std::move(v)}};
  return v;
}

TEST(JsonMeasure, SizeOfAValueDeeperThanTheLimitIsTheSerializers) {
  const Json deep = nested(detail::max_payload_depth + 40);
  EXPECT_EQ(detail::json_size(deep), dumped(deep));
}

TEST(JsonMeasure, DepthCountsLevels) {
  EXPECT_EQ(depth(Json()), 1u);
  EXPECT_EQ(depth(Json::array()), 1u);
  EXPECT_EQ(depth(Json::array({1})), 2u);
  EXPECT_EQ(depth(Json{{"a", 1}, {"b", Json::array({Json::array({})})}}), 3u);
  EXPECT_EQ(depth(nested(detail::max_payload_depth)), detail::max_payload_depth);
}

TEST(JsonMeasure, DepthStopsPastTheLimitWithoutWalkingTheRest) {
  // Far deeper than a recursive walk could go on a thread's stack: the count stops past the limit.
  const Json deep = nested(200000);
  EXPECT_GT(depth(deep), detail::max_payload_depth);
  EXPECT_EQ(depth(nested(detail::max_payload_depth + 1)), detail::max_payload_depth + 1);
}

}  // namespace
}  // namespace tasklane
