// libFuzzer target: the journal decoder on arbitrary bytes. Decoding never crashes; what it accepts
// is exactly a prefix of the input made of intact, consecutive records (re-encoding them gives the
// same bytes); each accepted payload goes through the record body decoder (binary v1 or JSON, by
// its first byte), which must not crash either, and a binary task record it accepts round-trips.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tasklane/drivers/journal_format.hpp"
#include "tasklane/drivers/record_codec.hpp"

namespace {

void check_body(std::string_view payload) {
  using namespace tasklane::drivers;
  const auto record = decode_record_body(payload);
  if (!record) {
    if (record.error().message.empty() || record.error().at > payload.size()) std::abort();
    return;
  }
  const auto* task = std::get_if<tasklane::TaskInfo>(&record.value());
  if (task == nullptr || payload.empty() || payload[0] == body_tag_json) return;
  std::string again;
  append_task_body(again, *task);
  const auto back = decode_record_body(again);
  if (!back || !(std::get<tasklane::TaskInfo>(back.value()) == *task)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto scan = tasklane::drivers::scan_journal(bytes);
  std::string again;
  for (std::size_t i = 0; i < scan.frames.size(); ++i) {
    const auto& f = scan.frames[i];
    if (i > 0 && f.seq != scan.frames[i - 1].seq + 1) std::abort();
    if (f.offset != again.size()) std::abort();
    again += tasklane::drivers::encode_journal_record(f.seq, f.payload);
    check_body(f.payload);
  }
  if (again.size() != scan.valid_bytes || bytes.substr(0, again.size()) != again) std::abort();
  if (scan.damage_at.has_value() != (scan.valid_bytes < size)) std::abort();
  // Bytes that are no journal are still a body to decode: the fuzzer reaches the binary decoder
  // without having to forge a checksum first.
  check_body(bytes);
  return 0;
}
