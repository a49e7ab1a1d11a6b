#include "tasklane/drivers/journal_format.hpp"

#include "tasklane/drivers/crc32c.hpp"

namespace tasklane::drivers {
namespace {

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return value;
}

std::uint32_t record_crc(std::uint64_t seq, std::string_view payload) {
  char seq_bytes[8];
  for (int i = 0; i < 8; ++i) seq_bytes[i] = static_cast<char>((seq >> (8 * i)) & 0xFF);
  return crc32c(payload, crc32c(std::string_view(seq_bytes, sizeof seq_bytes)));
}

struct SeqWindow {
  std::uint64_t low = 0;
  std::uint64_t high = UINT64_MAX;
};

// A record that checks out at `at` with a sequence number inside `window` (checked before the
// checksum, so that probing garbage stays cheap).
std::optional<JournalFrame> read_frame(std::string_view bytes, std::size_t at, std::string* why, SeqWindow window = {}) {
  if (bytes.size() - at < journal_header_size) {
    if (why) *why = "record header cut short";
    return std::nullopt;
  }
  const auto length = get_le(bytes, at, 4);
  const auto crc = static_cast<std::uint32_t>(get_le(bytes, at + 4, 4));
  const auto seq = get_le(bytes, at + 8, 8);
  if (length > journal_max_payload) {
    if (why) *why = "record length " + std::to_string(length) + " is over the limit";
    return std::nullopt;
  }
  if (seq < window.low || seq > window.high) {
    if (why) *why = "sequence number out of range";
    return std::nullopt;
  }
  if (bytes.size() - at - journal_header_size < length) {
    if (why) *why = "record payload cut short";
    return std::nullopt;
  }
  const auto payload = bytes.substr(at + journal_header_size, length);
  if (record_crc(seq, payload) != crc) {
    if (why) *why = "checksum mismatch";
    return std::nullopt;
  }
  return JournalFrame{seq, at, payload};
}

}  // namespace

void append_journal_record(std::string& out, std::uint64_t seq, std::string_view payload) {
  out.reserve(out.size() + journal_header_size + payload.size());
  put_le(out, payload.size(), 4);
  put_le(out, record_crc(seq, payload), 4);
  put_le(out, seq, 8);
  out.append(payload);
}

std::string encode_journal_record(std::uint64_t seq, std::string_view payload) {
  std::string out;
  append_journal_record(out, seq, payload);
  return out;
}

JournalScan scan_journal(std::string_view bytes, std::optional<std::uint64_t> first_seq) {
  JournalScan scan;
  std::size_t at = 0;
  std::optional<std::uint64_t> expected = first_seq;
  while (at < bytes.size()) {
    std::string why;
    auto frame = read_frame(bytes, at, &why);
    const std::uint64_t seq = frame ? frame->seq : 0;
    if (frame && expected && seq != *expected) {
      why = "sequence number " + std::to_string(seq) + " where " + std::to_string(*expected) + " was expected";
    } else if (frame) {
      expected = seq + 1;
      at += journal_header_size + frame->payload.size();
      scan.frames.push_back(std::move(*frame));
      continue;
    }
    scan.damage_at = at;
    scan.damage = why;
    break;
  }
  scan.valid_bytes = at;
  if (!scan.damage_at) return scan;
  // Torn only when no intact record follows anywhere: a crash cuts the end of the last write, while
  // damage in the middle leaves later records intact (even when a damaged length hides them).
  scan.torn = true;
  SeqWindow window;
  if (expected) window = SeqWindow{*expected, *expected + bytes.size() / journal_header_size + 1};
  for (std::size_t probe = at + 1; probe + journal_header_size <= bytes.size(); ++probe) {
    if (read_frame(bytes, probe, nullptr, window)) {
      scan.torn = false;
      break;
    }
  }
  return scan;
}

}  // namespace tasklane::drivers
