#pragma once
// Short integer names used everywhere: every row count, byte count and offset is i64.
#include <cstddef>
#include <cstdint>

namespace pgcutover {
using i8 = std::int8_t;
using i16 = std::int16_t;
using i32 = std::int32_t;
using i64 = std::int64_t;
using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
}  // namespace pgcutover
