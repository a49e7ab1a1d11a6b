// libFuzzer target: snapshot bodies (JSON, or binary v1 when the first byte says so) and restore.
// Any bytes: decoding never crashes. A snapshot that decodes restores into a fresh kernel without
// crashing, its JSON and binary forms round-trip, and restoring the kernel's own snapshot again is
// stable (snapshot -> restore -> snapshot).
#include <cstdlib>
#include <string_view>

#include "tasklane/drivers/record_codec.hpp"
#include "tasklane/json.hpp"
#include "tasklane/kernel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tasklane;
  const auto snapshot = drivers::decode_snapshot_body(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!snapshot) {
    if (snapshot.error().message.empty() || snapshot.error().at > size) std::abort();
    return 0;
  }
  const auto round = snapshot_from_json(to_json(snapshot.value()));
  if (!round || !(round.value() == snapshot.value())) std::abort();
  const auto binary = drivers::decode_snapshot_body(drivers::encode_snapshot_body(snapshot.value()));
  if (!binary || !(binary.value() == snapshot.value())) std::abort();
  Kernel first;
  first.restore(snapshot.value(), Time{1'000'000});
  while (first.poll()) {
  }
  const Snapshot settled = first.snapshot();
  Kernel second;
  second.restore(settled, Time{1'000'000});
  while (second.poll()) {
  }
  // Restore ran every orphan and requeue transition already; a second pass changes nothing unless
  // something runs (a due task started, or a running one would now be orphaned).
  bool settled_runs = false;
  for (const auto& t : settled.tasks) settled_runs |= t.status == TaskStatus::Running;
  if (!settled_runs && second.running() == 0 && !(second.snapshot() == settled)) std::abort();
  return 0;
}
