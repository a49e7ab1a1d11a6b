// libFuzzer target: snapshot and restore from JSON. Any bytes: parsing and decoding never crash.
// A snapshot that decodes restores into a fresh kernel without crashing, its JSON form round-trips,
// and restoring the kernel's own snapshot again is stable (snapshot -> restore -> snapshot).
#include <cstdlib>
#include <string_view>

#include "tasklane/json.hpp"
#include "tasklane/kernel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tasklane;
  const auto json = parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!json) return 0;
  const auto snapshot = snapshot_from_json(json.value());
  if (!snapshot) return 0;
  const auto round = snapshot_from_json(to_json(snapshot.value()));
  if (!round || !(round.value() == snapshot.value())) std::abort();
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
