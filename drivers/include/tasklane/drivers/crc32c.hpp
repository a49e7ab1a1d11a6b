// CRC32C (Castagnoli), the checksum of every journal record. Check value: "123456789" -> 0xE3069283.
#pragma once

#include <cstdint>
#include <string_view>

namespace tasklane::drivers {

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace tasklane::drivers
