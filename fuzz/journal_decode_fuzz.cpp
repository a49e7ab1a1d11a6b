// libFuzzer target: the journal decoder on arbitrary bytes. Decoding never crashes; what it accepts
// is exactly a prefix of the input made of intact, consecutive records (re-encoding them gives the
// same bytes); each accepted payload goes through the record decoder, which must not crash either.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tasklane/drivers/journal_format.hpp"
#include "tasklane/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto scan = tasklane::drivers::scan_journal(bytes);
  std::string again;
  for (std::size_t i = 0; i < scan.frames.size(); ++i) {
    const auto& f = scan.frames[i];
    if (i > 0 && f.seq != scan.frames[i - 1].seq + 1) std::abort();
    if (f.offset != again.size()) std::abort();
    again += tasklane::drivers::encode_journal_record(f.seq, f.payload);
    const auto json = tasklane::parse_json(f.payload);
    if (json) (void)tasklane::task_info_from_json(json.value());
  }
  if (again.size() != scan.valid_bytes || bytes.substr(0, again.size()) != again) std::abort();
  if (scan.damage_at.has_value() != (scan.valid_bytes < size)) std::abort();
  return 0;
}
