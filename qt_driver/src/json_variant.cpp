// JSON <-> QVariant, walking the values directly: QJsonDocument cannot hold a bare scalar and
// would turn every integer into a double.
#include "tasklane/qt/json_variant.hpp"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QStringList>
#include <QVariantHash>
#include <QVariantList>
#include <QVariantMap>

namespace tasklane::qt {
namespace {

Json from_json_value(const QJsonValue& value) {
  switch (value.type()) {
    case QJsonValue::Bool:
      return value.toBool();
    case QJsonValue::Double: {
      const double d = value.toDouble();
      const qint64 i = value.toInteger();
      if (static_cast<double>(i) == d) return i;
      return d;
    }
    case QJsonValue::String:
      return value.toString().toStdString();
    case QJsonValue::Array: {
      Json out = Json::array();
      for (const QJsonValue& item : value.toArray()) out.push_back(from_json_value(item));
      return out;
    }
    case QJsonValue::Object: {
      Json out = Json::object();
      const QJsonObject object = value.toObject();
      for (auto it = object.begin(); it != object.end(); ++it) out[it.key().toStdString()] = from_json_value(it.value());
      return out;
    }
    case QJsonValue::Null:
    case QJsonValue::Undefined:
      break;
  }
  return nullptr;
}

}  // namespace

QVariant toVariant(const Json& value) {
  switch (value.type()) {
    case Json::value_t::boolean:
      return value.get<bool>();
    case Json::value_t::number_integer:
      return QVariant::fromValue(static_cast<qlonglong>(value.get<std::int64_t>()));
    case Json::value_t::number_unsigned:
      return QVariant::fromValue(static_cast<qulonglong>(value.get<std::uint64_t>()));
    case Json::value_t::number_float:
      return value.get<double>();
    case Json::value_t::string:
      return QString::fromStdString(value.get_ref<const std::string&>());
    case Json::value_t::array: {
      QVariantList out;
      out.reserve(static_cast<qsizetype>(value.size()));
      for (const Json& item : value) out.push_back(toVariant(item));
      return out;
    }
    case Json::value_t::object: {
      QVariantMap out;
      for (auto it = value.begin(); it != value.end(); ++it) out.insert(QString::fromStdString(it.key()), toVariant(it.value()));
      return out;
    }
    case Json::value_t::binary: {
      const auto& bytes = value.get_binary();
      return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
    }
    case Json::value_t::null:
    case Json::value_t::discarded:
      break;
  }
  return {};
}

Json toJson(const QVariant& value) {
  if (!value.isValid() || value.isNull()) return nullptr;
  switch (value.typeId()) {
    case QMetaType::Bool:
      return value.toBool();
    case QMetaType::Int:
    case QMetaType::Short:
    case QMetaType::Long:
    case QMetaType::LongLong:
    case QMetaType::SChar:
      return static_cast<std::int64_t>(value.toLongLong());
    case QMetaType::UInt:
    case QMetaType::UShort:
    case QMetaType::ULong:
    case QMetaType::ULongLong:
    case QMetaType::UChar:
      return static_cast<std::uint64_t>(value.toULongLong());
    case QMetaType::Double:
    case QMetaType::Float:
      return value.toDouble();
    case QMetaType::QString:
      return value.toString().toStdString();
    case QMetaType::QByteArray:
      return value.toByteArray().toStdString();
    case QMetaType::QStringList:
    case QMetaType::QVariantList: {
      Json out = Json::array();
      for (const QVariant& item : value.toList()) out.push_back(toJson(item));
      return out;
    }
    case QMetaType::QVariantMap: {
      Json out = Json::object();
      const QVariantMap map = value.toMap();
      for (auto it = map.begin(); it != map.end(); ++it) out[it.key().toStdString()] = toJson(it.value());
      return out;
    }
    case QMetaType::QVariantHash: {
      Json out = Json::object();
      const QVariantHash hash = value.toHash();
      for (auto it = hash.begin(); it != hash.end(); ++it) out[it.key().toStdString()] = toJson(it.value());
      return out;
    }
    case QMetaType::QJsonValue:
      return from_json_value(value.toJsonValue());
    case QMetaType::QJsonObject:
      return from_json_value(QJsonValue(value.toJsonObject()));
    case QMetaType::QJsonArray:
      return from_json_value(QJsonValue(value.toJsonArray()));
    case QMetaType::QJsonDocument: {
      const QJsonDocument document = value.toJsonDocument();
      return from_json_value(document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object()));
    }
    default:
      break;
  }
  if (value.canConvert<QString>()) return value.toString().toStdString();
  return nullptr;
}

}  // namespace tasklane::qt
