#pragma once
// Incremental framer for COPY streams: feed it the stream in chunks of any
// size, learn how many whole tuples each chunk completed and where the last
// one ended. It checks the stream's structure (header, tuples, trailer) but
// never copies or buffers the bytes. The layout and the rules are in
// src/copybin/framer.cpp.
#include <span>
#include <string>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::copybin {

// What one feed() call found.
struct FeedResult {
  i64 tuples = 0;     // complete tuples that ended inside this input
  i64 boundary = -1;  // offset in this input just past the last complete unit
                      // (header, tuple or trailer) that ended in it; -1 if none
};

class Framer {
 public:
  // expected_fields: the number of fields every tuple must have (binary
  // only), or -1 to accept any count as long as it is the same for every
  // tuple. Throws Error(Internal) if it is outside -1..32767.
  explicit Framer(StreamFormat format, int expected_fields = -1);

  // Consumes the next bytes of the stream. Throws Error(DataFormat), naming
  // the byte offset in the stream, on malformed input; the framer is then
  // unusable (later calls throw Error(Internal)).
  FeedResult feed(std::span<const char> input);

  // Declares the end of the stream. Throws Error(DataFormat) if it is
  // incomplete: binary without a header or trailer or cut inside a tuple,
  // text whose last line has no '\n'.
  void finish();

  i64 tuples() const { return tuple_count; }  // complete tuples seen so far
  i64 bytes() const { return byte_count; }    // total bytes fed
  bool trailer_seen() const { return trailer; }  // binary only
  StreamFormat format() const { return stream_format; }

 private:
  enum class State : u8 { Header, HeaderExtension, FieldCount, FieldLength, FieldBody, Done, Failed };

  FeedResult feed_binary(const char *begin, const char *end);
  FeedResult feed_text(const char *begin, const char *end);
  const char *skip_tuples(const char *p, const char *end);
  bool gather(const char *&p, const char *end, int width);
  void check_field_count(i64 offset, int count);
  void check_field_length(i64 offset, i32 length);
  [[noreturn]] void fail(const std::string &message);

  StreamFormat stream_format;
  int expected_fields;
  int tuple_fields;          // field count every tuple must have; NO_FIELDS until known
  State state;
  int header_pos = 0;        // header bytes consumed so far (0..HEADER_FIXED_SIZE)
  u32 acc = 0;               // big-endian integer gathered across chunks
  int acc_len = 0;           // bytes of it gathered so far
  int fields_left = 0;       // fields of the current tuple not yet complete
  i64 skip = 0;              // bytes of extension or field body still to skip
  i64 tuple_count = 0;
  i64 byte_count = 0;
  bool trailer = false;
  bool line_open = false;    // text: the last byte fed was not '\n'
};

}  // namespace pgcutover::copybin
