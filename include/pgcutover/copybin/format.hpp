#pragma once
// Constants of the PostgreSQL COPY BINARY format, and the two stream formats
// the engine moves.
//
// Layout (https://www.postgresql.org/docs/current/sql-copy.html, "Binary
// Format"); every integer is big-endian (network byte order):
//
//   header   11-byte signature "PGCOPY\n\377\r\n\0"
//            int32 flags         bit 16 = OIDs included; bits 16-31 are
//                                critical (a reader must abort on an unknown
//                                one), bits 0-15 are backwards-compatible
//                                (a reader must ignore them)
//            int32 extension length, then that many bytes to skip
//   tuple    int16 field count, then per field: int32 length (-1 = NULL,
//            no bytes follow) and that many bytes of value
//   trailer  int16 -1, and nothing after it
#include <bit>
#include <cstring>

#include "pgcutover/util/types.hpp"

namespace pgcutover::copybin {

inline constexpr char SIGNATURE[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
inline constexpr i64 SIGNATURE_SIZE = sizeof(SIGNATURE);
inline constexpr i64 FLAGS_SIZE = 4;
inline constexpr i64 EXTENSION_LENGTH_SIZE = 4;
inline constexpr i64 HEADER_FIXED_SIZE = SIGNATURE_SIZE + FLAGS_SIZE + EXTENSION_LENGTH_SIZE;  // 19

inline constexpr u32 FLAG_WITH_OIDS = u32{1} << 16;
inline constexpr u32 CRITICAL_FLAGS_MASK = 0xffff0000u;

inline constexpr i64 FIELD_COUNT_SIZE = 2;
inline constexpr i64 FIELD_LENGTH_SIZE = 4;
inline constexpr i16 TRAILER_FIELD_COUNT = -1;
inline constexpr i64 TRAILER_SIZE = FIELD_COUNT_SIZE;
inline constexpr i32 NULL_FIELD_LENGTH = -1;

// The server cannot produce a longer value (MaxAllocSize is 1 GiB - 1), so a
// larger length means the stream is corrupt, not that the row is big.
inline constexpr i32 MAX_FIELD_LENGTH = i32{1} << 30;

// Loads a big-endian integer from p, which must hold at least 2 / 4 bytes.
inline i16 load_i16(const char *p) {
  u16 v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  return static_cast<i16>(v);
}
inline i32 load_i32(const char *p) {
  u32 v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return static_cast<i32>(v);
}

// The COPY format a stream is in: FORMAT binary, or FORMAT text (one line per
// tuple; COPY escapes newlines inside values, so '\n' only ends a tuple).
enum class StreamFormat { Binary, Text };

inline const char *to_string(StreamFormat format) {
  switch (format) {
    case StreamFormat::Binary: return "binary";
    case StreamFormat::Text: return "text";
  }
  return "unknown";
}

}  // namespace pgcutover::copybin
