// JSON values (task payloads, results, inbox messages) as QVariant and back, for the Qt facade.
//
//   QVariant v = tasklane::qt::toVariant(tasklane::Json{{"facts", {"a", "b"}}});   // QVariantMap
//   tasklane::Json j = tasklane::qt::toJson(QVariantMap{{"turn", 3}});             // {"turn": 3}
//
// null is an invalid QVariant; integers stay integers (qlonglong / qulonglong), objects are
// QVariantMap, arrays QVariantList. A QVariant JSON cannot hold (a QDateTime, a custom type)
// becomes its string form when it has one, else null.
#pragma once

#include <QVariant>

#include "tasklane/task_spec.hpp"

namespace tasklane::qt {

QVariant toVariant(const Json& value);
Json toJson(const QVariant& value);

}  // namespace tasklane::qt
