// The journal's on-disk record format, as pure functions (the fuzz target decodes with them).
//
// A record is a 16-byte header and a payload:
//   u32 payload length | u32 CRC32C of (seq, payload) | u64 sequence number | payload bytes
// all little-endian. The payload's first byte says what it holds (record_codec.hpp): a binary
// task record or id reservation (written since binary records), or JSON (read from older journals). Sequence numbers grow by one per record across the journal's whole life
// (a snapshot remembers the next one), so a record can be neither lost nor replayed twice unseen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tasklane::drivers {

inline constexpr std::size_t journal_header_size = 16;
inline constexpr std::uint32_t journal_max_payload = 64u << 20;

std::string encode_journal_record(std::uint64_t seq, std::string_view payload);
void append_journal_record(std::string& out, std::uint64_t seq, std::string_view payload);

struct JournalFrame {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;   // of the header in the file
  std::string_view payload;   // inside the bytes given to scan_journal: valid while they are
};

struct JournalScan {
  std::vector<JournalFrame> frames;   // the valid, consecutive prefix
  std::uint64_t valid_bytes = 0;      // length of that prefix
  // Set when bytes follow the valid prefix. `torn` means nothing valid follows them (a write cut
  // short by a crash): the tail may be cut off. Otherwise it is damage in the middle.
  std::optional<std::uint64_t> damage_at;
  std::string damage;  // what is wrong at damage_at
  bool torn = false;
};

// Decodes records; the first must carry `first_seq` or any number when first_seq is nullopt.
// The frames' payloads point into `bytes`, which must outlive them.
JournalScan scan_journal(std::string_view bytes, std::optional<std::uint64_t> first_seq = std::nullopt);

}  // namespace tasklane::drivers
