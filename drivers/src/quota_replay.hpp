// Quota usage (attempts started per quota key, the last start) is durable in snapshots only
// (Kernel::snapshot). A task record written after the snapshot whose attempt count grew started
// those attempts since: count_quota_starts adds them to its key's usage, so that a restart does not
// forget them and an attempt quota ("at most N attempts ever") holds across a crash. Starts of tasks
// that are not durable leave no record and are still forgotten.
//
// A record does not hold the time its attempt started: the last start is taken as the record's due
// time (at or before the start) or, once it ended, its finish (after the start). Used by
// FileJournal's recovery and by the simulation's durable store.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "tasklane/snapshot.hpp"

namespace tasklane::drivers {

// `quotas` is kept in key order (as Kernel::snapshot lists it); `attempts_before` is the task's
// attempt count in the record this one replaces (0 for a task not recorded before).
inline void count_quota_starts(std::vector<QuotaUsage>& quotas, std::uint32_t attempts_before, const TaskInfo& record) {
  if (!record.spec.quota || record.attempt <= attempts_before) return;
  const std::string& key = record.spec.quota->key;
  auto it = std::lower_bound(quotas.begin(), quotas.end(), key,
                             [](const QuotaUsage& q, const std::string& k) { return q.key < k; });
  if (it == quotas.end() || it->key != key) it = quotas.insert(it, QuotaUsage{key, 0, std::nullopt});
  it->attempts += record.attempt - attempts_before;
  const Time started = record.finished_at ? std::max(record.due, *record.finished_at) : record.due;
  if (!it->last_start || *it->last_start < started) it->last_start = started;
}

}  // namespace tasklane::drivers
