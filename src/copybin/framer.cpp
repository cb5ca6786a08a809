// The COPY stream framer.
//
// A COPY BINARY stream (https://www.postgresql.org/docs/current/sql-copy.html,
// "Binary Format") is, with every integer big-endian:
//
//   "PGCOPY\n\377\r\n\0"  int32 flags  int32 ext_len  <ext_len bytes>     header
//   int16 n  { int32 len  <len bytes, none if len == -1> } x n            tuple
//   ...
//   int16 -1                                                              trailer
//
// The bytes arrive as libpq hands them out or as spill reads them back, so a
// chunk boundary can fall anywhere: inside the signature, between the two
// bytes of a field count, inside a field length or in the middle of a 1 GiB
// value. The framer therefore never assumes that a unit is whole. It is a
// state machine whose only memory is a few counters: how far into the header
// it is, up to 4 bytes of a partially read integer (gathered into `acc`), how
// many fields of the current tuple are left and how many body bytes remain
// to skip. It never copies or buffers the input, so a chunk's caller can
// forward or spill the bytes as they are and cut at `boundary` when it needs
// whole tuples.
//
// Speed: the common case is a chunk holding many whole tuples. skip_tuples()
// walks those with plain loads: per field, one length read, one range check
// and a pointer jump over the value, whose bytes are never read. It stops at
// the first tuple that is not wholly inside the chunk, or that looks wrong,
// and the byte-at-a-time state machine takes over for that one tuple (and
// produces the error message, with the exact offset, when it is wrong).
//
// Rules, each refused with Error(DataFormat) naming the byte offset:
//  - the signature must match exactly;
//  - flags: bit 16 (WITH OIDS) is refused, since no supported server writes
//    it and we would miscount fields; any other bit in 16-31 is a critical
//    flag we do not know, refused as the documentation says. Bits 0-15 are
//    backwards-compatible and ignored, also as the documentation says (the
//    server's reader, ReceiveCopyBinaryHeader, does the same);
//  - the header extension length must not be negative; its bytes are skipped;
//  - a field count of -1 is the trailer and nothing may follow it; any other
//    count must be >= 0 and equal for every tuple (and equal the caller's
//    expected count, when given);
//  - a field length must be -1 (NULL) or 0..1 GiB.
//
// Text format: COPY escapes newlines inside values, so a tuple is exactly one
// line ending in '\n'. There is no header or trailer; the only structural
// check is that the stream ends with '\n'.
#include "pgcutover/copybin/framer.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pgcutover/util/error.hpp"

namespace pgcutover::copybin {

namespace {

// A value no int16 field count can take: "tuple_fields not known yet".
constexpr int NO_FIELDS = -100000;

i64 count_newlines(const char *p, const char *end) {
  i64 n = 0;
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  while (end - p >= 16) {
    // Per-byte-lane counters, summed before any lane can pass 255.
    __m128i lanes = zero;
    for (int i = 0; i < 255 && end - p >= 16; ++i, p += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, newline));
    }
    __m128i sums = _mm_sad_epu8(lanes, zero);
    n += _mm_cvtsi128_si32(sums) + _mm_extract_epi16(sums, 4);
  }
#endif
  for (; p < end; ++p) n += *p == '\n';
  return n;
}

}  // namespace

Framer::Framer(StreamFormat format, int expected_fields)
    : stream_format(format),
      expected_fields(expected_fields),
      tuple_fields(expected_fields == -1 ? NO_FIELDS : expected_fields),
      state(State::Header) {
  if (expected_fields < -1 || expected_fields > 32767)
    throw_internal(fmt::format("Framer: expected_fields {} is outside -1..32767", expected_fields));
}

FeedResult Framer::feed(std::span<const char> input) {
  if (state == State::Failed) throw_internal("Framer::feed called after the stream was refused");
  if (input.empty()) return {};
  const char *begin = input.data();
  const char *end = begin + input.size();
  FeedResult result =
      stream_format == StreamFormat::Binary ? feed_binary(begin, end) : feed_text(begin, end);
  byte_count += static_cast<i64>(input.size());
  return result;
}

FeedResult Framer::feed_text(const char *begin, const char *end) {
  FeedResult result;
  result.tuples = count_newlines(begin, end);
  if (result.tuples > 0) {
    const void *last = memrchr(begin, '\n', static_cast<std::size_t>(end - begin));
    result.boundary = static_cast<const char *>(last) - begin + 1;
  }
  tuple_count += result.tuples;
  line_open = end[-1] != '\n';
  return result;
}

// Skips every whole tuple from p on whose field count is the known one and
// whose field lengths are valid. Returns where it stopped: at end, or at the
// start of a tuple that the state machine must handle.
const char *Framer::skip_tuples(const char *p, const char *const end) {
  const int fields = tuple_fields;
  i64 n = 0;
  while (end - p >= FIELD_COUNT_SIZE && load_i16(p) == fields) {
    const char *q = p + FIELD_COUNT_SIZE;
    int left = fields;
    for (; left > 0; --left) {
      if (end - q < FIELD_LENGTH_SIZE) break;
      i32 len = load_i32(q);
      // One compare refuses both len < -1 and len > MAX_FIELD_LENGTH.
      if (static_cast<u32>(len) + 1 > static_cast<u32>(MAX_FIELD_LENGTH) + 1) break;
      q += FIELD_LENGTH_SIZE;
      i64 body = len < 0 ? 0 : len;
      if (end - q < body) break;
      q += body;
    }
    if (left > 0) break;
    p = q;
    ++n;
  }
  tuple_count += n;
  return p;
}

// Appends bytes of a big-endian integer of `width` bytes to acc. True when it
// is complete; the caller then takes acc and resets acc and acc_len.
bool Framer::gather(const char *&p, const char *end, int width) {
  while (acc_len < width && p < end) {
    acc = (acc << 8) | static_cast<u8>(*p++);
    ++acc_len;
  }
  return acc_len == width;
}

FeedResult Framer::feed_binary(const char *const begin, const char *const end) {
  const char *p = begin;
  const char *last = nullptr;  // end of the last unit that ended in this input
  const i64 tuples_before = tuple_count;
  auto offset_of = [&](const char *q) { return byte_count + (q - begin); };

  while (p < end) {
    switch (state) {
      case State::Header: {
        while (p < end && header_pos < HEADER_FIXED_SIZE) {
          u8 c = static_cast<u8>(*p);
          if (header_pos < SIGNATURE_SIZE) {
            if (c != static_cast<u8>(SIGNATURE[header_pos]))
              fail(fmt::format("signature mismatch at byte offset {}: expected 0x{:02x}, found 0x{:02x}"
                               " (not a COPY BINARY stream)",
                               offset_of(p), static_cast<u8>(SIGNATURE[header_pos]), c));
          } else {
            acc = (acc << 8) | c;
          }
          ++p;
          ++header_pos;
          if (header_pos == SIGNATURE_SIZE + FLAGS_SIZE) {
            if (acc & FLAG_WITH_OIDS)
              fail(fmt::format("flags field at byte offset {} has bit 16 set (rows WITH OIDS), "
                               "which is not supported",
                               SIGNATURE_SIZE));
            if (acc & CRITICAL_FLAGS_MASK)
              fail(fmt::format("flags field at byte offset {} has unknown critical flag bits 0x{:08x}",
                               SIGNATURE_SIZE, acc & CRITICAL_FLAGS_MASK));
            acc = 0;
          }
        }
        if (header_pos < HEADER_FIXED_SIZE) break;
        i32 ext = static_cast<i32>(acc);
        acc = 0;
        if (ext < 0)
          fail(fmt::format("header extension length {} at byte offset {} is negative", ext,
                           SIGNATURE_SIZE + FLAGS_SIZE));
        skip = ext;
        state = State::HeaderExtension;
        if (ext == 0) {
          state = State::FieldCount;
          last = p;
        }
        break;
      }

      case State::HeaderExtension: {
        i64 n = std::min<i64>(skip, end - p);
        p += n;
        skip -= n;
        if (skip == 0) {
          state = State::FieldCount;
          last = p;
        }
        break;
      }

      case State::FieldCount: {
        if (acc_len == 0) {
          const char *q = skip_tuples(p, end);
          if (q != p) {
            p = q;
            last = q;
            if (p == end) break;
          }
        }
        i64 at = offset_of(p) - acc_len;
        if (!gather(p, end, FIELD_COUNT_SIZE)) break;
        int count = static_cast<i16>(acc);
        acc = 0;
        acc_len = 0;
        if (count != tuple_fields) check_field_count(at, count);
        if (state == State::Done) {
          last = p;
        } else if (count == 0) {
          ++tuple_count;
          last = p;
        } else {
          fields_left = count;
          state = State::FieldLength;
        }
        break;
      }

      case State::FieldLength: {
        i64 at = offset_of(p) - acc_len;
        i32 len;
        if (acc_len == 0 && end - p >= FIELD_LENGTH_SIZE) {
          len = load_i32(p);
          p += FIELD_LENGTH_SIZE;
        } else {
          if (!gather(p, end, FIELD_LENGTH_SIZE)) break;
          len = static_cast<i32>(acc);
          acc = 0;
          acc_len = 0;
        }
        check_field_length(at, len);
        if (len > 0) {
          skip = len;
          state = State::FieldBody;
        } else if (--fields_left == 0) {
          ++tuple_count;
          last = p;
          state = State::FieldCount;
        }
        break;
      }

      case State::FieldBody: {
        i64 n = std::min<i64>(skip, end - p);
        p += n;
        skip -= n;
        if (skip > 0) break;
        if (--fields_left == 0) {
          ++tuple_count;
          last = p;
          state = State::FieldCount;
        } else {
          state = State::FieldLength;
        }
        break;
      }

      case State::Done:
        fail(fmt::format("data at byte offset {}, after the trailer", offset_of(p)));

      case State::Failed:
        throw_internal("Framer: feed_binary in failed state");
    }
  }

  return {tuple_count - tuples_before, last ? last - begin : -1};
}

void Framer::check_field_count(i64 offset, int count) {
  if (count == TRAILER_FIELD_COUNT) {
    trailer = true;
    state = State::Done;
    return;
  }
  if (count < 0)
    fail(fmt::format("field count {} of tuple {} at byte offset {} is negative", count,
                     tuple_count + 1, offset));
  if (tuple_fields == NO_FIELDS) {
    tuple_fields = count;
    return;
  }
  fail(fmt::format("tuple {} at byte offset {} has {} fields, expected {}{}", tuple_count + 1, offset,
                   count, tuple_fields, expected_fields == -1 ? " (as the first tuple)" : ""));
}

void Framer::check_field_length(i64 offset, i32 length) {
  int field = tuple_fields - fields_left + 1;
  if (length < NULL_FIELD_LENGTH)
    fail(fmt::format("field length {} of tuple {} field {} at byte offset {} is below -1", length,
                     tuple_count + 1, field, offset));
  if (length > MAX_FIELD_LENGTH)
    fail(fmt::format("field length {} of tuple {} field {} at byte offset {} is above 1 GiB", length,
                     tuple_count + 1, field, offset));
}

void Framer::finish() {
  if (state == State::Failed) throw_internal("Framer::finish called after the stream was refused");
  if (stream_format == StreamFormat::Text) {
    if (line_open)
      fail(fmt::format("text stream ends at byte offset {} inside line {}, which has no terminating newline",
                       byte_count, tuple_count + 1));
    return;
  }
  int field = tuple_fields - fields_left + 1;
  switch (state) {
    case State::Header:
      if (byte_count == 0) fail("stream is empty: no COPY BINARY header");
      fail(fmt::format("stream ends at byte offset {} inside the header ({} of {} bytes)", byte_count,
                       header_pos, HEADER_FIXED_SIZE));
    case State::HeaderExtension:
      fail(fmt::format("stream ends at byte offset {} inside the header extension ({} bytes missing)",
                       byte_count, skip));
    case State::FieldCount:
      if (acc_len > 0)
        fail(fmt::format("stream ends at byte offset {} inside the field count of tuple {}", byte_count,
                         tuple_count + 1));
      fail(fmt::format("stream ends at byte offset {} after {} tuples without the trailer", byte_count,
                       tuple_count));
    case State::FieldLength:
      fail(fmt::format("stream ends at byte offset {} inside the length of tuple {} field {}", byte_count,
                       tuple_count + 1, field));
    case State::FieldBody:
      fail(fmt::format("stream ends at byte offset {} inside the value of tuple {} field {} ({} bytes missing)",
                       byte_count, tuple_count + 1, field, skip));
    case State::Done:
    case State::Failed:
      return;
  }
}

void Framer::fail(const std::string &message) {
  state = State::Failed;
  throw_data_format(fmt::format("COPY {} stream: {}", to_string(stream_format), message));
}

}  // namespace pgcutover::copybin
