// Spill files: write once with SpillWriter, read once with SpillReader.
//
// Layout (all integers little-endian):
//
//   offset          size  field
//   0               8     magic "PGCSPILL"
//   8               4     u32 format version (SPILL_FORMAT_VERSION)
//   12              4     u32 meta length M (at most SPILL_MAX_META_BYTES)
//   16              M     meta JSON, UTF-8, as nlohmann::json::dump() wrote it
//   16+M            4     u32 XXH32 (seed 0) of bytes [0, 16+M): magic, version, length, meta
//   20+M            ...   zstd stream: one frame today, any number of frames accepted
//   size-48         8     end magic "PGCSEND\0"
//   size-40         8     i64 rows
//   size-32         8     i64 uncompressed bytes
//   size-24         8     u64 XXH3-64 of the uncompressed bytes
//   size-16         8     u64 XXH3-64 of the compressed bytes (the zstd stream)
//   size-8          8     u64 XXH3-64 of the 40 trailer bytes before it
//
// Why this shape:
// - The trailer sits at a fixed distance from the end, so the reader knows
//   where the zstd stream stops without trusting anything inside it, and a
//   file cut short anywhere (or never finished) has no end magic where it
//   must be: it is refused when it is opened, before any data is handed out.
//   Bytes appended after a trailer are refused the same way.
// - Every byte is covered by a checksum: the header by its XXH32, the trailer
//   by its own XXH3, the zstd stream by the compressed-bytes XXH3. The last
//   one matters: some zstd header bits are ignored by decoders, so a flip
//   there decompresses to the same data and only a hash of the compressed
//   bytes notices it. The uncompressed XXH3 and byte count check end to end.
// - The body is checked while it streams, so data handed out by next() is
//   only known good when next() returns nullopt (the loader commits after).
// - Lengths read from the file are checked against the file size before use,
//   so a damaged length can neither read out of bounds nor allocate more
//   than SPILL_MAX_META_BYTES.
//
// The writer creates path + ".partial" and renames it into place after fsync,
// so a final name only ever holds a finished file. Both names are claimed
// (claim.hpp): a name another running process holds is refused, a leftover of
// a killed run is replaced.
// The rename is followed by a best-effort fsync of the directory (some file
// systems refuse fsync on directories; the data itself is already durable).
#include "pgcutover/spill/spill_file.hpp"

#include "pgcutover/spill/claim.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "pgcutover/util/error.hpp"

namespace pgcutover::spill {

namespace fs = std::filesystem;

namespace {

constexpr char MAGIC[8] = {'P', 'G', 'C', 'S', 'P', 'I', 'L', 'L'};
constexpr char END_MAGIC[8] = {'P', 'G', 'C', 'S', 'E', 'N', 'D', '\0'};
constexpr u32 SPILL_FORMAT_VERSION = 1;
constexpr i64 HEADER_FIXED_BYTES = 16;  // magic, version, meta length
constexpr i64 HEADER_HASH_BYTES = 4;
constexpr i64 TRAILER_BYTES = 48;

// ---- little-endian encoding ----

void put_u32(std::string &out, u32 v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(std::string &out, u64 v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
u32 get_u32(const char *p) {
  u32 v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<u8>(p[i]);
  return v;
}
u64 get_u64(const char *p) {
  u64 v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<u8>(p[i]);
  return v;
}

// ---- errors ----

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// A failed system call on a spill file: DiskFull for ENOSPC / EDQUOT, Usage
// otherwise (missing directory, permissions, read-only file system, I/O error).
[[noreturn]] void throw_io(std::string_view what, const fs::path &path, int err) {
  if (err == ENOSPC || err == EDQUOT)
    throw Error(ErrorKind::DiskFull,
                fmt::format("cannot {} spill file {}: {}; free space on that file system or point --spill-dir "
                            "elsewhere",
                            what, path.string(), errno_text(err)));
  throw Error(ErrorKind::Usage, fmt::format("cannot {} spill file {}: {}", what, path.string(), errno_text(err)));
}

[[noreturn]] void throw_damaged(const fs::path &path, std::string_view what) {
  throw_data_format(fmt::format("spill file {} was refused: {}", path.string(), what));
}

// ---- RAII for the C handles ----

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd(fd) {}
  Fd(Fd &&o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd &operator=(Fd &&o) noexcept {
    if (this != &o) {
      reset();
      fd = std::exchange(o.fd, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd; }
  int release() { return std::exchange(fd, -1); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

 private:
  int fd = -1;
};

struct CCtxDeleter {
  void operator()(ZSTD_CCtx *c) const noexcept { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx *d) const noexcept { ZSTD_freeDCtx(d); }
};
struct XxhDeleter {
  void operator()(XXH3_state_t *s) const noexcept { XXH3_freeState(s); }
};
using CCtx = std::unique_ptr<ZSTD_CCtx, CCtxDeleter>;
using DCtx = std::unique_ptr<ZSTD_DCtx, DCtxDeleter>;
using Xxh3 = std::unique_ptr<XXH3_state_t, XxhDeleter>;

Xxh3 new_xxh3() {
  Xxh3 s(XXH3_createState());
  if (!s || XXH3_64bits_reset(s.get()) != XXH_OK) throw_internal("spill: cannot allocate an XXH3 state");
  return s;
}

// Writes all n bytes, retrying short writes and EINTR.
void write_all(int fd, const char *data, size_t n, const fs::path &path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_io("write", path, errno);
    }
    if (w == 0) throw_io("write", path, ENOSPC);  // no progress and no errno: treat as a full device
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// Reads exactly n bytes at offset, retrying short reads and EINTR. A file that
// ends early was truncated while we read it.
void read_exact_at(int fd, i64 offset, char *data, size_t n, const fs::path &path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, data, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_io("read", path, errno);
    }
    if (r == 0) throw_damaged(path, "the file became shorter while it was read");
    data += r;
    offset += r;
    n -= static_cast<size_t>(r);
  }
}

fs::path partial_path(const fs::path &path) {
  fs::path p = path;
  p += ".partial";
  return p;
}

}  // namespace

// ============================== SpillWriter ==============================

struct SpillWriter::Impl {
  fs::path path;
  fs::path partial;
  FileClaim claim;  // the .partial, then (renamed) the finished file

  CCtx cctx;
  Xxh3 data_hash;  // uncompressed bytes
  Xxh3 body_hash;  // compressed bytes
  std::vector<char> buf = std::vector<char>(static_cast<size_t>(SPILL_WRITE_BUFFER_BYTES));
  size_t used = 0;
  i64 bytes_in = 0;
  i64 bytes_out = 0;
  bool finished = false;
  bool failed = false;

  void flush() {
    write_all(claim.fd(), buf.data(), used, partial);
    used = 0;
  }

  void append(std::string_view bytes) {
    while (!bytes.empty()) {
      if (used == buf.size()) flush();
      size_t n = std::min(bytes.size(), buf.size() - used);
      std::memcpy(buf.data() + used, bytes.data(), n);
      used += n;
      bytes_out += static_cast<i64>(n);
      bytes.remove_prefix(n);
    }
  }

  // Feeds input to zstd, which writes straight into the file buffer. With
  // ZSTD_e_continue it returns once the input is consumed; with ZSTD_e_end,
  // once the frame is complete and flushed out of zstd.
  void compress(ZSTD_inBuffer in, ZSTD_EndDirective mode) {
    for (;;) {
      if (used == buf.size()) flush();
      ZSTD_outBuffer out{buf.data(), buf.size(), used};
      size_t r = ZSTD_compressStream2(cctx.get(), &out, &in, mode);
      if (ZSTD_isError(r))
        throw_internal(fmt::format("zstd failed to compress spill file {}: {}", partial.string(),
                                   ZSTD_getErrorName(r)));
      XXH3_64bits_update(body_hash.get(), buf.data() + used, out.pos - used);
      bytes_out += static_cast<i64>(out.pos - used);
      used = out.pos;
      if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0) return;
    }
  }

  void check_usable(const char *op) const {
    if (finished) throw_internal(fmt::format("SpillWriter::{} after finish() on {}", op, path.string()));
    if (failed)
      throw_internal(fmt::format("SpillWriter::{} on {} after an earlier failure", op, partial.string()));
  }
};

SpillWriter::SpillWriter(fs::path path, const nlohmann::json &meta, int zstd_level) : impl(std::make_unique<Impl>()) {
  Impl &w = *impl;
  w.path = std::move(path);
  w.partial = partial_path(w.path);

  std::string meta_text;
  try {
    meta_text = meta.dump();
  } catch (const nlohmann::json::exception &e) {
    throw_internal(fmt::format("spill file {}: cannot serialize its meta: {}", w.path.string(), e.what()));
  }
  if (static_cast<i64>(meta_text.size()) > SPILL_MAX_META_BYTES)
    throw_internal(fmt::format("spill file {}: meta of {} bytes exceeds the {} byte limit", w.path.string(),
                               meta_text.size(), SPILL_MAX_META_BYTES));

  w.cctx.reset(ZSTD_createCCtx());
  if (!w.cctx) throw_internal("spill: cannot allocate a zstd compression context");
  size_t r = ZSTD_CCtx_setParameter(w.cctx.get(), ZSTD_c_compressionLevel, zstd_level);
  if (ZSTD_isError(r))
    throw_internal(fmt::format("spill: zstd refused level {}: {}", zstd_level, ZSTD_getErrorName(r)));
  w.data_hash = new_xxh3();
  w.body_hash = new_xxh3();

  std::string header(MAGIC, sizeof MAGIC);
  put_u32(header, SPILL_FORMAT_VERSION);
  put_u32(header, static_cast<u32>(meta_text.size()));
  header += meta_text;
  put_u32(header, XXH32(header.data(), header.size(), 0));

  // Created last: nothing above can fail after the file exists. Claimed
  // (claim.hpp): a .partial another running process writes is refused, a
  // leftover of a process that is gone is replaced.
  w.claim = FileClaim::create(w.partial);
  w.append(header);
}

SpillWriter::SpillWriter(SpillWriter &&) noexcept = default;
SpillWriter &SpillWriter::operator=(SpillWriter &&o) noexcept {
  if (this != &o) {
    SpillWriter old(std::move(*this));  // an unfinished file being replaced is removed
    impl = std::move(o.impl);
  }
  return *this;
}

SpillWriter::~SpillWriter() {
  if (!impl || impl->finished) return;
  (void)impl->claim.remove();
}

FileClaim SpillWriter::take_claim() {
  if (!impl || !impl->finished) throw_internal("SpillWriter::take_claim before finish()");
  return std::move(impl->claim);
}

void SpillWriter::write(std::span<const char> bytes) {
  if (!impl) throw_internal("SpillWriter::write on a moved-from writer");
  Impl &w = *impl;
  w.check_usable("write");
  if (bytes.empty()) return;
  try {
    XXH3_64bits_update(w.data_hash.get(), bytes.data(), bytes.size());
    w.bytes_in += static_cast<i64>(bytes.size());
    w.compress(ZSTD_inBuffer{bytes.data(), bytes.size(), 0}, ZSTD_e_continue);
  } catch (...) {
    w.failed = true;
    throw;
  }
}

void SpillWriter::finish(i64 rows) {
  if (!impl) throw_internal("SpillWriter::finish on a moved-from writer");
  Impl &w = *impl;
  w.check_usable("finish");
  if (rows < 0) throw_internal(fmt::format("SpillWriter::finish({}) on {}: negative row count", rows, w.path.string()));
  try {
    w.compress(ZSTD_inBuffer{nullptr, 0, 0}, ZSTD_e_end);

    std::string trailer(END_MAGIC, sizeof END_MAGIC);
    put_u64(trailer, static_cast<u64>(rows));
    put_u64(trailer, static_cast<u64>(w.bytes_in));
    put_u64(trailer, XXH3_64bits_digest(w.data_hash.get()));
    put_u64(trailer, XXH3_64bits_digest(w.body_hash.get()));
    put_u64(trailer, XXH3_64bits(trailer.data(), trailer.size()));
    w.append(trailer);
    w.flush();

    while (::fsync(w.claim.fd()) != 0)
      if (errno != EINTR) throw_io("fsync", w.partial, errno);
    // The descriptor stays open: it holds the claim, which follows the file
    // to its final name (a write error deferred to close is reported by fsync).
    w.claim.rename_to(w.path);
    w.finished = true;
  } catch (...) {
    w.failed = true;
    throw;
  }

  fs::path dir = w.path.parent_path();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);  // best effort, see the top comment
    ::close(dfd);
  }
}

i64 SpillWriter::bytes_in() const { return impl ? impl->bytes_in : 0; }
i64 SpillWriter::bytes_out() const { return impl ? impl->bytes_out : 0; }

// ============================== SpillReader ==============================

struct SpillReader::Impl {
  fs::path path;
  Fd fd;
  nlohmann::json meta;
  i64 file_size = 0;
  i64 body_pos = 0;  // next compressed byte to read from the file
  i64 body_end = 0;  // where the trailer starts

  // From the trailer.
  i64 rows = 0;
  i64 want_bytes = 0;
  u64 want_data_hash = 0;
  u64 want_body_hash = 0;

  DCtx dctx;
  Xxh3 data_hash;
  Xxh3 body_hash;
  std::vector<char> in_buf = std::vector<char>(static_cast<size_t>(SPILL_READ_BUFFER_BYTES));
  std::vector<char> out_buf = std::vector<char>(static_cast<size_t>(SPILL_CHUNK_BYTES));
  ZSTD_inBuffer in{nullptr, 0, 0};
  size_t last_ret = 1;  // last zstd result that made progress; 0 = a frame just ended
  i64 bytes = 0;
  bool ended = false;
  bool failed = false;

  [[noreturn]] void damaged(std::string_view what) const { throw_damaged(path, what); }

  void open_and_check();
  void refill();
  void check_end();
};

void SpillReader::Impl::open_and_check() {
  int raw;
  do {
    raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) throw_io("open", path, errno);
  fd = Fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_io("stat", path, errno);
  if (S_ISDIR(st.st_mode)) throw_io("read", path, EISDIR);
  if (!S_ISREG(st.st_mode))
    throw Error(ErrorKind::Usage, fmt::format("spill file {} is not a regular file", path.string()));
  file_size = st.st_size;

  // Header.
  char fixed[HEADER_FIXED_BYTES];
  if (file_size < static_cast<i64>(sizeof MAGIC))
    damaged(fmt::format("it is {} bytes long, too short to be a pgcutover spill file", file_size));
  read_exact_at(fd.get(), 0, fixed, sizeof MAGIC, path);
  if (std::memcmp(fixed, MAGIC, sizeof MAGIC) != 0) damaged("it is not a pgcutover spill file (no PGCSPILL magic)");
  if (file_size < HEADER_FIXED_BYTES) damaged("the header is truncated");
  read_exact_at(fd.get(), 0, fixed, sizeof fixed, path);
  u32 version = get_u32(fixed + 8);
  if (version != SPILL_FORMAT_VERSION)
    damaged(fmt::format("it has format version {}, this pgcutover reads version {}", version, SPILL_FORMAT_VERSION));
  i64 meta_len = get_u32(fixed + 12);
  if (meta_len > SPILL_MAX_META_BYTES)
    damaged(fmt::format("the header claims {} bytes of meta, more than the {} byte limit (damaged header)", meta_len,
                        SPILL_MAX_META_BYTES));
  i64 header_end = HEADER_FIXED_BYTES + meta_len + HEADER_HASH_BYTES;
  if (header_end + TRAILER_BYTES > file_size)
    damaged(fmt::format("it is {} bytes long, shorter than its {} byte header plus the {} byte trailer "
                        "(truncated, or a damaged header)",
                        file_size, header_end, TRAILER_BYTES));
  std::string header(static_cast<size_t>(header_end), '\0');
  read_exact_at(fd.get(), 0, header.data(), header.size(), path);
  u32 want_header_hash = get_u32(header.data() + HEADER_FIXED_BYTES + meta_len);
  if (XXH32(header.data(), static_cast<size_t>(HEADER_FIXED_BYTES + meta_len), 0) != want_header_hash)
    damaged("the header checksum does not match (damaged header or meta)");

  // Trailer.
  char trailer[TRAILER_BYTES];
  read_exact_at(fd.get(), file_size - TRAILER_BYTES, trailer, sizeof trailer, path);
  if (std::memcmp(trailer, END_MAGIC, sizeof END_MAGIC) != 0)
    damaged("it does not end with the PGCSEND trailer (truncated, never finished, or bytes after the trailer)");
  if (XXH3_64bits(trailer, TRAILER_BYTES - 8) != get_u64(trailer + 40))
    damaged("the trailer checksum does not match (damaged trailer)");
  rows = static_cast<i64>(get_u64(trailer + 8));
  want_bytes = static_cast<i64>(get_u64(trailer + 16));
  want_data_hash = get_u64(trailer + 24);
  want_body_hash = get_u64(trailer + 32);
  if (rows < 0 || want_bytes < 0) damaged("the trailer holds a negative count (damaged trailer)");

  try {
    meta = nlohmann::json::parse(header.begin() + HEADER_FIXED_BYTES,
                                 header.begin() + HEADER_FIXED_BYTES + meta_len);
  } catch (const nlohmann::json::exception &e) {
    damaged(fmt::format("its meta is not valid JSON: {}", e.what()));
  }

  body_pos = header_end;
  body_end = file_size - TRAILER_BYTES;
  dctx.reset(ZSTD_createDCtx());
  if (!dctx) throw_internal("spill: cannot allocate a zstd decompression context");
  data_hash = new_xxh3();
  body_hash = new_xxh3();
  in = ZSTD_inBuffer{in_buf.data(), 0, 0};
}

void SpillReader::Impl::refill() {
  size_t n = static_cast<size_t>(std::min<i64>(static_cast<i64>(in_buf.size()), body_end - body_pos));
  read_exact_at(fd.get(), body_pos, in_buf.data(), n, path);
  XXH3_64bits_update(body_hash.get(), in_buf.data(), n);
  body_pos += static_cast<i64>(n);
  in = ZSTD_inBuffer{in_buf.data(), n, 0};
}

void SpillReader::Impl::check_end() {
  if (last_ret != 0) damaged("the compressed data ends in the middle of a zstd frame (truncated or damaged)");
  if (XXH3_64bits_digest(body_hash.get()) != want_body_hash)
    damaged("the checksum of the compressed data does not match (damaged data)");
  if (bytes != want_bytes)
    damaged(fmt::format("it decompressed to {} bytes, the trailer says {} (damaged data)", bytes, want_bytes));
  if (XXH3_64bits_digest(data_hash.get()) != want_data_hash)
    damaged("the checksum of the decompressed data does not match (damaged data)");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_io("stat", path, errno);
  if (st.st_size != file_size) damaged("the file changed size while it was read");
}

SpillReader::SpillReader(fs::path path) : impl(std::make_unique<Impl>()) {
  impl->path = std::move(path);
  impl->open_and_check();
}

SpillReader::SpillReader(SpillReader &&) noexcept = default;
SpillReader &SpillReader::operator=(SpillReader &&) noexcept = default;
SpillReader::~SpillReader() = default;

const nlohmann::json &SpillReader::meta() const {
  if (!impl) throw_internal("SpillReader::meta on a moved-from reader");
  return impl->meta;
}

std::optional<std::span<const char>> SpillReader::next() {
  if (!impl) throw_internal("SpillReader::next on a moved-from reader");
  Impl &r = *impl;
  if (r.failed) r.damaged("it already failed a check; it cannot be read further");
  if (r.ended) return std::nullopt;
  try {
    ZSTD_outBuffer out{r.out_buf.data(), r.out_buf.size(), 0};
    for (;;) {
      if (r.in.pos == r.in.size && r.body_pos < r.body_end) r.refill();
      bool input_done = r.in.pos == r.in.size && r.body_pos == r.body_end;
      size_t in_before = r.in.pos;
      size_t out_before = out.pos;
      size_t ret = ZSTD_decompressStream(r.dctx.get(), &out, &r.in);
      if (ZSTD_isError(ret))
        r.damaged(fmt::format("zstd cannot decompress it: {} (damaged or truncated data)", ZSTD_getErrorName(ret)));
      bool progress = r.in.pos != in_before || out.pos != out_before;
      if (progress) r.last_ret = ret;
      // A full output buffer is a chunk. With no input left and room to
      // spare, zstd has flushed everything it could decode.
      if (out.pos == out.size || input_done) break;
      if (!progress && r.in.pos != r.in.size)
        throw_internal(fmt::format("zstd made no progress on spill file {}", r.path.string()));
    }
    if (out.pos > 0) {
      XXH3_64bits_update(r.data_hash.get(), r.out_buf.data(), out.pos);
      r.bytes += static_cast<i64>(out.pos);
      if (r.bytes > r.want_bytes)
        r.damaged(fmt::format("it decompresses to more than the {} bytes its trailer records (damaged data)",
                              r.want_bytes));
      return std::span<const char>(r.out_buf.data(), out.pos);
    }
    r.check_end();
    r.ended = true;
    return std::nullopt;
  } catch (...) {
    r.failed = true;
    throw;
  }
}

i64 SpillReader::rows() const { return impl ? impl->rows : 0; }
i64 SpillReader::bytes() const { return impl ? impl->bytes : 0; }

nlohmann::json verify_spill_file(const fs::path &path) {
  SpillReader reader(path);
  while (reader.next()) {
  }
  return reader.meta();
}

}  // namespace pgcutover::spill
