// tasklane::qt::toVariant / toJson: payloads, results and inbox messages cross the Qt facade as
// QVariant without losing integers, nesting, null or non-ASCII text.
#include <gtest/gtest.h>

#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>
#include <QVariant>

#include "tasklane/qt/json_variant.hpp"

namespace tasklane::qt_test {
namespace {

TEST(JsonVariant, RoundTripKeepsTypesAndNesting) {
  const Json value = {{"turn", 3},
                      {"big", std::uint64_t{18446744073709551615u}},
                      {"negative", -7},
                      {"ratio", 0.25},
                      {"ok", true},
                      {"nothing", nullptr},
                      {"text", "café ✓"},
                      {"facts", {"a", 2, Json::array(), Json::object()}}};
  const QVariant v = qt::toVariant(value);
  ASSERT_EQ(v.typeId(), QMetaType::QVariantMap);
  const QVariantMap map = v.toMap();
  EXPECT_EQ(map.value("turn").typeId(), QMetaType::LongLong);
  EXPECT_EQ(map.value("big").toULongLong(), 18446744073709551615u);
  EXPECT_EQ(map.value("text").toString(), QString::fromUtf8("café ✓"));
  EXPECT_FALSE(map.value("nothing").isValid());
  EXPECT_EQ(map.value("facts").toList().size(), 4);
  EXPECT_EQ(qt::toJson(v), value);
}

TEST(JsonVariant, ScalarsAtTheTopLevel) {
  for (const Json& value : {Json(42), Json(-1), Json(1.5), Json("plain"), Json(false), Json(nullptr)}) {
    EXPECT_EQ(qt::toJson(qt::toVariant(value)), value) << value.dump();
  }
}

TEST(JsonVariant, QtContainersAndJsonTypesBecomeJson) {
  EXPECT_EQ(qt::toJson(QVariant(QStringList{"x", "y"})), Json({"x", "y"}));
  EXPECT_EQ(qt::toJson(QVariant(QVariantHash{{"k", 1}})), Json({{"k", 1}}));
  EXPECT_EQ(qt::toJson(QVariant(QJsonObject{{"k", QJsonArray{1, 2.5, "s"}}})), Json({{"k", {1, 2.5, "s"}}}));
  EXPECT_EQ(qt::toJson(QVariant()), Json(nullptr));
  EXPECT_EQ(qt::toJson(QVariant(7u)), Json(7u));
}

}  // namespace
}  // namespace tasklane::qt_test
