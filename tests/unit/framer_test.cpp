// Framer: valid streams at every split point, and every way a stream can be
// cut short or corrupt. Streams are built by hand with the encoder below.
#include "pgcutover/copybin/framer.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pgcutover/util/error.hpp"

namespace pgcutover::copybin {
namespace {

using Row = std::vector<std::optional<std::string>>;  // nullopt = NULL

void put_i16(std::string &out, i16 v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

void put_i32(std::string &out, i32 v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::string header(u32 flags = 0, const std::string &extension = "") {
  std::string out(SIGNATURE, SIGNATURE_SIZE);
  put_i32(out, static_cast<i32>(flags));
  put_i32(out, static_cast<i32>(extension.size()));
  return out + extension;
}

std::string tuple(const Row &row) {
  std::string out;
  put_i16(out, static_cast<i16>(row.size()));
  for (const auto &field : row) {
    if (!field) {
      put_i32(out, NULL_FIELD_LENGTH);
      continue;
    }
    put_i32(out, static_cast<i32>(field->size()));
    out += *field;
  }
  return out;
}

std::string trailer() {
  std::string out;
  put_i16(out, TRAILER_FIELD_COUNT);
  return out;
}

// A valid stream and the offsets where each of its units ends.
struct Stream {
  std::string bytes;
  std::vector<i64> unit_ends;
  i64 tuples = 0;
};

Stream sample_stream() {
  Stream s;
  auto add = [&](const std::string &unit) {
    s.bytes += unit;
    s.unit_ends.push_back(static_cast<i64>(s.bytes.size()));
  };
  add(header(0, "ext"));
  for (const Row &row : {Row{"1", "alpha", std::nullopt},
                         Row{"22", "", "{\"k\": [1, 2, 3]}"},
                         Row{std::nullopt, std::nullopt, std::nullopt},
                         Row{std::string(300, 'x'), "b", "c"}}) {
    add(tuple(row));
    ++s.tuples;
  }
  add(trailer());
  return s;
}

// The boundary feed() must report for input [from, to) of a stream whose units
// end at `ends`: the last unit end in (from, to], as an offset from `from`.
i64 expected_boundary(const std::vector<i64> &ends, i64 from, i64 to) {
  i64 boundary = -1;
  for (i64 e : ends)
    if (e > from && e <= to) boundary = e - from;
  return boundary;
}

// Feeds bytes [from, to) from an exact-size heap copy, so that a sanitizer
// build catches any read past the input.
FeedResult feed(Framer &f, const std::string &bytes, i64 from, i64 to) {
  std::vector<char> input(bytes.begin() + from, bytes.begin() + to);
  return f.feed(std::span<const char>(input.data(), input.size()));
}

FeedResult feed(Framer &f, const std::string &bytes) {
  return feed(f, bytes, 0, static_cast<i64>(bytes.size()));
}

::testing::AssertionResult has_substr(const std::string &text, const std::string &part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// Runs `fn`, which must throw Error of `kind`; returns its message.
template <typename Fn>
std::string error_of(Fn fn, ErrorKind kind = ErrorKind::DataFormat) {
  try {
    fn();
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return "";
}

std::string refused_by_finish(const std::string &bytes, int expected_fields = -1) {
  Framer f(StreamFormat::Binary, expected_fields);
  feed(f, bytes);
  return error_of([&] { f.finish(); });
}

std::string refused_by_feed(const std::string &bytes, int expected_fields = -1) {
  Framer f(StreamFormat::Binary, expected_fields);
  return error_of([&] { feed(f, bytes); });
}

TEST(Framer, CountsTuplesAndBoundariesOfValidStream) {
  Stream s = sample_stream();
  Framer f(StreamFormat::Binary, 3);
  FeedResult r = feed(f, s.bytes);
  EXPECT_EQ(r.tuples, 4);
  EXPECT_EQ(r.boundary, static_cast<i64>(s.bytes.size()));
  EXPECT_TRUE(f.trailer_seen());
  EXPECT_EQ(f.tuples(), 4);
  EXPECT_EQ(f.bytes(), static_cast<i64>(s.bytes.size()));
  EXPECT_NO_THROW(f.finish());
}

TEST(Framer, BoundaryIsEndOfLastWholeTuple) {
  Stream s = sample_stream();
  Framer f(StreamFormat::Binary);
  // Header and the first two tuples, plus 5 bytes of the third.
  i64 cut = s.unit_ends[2] + 5;
  FeedResult r = feed(f, s.bytes, 0, cut);
  EXPECT_EQ(r.tuples, 2);
  EXPECT_EQ(r.boundary, s.unit_ends[2]);
  EXPECT_FALSE(f.trailer_seen());

  // Only the header: it is a unit, so it sets the boundary.
  Framer g(StreamFormat::Binary);
  r = feed(g, s.bytes, 0, s.unit_ends[0]);
  EXPECT_EQ(r.tuples, 0);
  EXPECT_EQ(r.boundary, s.unit_ends[0]);

  // Inside one tuple: nothing ends.
  r = feed(g, s.bytes, s.unit_ends[0], s.unit_ends[0] + 3);
  EXPECT_EQ(r.tuples, 0);
  EXPECT_EQ(r.boundary, -1);
}

TEST(Framer, SameResultAtEverySplitPoint) {
  Stream s = sample_stream();
  const i64 n = static_cast<i64>(s.bytes.size());
  for (i64 cut = 0; cut <= n; ++cut) {
    Framer f(StreamFormat::Binary);
    FeedResult a = feed(f, s.bytes, 0, cut);
    FeedResult b = feed(f, s.bytes, cut, n);
    EXPECT_EQ(a.tuples + b.tuples, s.tuples) << "cut " << cut;
    EXPECT_EQ(a.boundary, expected_boundary(s.unit_ends, 0, cut)) << "cut " << cut;
    EXPECT_EQ(b.boundary, expected_boundary(s.unit_ends, cut, n)) << "cut " << cut;
    EXPECT_TRUE(f.trailer_seen()) << "cut " << cut;
    EXPECT_NO_THROW(f.finish()) << "cut " << cut;
  }
}

TEST(Framer, SameResultAtEveryPairOfSplitPoints) {
  Stream s = sample_stream();
  const i64 n = static_cast<i64>(s.bytes.size());
  for (i64 i = 0; i <= n; ++i) {
    for (i64 j = i; j <= n; ++j) {
      Framer f(StreamFormat::Binary, 3);
      i64 tuples = feed(f, s.bytes, 0, i).tuples;
      FeedResult mid = feed(f, s.bytes, i, j);
      tuples += mid.tuples + feed(f, s.bytes, j, n).tuples;
      ASSERT_EQ(tuples, s.tuples) << "cuts " << i << ", " << j;
      ASSERT_EQ(mid.boundary, expected_boundary(s.unit_ends, i, j)) << "cuts " << i << ", " << j;
      ASSERT_TRUE(f.trailer_seen()) << "cuts " << i << ", " << j;
    }
  }
}

TEST(Framer, SameResultByteByByte) {
  Stream s = sample_stream();
  const i64 n = static_cast<i64>(s.bytes.size());
  Framer f(StreamFormat::Binary);
  i64 tuples = 0;
  for (i64 i = 0; i < n; ++i) {
    FeedResult r = feed(f, s.bytes, i, i + 1);
    tuples += r.tuples;
    EXPECT_EQ(r.boundary, expected_boundary(s.unit_ends, i, i + 1)) << "byte " << i;
  }
  EXPECT_EQ(tuples, s.tuples);
  EXPECT_EQ(f.tuples(), s.tuples);
  EXPECT_EQ(f.bytes(), n);
  EXPECT_TRUE(f.trailer_seen());
  EXPECT_NO_THROW(f.finish());
}

TEST(Framer, AcceptsTuplesWithZeroFields) {
  // COPY of a table without columns writes tuples with a field count of 0.
  std::string bytes = header() + tuple({}) + tuple({}) + trailer();
  Framer f(StreamFormat::Binary);
  EXPECT_EQ(feed(f, bytes).tuples, 2);
  EXPECT_TRUE(f.trailer_seen());
  EXPECT_NO_THROW(f.finish());
}

TEST(Framer, AcceptsFieldOfExactlyOneGiB) {
  std::string bytes = header();
  put_i16(bytes, 1);
  put_i32(bytes, MAX_FIELD_LENGTH);
  Framer f(StreamFormat::Binary);
  EXPECT_NO_THROW(feed(f, bytes));
  EXPECT_TRUE(has_substr(error_of([&] { f.finish(); }), "1073741824 bytes missing"));
}

TEST(Framer, IgnoresBackwardsCompatibleFlagBits) {
  // Bits 0-15 "signal backwards-compatible format issues; a reader should
  // simply ignore" them (PostgreSQL docs, COPY, File Header).
  std::string bytes = header(0x0000ffffu) + tuple({"a"}) + trailer();
  Framer f(StreamFormat::Binary);
  EXPECT_EQ(feed(f, bytes).tuples, 1);
  EXPECT_NO_THROW(f.finish());
}

TEST(Framer, RefusesEveryTruncation) {
  Stream s = sample_stream();
  for (std::size_t cut = 0; cut < s.bytes.size(); ++cut) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    refused_by_finish(s.bytes.substr(0, cut));
  }
}

TEST(Framer, RefusesEmptyBinaryStream) {
  EXPECT_TRUE(has_substr(refused_by_finish(""), "empty"));
}

TEST(Framer, RefusesStreamCutInHeader) {
  std::string bytes = header().substr(0, 7);
  EXPECT_TRUE(has_substr(refused_by_finish(bytes), "inside the header (7 of 19 bytes)"));
  EXPECT_TRUE(has_substr(refused_by_finish(header(0, "extension").substr(0, 22)), "inside the header extension"));
}

TEST(Framer, RefusesStreamCutInFieldCount) {
  std::string bytes = header() + tuple({"a"}) + trailer().substr(0, 1);
  EXPECT_TRUE(has_substr(refused_by_finish(bytes), "inside the field count of tuple 2"));
}

TEST(Framer, RefusesStreamCutInFieldLength) {
  std::string t = tuple({"abc", "def"});
  std::string bytes = header() + t.substr(0, 2 + 4 + 3 + 2);  // 2 of 4 bytes of field 2's length
  EXPECT_TRUE(has_substr(refused_by_finish(bytes), "inside the length of tuple 1 field 2"));
}

TEST(Framer, RefusesStreamCutInFieldBody) {
  std::string t = tuple({"abc", "defgh"});
  std::string bytes = header() + t.substr(0, t.size() - 2);
  EXPECT_TRUE(has_substr(refused_by_finish(bytes), "inside the value of tuple 1 field 2 (2 bytes missing)"));
}

TEST(Framer, RefusesStreamWithoutTrailer) {
  std::string bytes = header() + tuple({"a"}) + tuple({"b"});
  EXPECT_TRUE(has_substr(refused_by_finish(bytes), "after 2 tuples without the trailer"));
}

TEST(Framer, RefusesCorruptSignature) {
  std::string bytes = header() + trailer();
  bytes[7] = '\x7f';  // high bit stripped, as a non-8-bit-clean transfer would
  EXPECT_TRUE(has_substr(refused_by_feed(bytes), "signature mismatch at byte offset 7"));
  EXPECT_TRUE(has_substr(refused_by_feed("1\tfoo\n"), "signature mismatch at byte offset 0"));
}

TEST(Framer, RefusesOidFlag) {
  EXPECT_TRUE(has_substr(refused_by_feed(header(FLAG_WITH_OIDS)), "bit 16"));
}

TEST(Framer, RefusesUnknownCriticalFlag) {
  EXPECT_TRUE(has_substr(refused_by_feed(header(u32{1} << 20)), "unknown critical flag bits 0x00100000"));
}

TEST(Framer, RefusesNegativeHeaderExtensionLength) {
  std::string bytes(SIGNATURE, SIGNATURE_SIZE);
  put_i32(bytes, 0);
  put_i32(bytes, -4);
  EXPECT_TRUE(has_substr(refused_by_feed(bytes), "header extension length -4 at byte offset 15"));
}

TEST(Framer, RefusesFieldCountOtherThanExpected) {
  std::string bytes = header() + tuple({"a", "b"}) + trailer();
  EXPECT_TRUE(has_substr(refused_by_feed(bytes, 3), "tuple 1 at byte offset 19 has 2 fields, expected 3"));
}

TEST(Framer, RefusesFieldCountThatChanges) {
  std::string first = header() + tuple({"a", "b"});
  std::string bytes = first + tuple({"a", "b", "c"}) + trailer();
  EXPECT_TRUE(has_substr(refused_by_feed(bytes), "tuple 2 at byte offset " + std::to_string(first.size()) + " has 3 fields, expected 2"));
}

TEST(Framer, RefusesNegativeFieldCount) {
  std::string bytes = header();
  put_i16(bytes, -2);
  EXPECT_TRUE(has_substr(refused_by_feed(bytes), "field count -2 of tuple 1 at byte offset 19"));
}

TEST(Framer, RefusesFieldLengthBelowMinusOne) {
  std::string bytes = header() + tuple({"a", "b"}) + tuple({"a", "b"});
  i64 at = static_cast<i64>(bytes.size()) + 2 + 4 + 1;  // tuple 3, field 2
  put_i16(bytes, 2);
  put_i32(bytes, 1);
  bytes += "a";
  put_i32(bytes, -2);
  EXPECT_TRUE(has_substr(refused_by_feed(bytes), "field length -2 of tuple 3 field 2 at byte offset " + std::to_string(at)));
}

TEST(Framer, RefusesFieldLengthAboveOneGiB) {
  std::string bytes = header();
  put_i16(bytes, 1);
  put_i32(bytes, MAX_FIELD_LENGTH + 1);
  EXPECT_TRUE(has_substr(refused_by_feed(bytes), "above 1 GiB"));
}

TEST(Framer, RefusesBytesAfterTrailer) {
  std::string bytes = header() + tuple({"a"}) + trailer();
  EXPECT_TRUE(has_substr(refused_by_feed(bytes + "x"), "data at byte offset " + std::to_string(bytes.size())));

  // Also when they come in a later feed.
  Framer f(StreamFormat::Binary);
  feed(f, bytes);
  EXPECT_TRUE(f.trailer_seen());
  error_of([&] { feed(f, trailer()); });
}

TEST(Framer, RefusesMalformedInputSplitByteByByte) {
  // The checks must hold when the bad integer straddles chunks.
  std::string bytes = header() + tuple({"a"});
  put_i16(bytes, 1);
  put_i32(bytes, -3);
  Framer f(StreamFormat::Binary);
  std::string message = error_of([&] {
    for (std::size_t i = 0; i < bytes.size(); ++i) feed(f, bytes, static_cast<i64>(i), static_cast<i64>(i) + 1);
  });
  EXPECT_TRUE(has_substr(message, "field length -3 of tuple 2 field 1 at byte offset 28"));
}

// Feeds `bytes` cut at `cuts` and finishes; returns the tuple count, or the
// error message when the stream is refused.
std::string verdict(const std::string &bytes, const std::vector<i64> &cuts) {
  Framer f(StreamFormat::Binary);
  try {
    i64 from = 0;
    for (i64 to : cuts) {
      feed(f, bytes, from, to);
      from = to;
    }
    feed(f, bytes, from, static_cast<i64>(bytes.size()));
    f.finish();
  } catch (const Error &e) {
    return e.what();
  }
  return "ok, " + std::to_string(f.tuples()) + " tuples";
}

TEST(Framer, CorruptStreamsGiveSameVerdictAtAnySplit) {
  // Random byte corruptions: however the stream is cut, the framer must
  // accept or refuse it the same way, with the same message and offset.
  Stream s = sample_stream();
  const i64 n = static_cast<i64>(s.bytes.size());
  std::mt19937 rng(1);
  std::vector<i64> every_byte;
  for (i64 i = 1; i < n; ++i) every_byte.push_back(i);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = s.bytes;
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng() % 256);
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    std::vector<i64> cuts;
    for (i64 i = 1; i < static_cast<i64>(bytes.size()); ++i)
      if (rng() % 8 == 0) cuts.push_back(i);
    std::vector<i64> bytewise(every_byte.begin(), every_byte.begin() + std::max<i64>(0, static_cast<i64>(bytes.size()) - 1));
    std::string whole = verdict(bytes, {});
    ASSERT_EQ(verdict(bytes, cuts), whole) << "round " << round;
    ASSERT_EQ(verdict(bytes, bytewise), whole) << "round " << round;
  }
}

TEST(Framer, UnusableAfterRefusal) {
  Framer f(StreamFormat::Binary);
  error_of([&] { feed(f, std::string("garbage")); });
  error_of([&] { feed(f, header()); }, ErrorKind::Internal);
  error_of([&] { f.finish(); }, ErrorKind::Internal);
}

TEST(Framer, RefusesBadExpectedFields) {
  error_of([] { Framer f(StreamFormat::Binary, -2); }, ErrorKind::Internal);
  error_of([] { Framer f(StreamFormat::Binary, 40000); }, ErrorKind::Internal);
}

TEST(Framer, TextCountsLines) {
  std::string bytes = "1\talpha\n2\t\\N\n3\tline\\nwith escaped newline\n";
  Framer f(StreamFormat::Text);
  FeedResult r = feed(f, bytes, 0, 10);  // "1\talpha\n2\t"
  EXPECT_EQ(r.tuples, 1);
  EXPECT_EQ(r.boundary, 8);
  r = feed(f, bytes, 10, 11);  // inside line 2
  EXPECT_EQ(r.tuples, 0);
  EXPECT_EQ(r.boundary, -1);
  r = feed(f, bytes, 11, static_cast<i64>(bytes.size()));
  EXPECT_EQ(r.tuples, 2);
  EXPECT_EQ(r.boundary, static_cast<i64>(bytes.size()) - 11);
  EXPECT_EQ(f.tuples(), 3);
  EXPECT_EQ(f.bytes(), static_cast<i64>(bytes.size()));
  EXPECT_NO_THROW(f.finish());
}

TEST(Framer, TextCountsLinesInLongInput) {
  // Long enough for the vectorised count, with lines of many lengths.
  std::string bytes;
  i64 lines = 0;
  for (int i = 0; i < 5000; ++i, ++lines) bytes += std::string(static_cast<std::size_t>(i % 37), 'v') + "\n";
  Framer f(StreamFormat::Text);
  FeedResult r = feed(f, bytes);
  EXPECT_EQ(r.tuples, lines);
  EXPECT_EQ(r.boundary, static_cast<i64>(bytes.size()));
  EXPECT_NO_THROW(f.finish());
}

TEST(Framer, TextAcceptsEmptyStream) {
  Framer f(StreamFormat::Text);
  EXPECT_NO_THROW(f.finish());
  EXPECT_EQ(f.tuples(), 0);
}

TEST(Framer, TextRefusesUnterminatedLastLine) {
  Framer f(StreamFormat::Text);
  feed(f, std::string("1\ta\n2\tb"));
  EXPECT_EQ(f.tuples(), 1);
  EXPECT_TRUE(has_substr(error_of([&] { f.finish(); }), "byte offset 7 inside line 2"));
}

TEST(Framer, FormatNames) {
  EXPECT_STREQ(to_string(StreamFormat::Binary), "binary");
  EXPECT_STREQ(to_string(StreamFormat::Text), "text");
}

}  // namespace
}  // namespace pgcutover::copybin
