// Spill files: round trips, and every way a file can be wrong, cut short,
// damaged or impossible to write. Each test works in its own temp directory.
#include "pgcutover/spill/spill_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pgcutover/util/error.hpp"

namespace pgcutover::spill {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    root = fs::temp_directory_path() /
            ("pgcutover_spill_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + info->name());
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  const fs::path &path() const { return root; }
  fs::path operator/(const std::string &name) const { return root / name; }

 private:
  fs::path root;
};

nlohmann::json sample_meta() {
  return {{"schema", "public"},
          {"table", "Odd \"Name\""},
          {"columns", {{{"name", "id"}, {"type", "bigint"}}, {{"name", "note"}, {"type", "text"}}}},
          {"range", {{"id", 7}, {"lower", {"100"}}, {"upper", nullptr}}},
          {"snapshot", "00000003-0000001B-1"},
          {"format", "binary"},
          {"unicode", "\u00e9\u6f22\u5b57"}};
}

// Text that compresses somewhat, like COPY rows, with random runs mixed in.
std::string make_data(size_t size, u32 seed) {
  std::mt19937 rng(seed);
  std::string out;
  out.reserve(size);
  i64 row = 0;
  while (out.size() < size) {
    if (rng() % 4 == 0) {
      size_t n = rng() % 3000;
      for (size_t i = 0; i < n; ++i) out += static_cast<char>(rng() & 0xff);
    } else {
      out += std::to_string(row++) + "\tsome note about row " + std::to_string(rng() % 1000) + "\n";
    }
  }
  out.resize(size);
  return out;
}

// Writes data in pieces of varying odd sizes.
void write_file(const fs::path &path, const std::string &data, i64 rows, int level = 3,
                const nlohmann::json &meta = sample_meta()) {
  SpillWriter w(path, meta, level);
  static const size_t pieces[] = {1, 7, 4093, 65537, 300001, 13, 131073, 999};
  size_t off = 0;
  for (size_t i = 0; off < data.size(); ++i) {
    size_t n = std::min(pieces[i % std::size(pieces)], data.size() - off);
    w.write(std::span<const char>(data.data() + off, n));
    off += n;
  }
  EXPECT_EQ(w.bytes_in(), static_cast<i64>(data.size()));
  w.finish(rows);
  EXPECT_EQ(w.bytes_out(), static_cast<i64>(fs::file_size(path)));
}

struct ReadBack {
  nlohmann::json meta;
  std::string data;
  i64 rows = 0;
  i64 largest_chunk = 0;
};

ReadBack read_file(const fs::path &path) {
  SpillReader r(path);
  ReadBack out;
  out.meta = r.meta();
  while (auto chunk = r.next()) {
    EXPECT_FALSE(chunk->empty());
    out.largest_chunk = std::max(out.largest_chunk, static_cast<i64>(chunk->size()));
    out.data.append(chunk->data(), chunk->size());
    EXPECT_EQ(r.bytes(), static_cast<i64>(out.data.size()));
  }
  EXPECT_FALSE(r.next().has_value());  // stays at the end
  out.rows = r.rows();
  return out;
}

std::string slurp(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void flip_in_place(const fs::path &path, i64 offset, unsigned char mask) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(offset);
  char c = 0;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ mask));
  ASSERT_TRUE(f.good()) << path << " at " << offset;
}

// Expects verify_spill_file (and a plain read) to refuse the file with kind
// DataFormat and a message naming it.
void expect_refused(const fs::path &path, const std::string &why) {
  SCOPED_TRACE(why);
  try {
    verify_spill_file(path);
    ADD_FAILURE() << "verify_spill_file accepted a bad file: " << why;
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DataFormat) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_file(path), Error);
}

// Expects fn to throw a pgcutover::Error of the given kind whose message names path.
template <typename Fn>
void expect_error(Fn &&fn, ErrorKind kind, const fs::path &path) {
  try {
    fn();
    ADD_FAILURE() << "no exception, expected kind " << to_string(kind);
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

fs::path partial_of(const fs::path &path) { return fs::path(path.string() + ".partial"); }

TEST(SpillFile, RoundTripsSeveralMegabytesWrittenInOddPieces) {
  TempDir dir;
  fs::path path = dir / "t1_r00007.pgcspill";
  std::string data = make_data(6 * 1024 * 1024 + 12345, 1);
  write_file(path, data, 123456);
  EXPECT_FALSE(fs::exists(partial_of(path)));
  EXPECT_LT(fs::file_size(path), data.size());  // it did compress

  ReadBack back = read_file(path);
  EXPECT_EQ(back.meta, sample_meta());
  EXPECT_EQ(back.rows, 123456);
  ASSERT_EQ(back.data.size(), data.size());
  EXPECT_TRUE(back.data == data);
  EXPECT_EQ(verify_spill_file(path), sample_meta());
}

TEST(SpillFile, RoundTripsAtFastAndStrongLevels) {
  TempDir dir;
  std::string data = make_data(512 * 1024 + 3, 2);
  for (int level : {-50, -5, 1, 19, 1000}) {  // out-of-range levels are clamped
    SCOPED_TRACE(level);
    fs::path path = dir / ("level" + std::to_string(level));
    write_file(path, data, 42, level);
    ReadBack back = read_file(path);
    EXPECT_TRUE(back.data == data);
    EXPECT_EQ(back.rows, 42);
  }
}

TEST(SpillFile, RoundTripsAnEmptyStream) {
  TempDir dir;
  fs::path path = dir / "empty";
  {
    SpillWriter w(path, sample_meta(), 3);
    w.write({});  // an empty write is allowed and does nothing
    w.finish(0);
    EXPECT_EQ(w.bytes_in(), 0);
  }
  ReadBack back = read_file(path);
  EXPECT_EQ(back.meta, sample_meta());
  EXPECT_EQ(back.rows, 0);
  EXPECT_TRUE(back.data.empty());
}

TEST(SpillFile, KeepsAnyJsonMetaVerbatim) {
  TempDir dir;
  for (const nlohmann::json &meta :
       {nlohmann::json(), nlohmann::json::array(), nlohmann::json("just a string"), nlohmann::json(3.25),
        nlohmann::json{{"deep", {{"a", {1, 2, {{"b", nullptr}}}}}}}}) {
    fs::path path = dir / "meta";
    write_file(path, "x", 1, 3, meta);
    EXPECT_EQ(read_file(path).meta, meta);
  }
}

TEST(SpillFile, ReaderChunksStayWithinTheBound) {
  TempDir dir;
  fs::path path = dir / "zeros";
  // Highly compressible input decompresses to far more than it reads: the
  // views must still never exceed SPILL_CHUNK_BYTES.
  std::string data(20 * 1024 * 1024, '\0');
  write_file(path, data, 1);
  EXPECT_LT(fs::file_size(path), 64 * 1024u);
  ReadBack back = read_file(path);
  EXPECT_TRUE(back.data == data);
  EXPECT_GT(back.largest_chunk, 0);
  EXPECT_LE(back.largest_chunk, SPILL_CHUNK_BYTES);
}

TEST(SpillFile, WriterStreamsToDiskInsteadOfBuffering) {
  TempDir dir;
  fs::path path = dir / "streaming";
  std::string data = make_data(4 * 1024 * 1024, 3);
  SpillWriter w(path, sample_meta(), 1);
  for (size_t off = 0; off < data.size(); off += 100000)
    w.write(std::span<const char>(data.data() + off, std::min<size_t>(100000, data.size() - off)));
  // Everything but the last write buffer (and what zstd holds back) is on disk already.
  EXPECT_GE(static_cast<i64>(fs::file_size(partial_of(path))), w.bytes_out() - SPILL_WRITE_BUFFER_BYTES);
  EXPECT_GT(w.bytes_out(), SPILL_WRITE_BUFFER_BYTES);
  EXPECT_FALSE(fs::exists(path));
  w.finish(1);
  EXPECT_TRUE(fs::exists(path));
}

TEST(SpillFile, TruncatedFilesAreRefused) {
  TempDir dir;
  fs::path good = dir / "good";
  write_file(good, make_data(300 * 1024, 4), 10);
  std::string bytes = slurp(good);
  const size_t meta_len = sample_meta().dump().size();
  const size_t header_end = 16 + meta_len + 4;
  const size_t size = bytes.size();
  ASSERT_GT(size, header_end + 48 + 100);

  std::vector<std::pair<size_t, std::string>> cuts = {
      {0, "empty file"},
      {5, "inside the magic"},
      {8, "after the magic"},
      {14, "inside the meta length"},
      {16 + meta_len / 2, "inside the meta"},
      {header_end - 2, "inside the header checksum"},
      {header_end, "right after the header"},
      {header_end + 10, "at the start of the body"},
      {(header_end + size) / 2, "in the middle of the body"},
      {size - 48, "right before the trailer"},
      {size - 30, "inside the trailer"},
      {size - 1, "one byte short"},
  };
  for (const auto &[len, why] : cuts) {
    fs::path path = dir / "cut";
    spit(path, bytes.substr(0, len));
    expect_refused(path, why + " (" + std::to_string(len) + " bytes)");
  }
}

TEST(SpillFile, BytesAfterTheTrailerAreRefused) {
  TempDir dir;
  fs::path path = dir / "appended";
  write_file(path, make_data(10000, 5), 3);
  std::string bytes = slurp(path);
  spit(path, bytes + std::string(1, '\0'));
  expect_refused(path, "one byte appended");
  spit(path, bytes + bytes);
  expect_refused(path, "the file twice");
}

TEST(SpillFile, FlippedByteInTheBodyIsRefused) {
  TempDir dir;
  fs::path good = dir / "good";
  write_file(good, make_data(2 * 1024 * 1024, 6), 10);
  std::string bytes = slurp(good);
  const size_t header_end = 16 + sample_meta().dump().size() + 4;
  const size_t body = bytes.size() - 48 - header_end;
  for (size_t at : {header_end, header_end + 3, header_end + body / 3, header_end + body / 2, bytes.size() - 49}) {
    std::string bad = bytes;
    bad[at] ^= 0x10;
    fs::path path = dir / "flipped";
    spit(path, bad);
    expect_refused(path, "body byte " + std::to_string(at));
  }
}

TEST(SpillFile, FlippedByteInTheMetaIsRefused) {
  TempDir dir;
  fs::path good = dir / "good";
  write_file(good, make_data(5000, 7), 10);
  std::string bytes = slurp(good);
  size_t at = bytes.find("public");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'P';  // still valid JSON, but not what was written
  fs::path path = dir / "flipped";
  spit(path, bytes);
  try {
    SpillReader r(path);
    ADD_FAILURE() << "a changed meta was accepted";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DataFormat);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
}

TEST(SpillFile, EverySingleByteFlipIsRefused) {
  TempDir dir;
  fs::path good = dir / "good";
  write_file(good, make_data(6000, 8), 10);
  const i64 size = static_cast<i64>(fs::file_size(good));
  // Flipped in place and back: rewriting a truncated file on every step makes
  // ext4 flush it on close (auto_da_alloc), which is slow.
  for (i64 at = 0; at < size; ++at) {
    for (unsigned char mask : {0x01, 0x80}) {
      flip_in_place(good, at, mask);
      try {
        verify_spill_file(good);
        ADD_FAILURE() << "flip of byte " << at << " mask " << int(mask) << " accepted";
      } catch (const Error &e) {
        ASSERT_EQ(e.kind, ErrorKind::DataFormat) << "byte " << at << ": " << e.what();
      }
      flip_in_place(good, at, mask);
    }
  }
  EXPECT_EQ(verify_spill_file(good), sample_meta());
}

TEST(SpillFile, NonSpillFilesAreRefused) {
  TempDir dir;
  fs::path path = dir / "other";
  spit(path, "COPY public.t (id) FROM stdin;\n1\n2\n\\.\n");
  expect_refused(path, "a text file");
  spit(path, std::string(100000, '\0'));
  expect_refused(path, "zeros");
  spit(path, "PGCOPY\n\377\r\n");
  expect_refused(path, "a COPY BINARY signature");

  // A spill file of another format version names both versions.
  write_file(path, "data", 1);
  std::string bytes = slurp(path);
  bytes[8] = 2;
  spit(path, bytes);
  try {
    SpillReader r(path);
    ADD_FAILURE() << "version 2 accepted";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DataFormat);
    EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
  }
}

TEST(SpillFile, MissingFileOrDirectoryIsAUsageError) {
  TempDir dir;
  fs::path missing = dir / "nope.pgcspill";
  expect_error([&] { SpillReader r(missing); }, ErrorKind::Usage, missing);
  expect_error([&] { SpillReader r(dir.path()); }, ErrorKind::Usage, dir.path());
}

TEST(SpillFile, UnfinishedWriterLeavesNoFileBehind) {
  TempDir dir;
  fs::path path = dir / "unfinished";
  std::string data = make_data(1024 * 1024, 9);
  {
    SpillWriter w(path, sample_meta(), 3);
    w.write(data);
    EXPECT_TRUE(fs::exists(partial_of(path)));
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(partial_of(path)));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(SpillFile, MovedWriterOwnsTheFile) {
  TempDir dir;
  fs::path a = dir / "a";
  fs::path b = dir / "b";
  {
    SpillWriter first(a, sample_meta(), 3);
    first.write(std::string_view("hello "));
    SpillWriter moved(std::move(first));  // first is now empty and must not remove anything
    moved.write(std::string_view("world"));
    SpillWriter other(b, sample_meta(), 3);
    other = std::move(moved);  // other's unfinished b.partial is removed
    EXPECT_FALSE(fs::exists(partial_of(b)));
    other.finish(2);
  }
  EXPECT_EQ(read_file(a).data, "hello world");
  EXPECT_FALSE(fs::exists(b));
}

TEST(SpillFile, FinishReplacesAStalePartialAndAnOldFile) {
  TempDir dir;
  fs::path path = dir / "again";
  spit(partial_of(path), "left behind by a killed run");
  write_file(path, "first", 1);
  write_file(path, "second", 2);
  ReadBack back = read_file(path);
  EXPECT_EQ(back.data, "second");
  EXPECT_EQ(back.rows, 2);
}

TEST(SpillFile, WritingIntoAMissingDirectoryNamesThePath) {
  TempDir dir;
  fs::path path = dir / "no" / "such" / "dir" / "f.pgcspill";
  expect_error([&] { SpillWriter w(path, sample_meta(), 3); }, ErrorKind::Usage, partial_of(path));
  EXPECT_FALSE(fs::exists(dir / "no"));
}

// A full disk, for real: the writer's .partial name is a symlink to /dev/full,
// where every write fails with ENOSPC. The writer opens its .partial without
// O_NOFOLLOW / O_EXCL (it replaces a stale one), so it writes through the link.
TEST(SpillFile, FullDiskIsDiskFullAndLeavesNothingBehind) {
  ASSERT_TRUE(fs::exists("/dev/full")) << "this test needs Linux's /dev/full";
  TempDir dir;
  fs::path path = dir / "full.pgcspill";
  fs::create_symlink("/dev/full", partial_of(path));
  std::string data = make_data(2 * 1024 * 1024, 10);
  {
    SpillWriter w(path, sample_meta(), 1);
    expect_error(
        [&] {
          w.write(data);
          w.finish(1);
        },
        ErrorKind::DiskFull, partial_of(path));
    try {
      w.finish(1);
      ADD_FAILURE() << "a failed writer finished";
    } catch (const Error &e) {
      EXPECT_EQ(e.kind, ErrorKind::Internal) << e.what();  // unusable after a failure
    }
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(fs::symlink_status(partial_of(path))));
  EXPECT_TRUE(fs::exists("/dev/full"));
}

TEST(SpillFile, DiskFullMessageSaysWhatToDo) {
  TempDir dir;
  fs::path path = dir / "full2";
  fs::create_symlink("/dev/full", partial_of(path));
  SpillWriter w(path, sample_meta(), 3);
  w.write(std::string_view("small"));  // stays in the write buffer
  try {
    w.finish(1);
    ADD_FAILURE() << "finish on a full disk succeeded";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DiskFull);
    std::string msg = e.what();
    EXPECT_NE(msg.find(partial_of(path).string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("free space"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--spill-dir"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace pgcutover::spill
