// ByteWriter and ByteReader: the primitives of the binary bodies (record_codec.hpp describes them).
// The reader checks every length against the bytes left; its first error wins and stops it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "tasklane/task_spec.hpp"

namespace tasklane::drivers::bytes {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(std::uint64_t v) {
    char buf[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.append(buf, n);
  }
  void zigzag(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void time(Duration d) { zigzag(d.count()); }
  void f64(double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void json(const Json& j) {
    const auto packed = Json::to_msgpack(j);
    varint(packed.size());
    out_.append(reinterpret_cast<const char*>(packed.data()), packed.size());
  }
  std::string& out() { return out_; }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  ByteReader(std::string_view in, std::string* error, std::uint64_t base = 0) : in_(in), error_(error), base_(base) {}

  bool failed() const { return !error_->empty(); }
  std::size_t at() const { return at_; }
  std::size_t left() const { return in_.size() - at_; }
  std::uint64_t error_at() const { return error_at_; }

  // Records the first error, at the current byte, and stops the reader.
  void fail(const std::string& what) {
    if (failed()) return;
    *error_ = what;
    error_at_ = base_ + at_;
    at_ = in_.size();
  }

  std::uint8_t u8(const char* what) {
    if (left() < 1) {
      fail(std::string(what) + ": cut short");
      return 0;
    }
    return static_cast<std::uint8_t>(in_[at_++]);
  }
  bool flag(const char* what) {
    const auto v = u8(what);
    if (v > 1) fail(std::string(what) + ": " + std::to_string(v) + " is not a boolean (0 or 1)");
    return v == 1;
  }
  std::uint64_t varint(const char* what) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (left() < 1) {
        fail(std::string(what) + ": cut short");
        return 0;
      }
      const auto byte = static_cast<std::uint8_t>(in_[at_++]);
      if (shift == 63 && byte > 1) {
        fail(std::string(what) + ": varint overflows 64 bits");
        return 0;
      }
      v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    fail(std::string(what) + ": varint longer than 10 bytes");
    return 0;
  }
  std::uint32_t u32(const char* what) {
    const auto v = varint(what);
    constexpr auto max = std::numeric_limits<std::uint32_t>::max();
    if (v > max) fail(std::string(what) + ": " + std::to_string(v) + " is out of range (at most " + std::to_string(max) + ")");
    return static_cast<std::uint32_t>(v);
  }
  std::int64_t zigzag(const char* what) {
    const auto v = varint(what);
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
  Duration time(const char* what) { return Duration{zigzag(what)}; }
  double f64(const char* what) {
    if (left() < 8) {
      fail(std::string(what) + ": cut short");
      return 0;
    }
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[at_ + i])) << (8 * i);
    at_ += 8;
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) fail(std::string(what) + ": not a finite number");
    return v;
  }
  // A length, or a count of items that take at least one byte each: never more than the bytes left.
  std::size_t length(const char* what) {
    const auto n = varint(what);
    if (!failed() && n > left()) {
      fail(std::string(what) + ": length " + std::to_string(n) + " runs past the end (" + std::to_string(left()) +
           " bytes left)");
      return 0;
    }
    return static_cast<std::size_t>(n);
  }
  std::string_view view(const char* what) {
    const auto n = length(what);
    const auto v = in_.substr(at_, n);
    at_ += n;
    return v;
  }
  std::string str(const char* what) { return std::string(view(what)); }

  // The body must end here.
  void end() {
    if (!failed() && left() != 0) fail(std::to_string(left()) + " trailing bytes after the last field");
  }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
  std::string* error_;
  std::uint64_t base_ = 0;  // added to positions in errors: where `in_` starts in the whole body
  std::uint64_t error_at_ = 0;
};

}  // namespace tasklane::drivers::bytes
