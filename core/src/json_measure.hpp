// The payload limit's two measures of a JSON value (measure()): its nesting depth and the bytes
// of its compact dump. They run on every spawn with a payload and every send: dumping a small
// payload to a string, then walking it again for its depth with a stack of its own, was over a
// quarter of a spawn -> start -> complete cycle. One walk now answers both without building the
// dump: nulls, booleans, integers, containers and strings of printable ASCII are counted; what has
// escapes, UTF-8 (valid or not) or a float to format is measured by nlohmann's own serializer
// writing into a counter, so the count is the dump's, byte for byte.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tasklane/task_spec.hpp"

namespace tasklane::detail {

inline constexpr std::size_t max_payload_depth = 256;  // the JSON codec refuses deeper values on restore

namespace json_measure {

// An output for nlohmann's serializer that keeps only the count.
struct ByteCounter final : nlohmann::detail::output_adapter_protocol<char> {
  void write_character(char) override { ++bytes; }
  void write_characters(const char*, std::size_t length) override { bytes += length; }
  std::size_t bytes = 0;
};

// The compact dump's size, by the serializer itself (it allocates its indent buffer, and recurses
// once per level: for leaves, or a value whose depth is known to be within the limit).
inline std::size_t serialized_size(const Json& value) {
  ByteCounter counter;
  // An aliasing shared_ptr with no owner: the serializer wants a shared_ptr, the counter lives here.
  const nlohmann::detail::output_adapter_t<char> out(std::shared_ptr<void>(), &counter);
  nlohmann::detail::serializer<Json> serializer(out, ' ', Json::error_handler_t::replace);
  serializer.dump(value, false, false, 0);
  return counter.bytes;
}

inline std::size_t decimal_digits(std::uint64_t x) {
  std::size_t n = 1;
  while (x >= 10) {
    x /= 10;
    ++n;
  }
  return n;
}

// A string dumps as itself in quotes when every byte is printable ASCII other than `"` and `\`.
inline bool dumps_verbatim(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
}

inline std::size_t string_size(const std::string& s) {
  return dumps_verbatim(s) ? s.size() + 2 : serialized_size(Json(s));
}

struct Measure {
  std::size_t depth = 0;  // nesting depth (a scalar or an empty container is 1); past the limit, where the walk stopped
  std::size_t bytes = 0;  // the compact dump's size, when depth is within the limit
};

// Adds `value`, at level `level`, to `m`. Recurses at most max_payload_depth + 1 deep, whatever the
// value's depth: a hostile payload cannot exhaust the stack.
inline void walk(const Json& value, std::size_t level, Measure& m) {
  m.depth = std::max(m.depth, level);
  if (level > max_payload_depth) return;
  switch (value.type()) {
    case Json::value_t::null:
      m.bytes += 4;
      return;
    case Json::value_t::boolean:
      m.bytes += value.get<bool>() ? 4 : 5;
      return;
    case Json::value_t::number_unsigned:
      m.bytes += decimal_digits(value.get<std::uint64_t>());
      return;
    case Json::value_t::number_integer: {
      const auto n = value.get<std::int64_t>();
      m.bytes += n < 0 ? 1 + decimal_digits(std::uint64_t{0} - static_cast<std::uint64_t>(n))
                       : decimal_digits(static_cast<std::uint64_t>(n));
      return;
    }
    case Json::value_t::string:
      m.bytes += string_size(value.get_ref<const Json::string_t&>());
      return;
    case Json::value_t::array: {
      m.bytes += value.empty() ? 2 : 1 + value.size();  // brackets and commas
      for (const Json& child : value.get_ref<const Json::array_t&>()) {
        walk(child, level + 1, m);
        if (m.depth > max_payload_depth) return;
      }
      return;
    }
    case Json::value_t::object: {
      m.bytes += value.empty() ? 2 : 1 + 2 * value.size();  // braces, colons and commas
      for (const auto& [key, child] : value.get_ref<const Json::object_t&>()) {
        m.bytes += string_size(key);
        walk(child, level + 1, m);
        if (m.depth > max_payload_depth) return;
      }
      return;
    }
    default:  // floats, binary, discarded
      m.bytes += serialized_size(value);
      return;
  }
}

inline Measure measure(const Json& value) {
  Measure m;
  walk(value, 1, m);
  return m;
}

}  // namespace json_measure

// The size of a JSON value as the payload limit counts it: the compact dump in UTF-8, bad UTF-8
// replaced, exactly what dump(-1, ' ', false, replace).size() answers. For a value deeper than
// max_payload_depth it is the serializer's count, which recurses once per level: the kernel only
// measures values whose depth was checked (sends) or that the codec took (restored records).
inline std::size_t json_size(const Json& value) {
  const auto m = json_measure::measure(value);
  return m.depth > max_payload_depth ? json_measure::serialized_size(value) : m.bytes;
}

}  // namespace tasklane::detail
