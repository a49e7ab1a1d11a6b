// CRC32C: both paths (SSE4.2 instruction and slicing-by-8 tables) against published vectors, and
// against each other at every length, alignment and chaining split around the 8-byte steps.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tasklane/drivers/crc32c.hpp"

namespace tasklane::drivers {
namespace {

struct Vector {
  std::string bytes;
  std::uint32_t crc;
};

std::string from(std::vector<int> values) {
  std::string s;
  for (const int v : values) s.push_back(static_cast<char>(v));
  return s;
}

// RFC 3720 (iSCSI), appendix B.4, and the usual check value.
std::vector<Vector> known_vectors() {
  std::vector<int> ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(i);
    descending.push_back(31 - i);
  }
  return {
      {"", 0x00000000u},
      {"123456789", 0xE3069283u},
      {std::string(32, '\0'), 0x8A9136AAu},
      {std::string(32, '\xFF'), 0x62A8AB43u},
      {from(ascending), 0x46DD794Eu},
      {from(descending), 0x113FDB5Cu},
  };
}

// The byte-at-a-time definition, as the reference both fast paths must match.
std::uint32_t reference(const std::string& bytes, std::uint32_t crc = 0) {
  crc = ~crc;
  for (const unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

TEST(Crc32c, MatchesTheCastagnoliCheckValue) { EXPECT_EQ(crc32c("123456789"), 0xE3069283u); }

TEST(Crc32c, PortablePathMatchesPublishedVectors) {
  for (const auto& v : known_vectors()) EXPECT_EQ(crc32c_portable(v.bytes), v.crc) << v.bytes.size() << " bytes";
}

TEST(Crc32c, HardwarePathMatchesPublishedVectors) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  for (const auto& v : known_vectors()) EXPECT_EQ(crc32c_hardware(v.bytes), v.crc) << v.bytes.size() << " bytes";
}

TEST(Crc32c, EveryPathAgreesAtEveryLengthOffsetAndSplit) {
  std::mt19937 rng(6);
  std::string buffer(300, '\0');
  for (auto& c : buffer) c = static_cast<char>(rng());
  int checked = 0;
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t length = 0; offset + length <= 80; ++length) {
      const std::string bytes = buffer.substr(offset, length);
      const std::uint32_t expected = reference(bytes);
      ASSERT_EQ(crc32c_portable(std::string_view(buffer).substr(offset, length)), expected) << offset << "+" << length;
      ASSERT_EQ(crc32c(std::string_view(buffer).substr(offset, length)), expected) << offset << "+" << length;
      if (crc32c_hardware_available()) {
        ASSERT_EQ(crc32c_hardware(std::string_view(buffer).substr(offset, length)), expected) << offset << "+" << length;
      }
      for (std::size_t split = 0; split <= length; split += 3) {  // crc(a + b) == crc(b, crc(a))
        const std::string_view a = std::string_view(bytes).substr(0, split), b = std::string_view(bytes).substr(split);
        ASSERT_EQ(crc32c_portable(b, crc32c_portable(a)), expected);
        ASSERT_EQ(crc32c(b, crc32c(a)), expected);
      }
      ++checked;
    }
  }
  EXPECT_EQ(reference(buffer, reference("seed")), crc32c(buffer, crc32c("seed")));
  EXPECT_GT(checked, 500);
}

}  // namespace
}  // namespace tasklane::drivers
