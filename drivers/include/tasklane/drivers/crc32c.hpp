// CRC32C (Castagnoli), the checksum of every journal record. Check value: "123456789" -> 0xE3069283.
//
// crc32c() uses the SSE4.2 crc32 instruction when the CPU has it (checked once, at run time) and
// slicing-by-8 tables otherwise; both give the same value. The two paths are named below so that
// tests can check each against known vectors.
#pragma once

#include <cstdint>
#include <string_view>

namespace tasklane::drivers {

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

// The table path, on any CPU.
std::uint32_t crc32c_portable(std::string_view bytes, std::uint32_t crc = 0);
// True when crc32c_hardware() may be called (an x86-64 CPU with SSE4.2).
bool crc32c_hardware_available();
// The SSE4.2 path; call only when crc32c_hardware_available(). Elsewhere it is the table path.
std::uint32_t crc32c_hardware(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace tasklane::drivers
