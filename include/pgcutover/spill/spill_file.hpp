#pragma once
// Spill files: one range's COPY stream, zstd-compressed on local disk, with a
// header (the caller's meta JSON) and a trailer (rows, byte count, checksums)
// so that a wrong, truncated or damaged file is refused with a DataFormat
// error. The layout is described at the top of src/spill/spill_file.cpp.
//
// Each file is written once and read once. Both sides stream with bounded
// memory: about SPILL_WRITE_BUFFER_BYTES plus the zstd context on the writer,
// SPILL_READ_BUFFER_BYTES + SPILL_CHUNK_BYTES plus the zstd window on the
// reader, whatever the size of the range.
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include <nlohmann/json.hpp>

#include "pgcutover/spill/claim.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::spill {

constexpr i64 SPILL_WRITE_BUFFER_BYTES = 256 * 1024;  // file writes happen in pieces of this size
constexpr i64 SPILL_READ_BUFFER_BYTES = 128 * 1024;   // compressed bytes read from the file at a time
constexpr i64 SPILL_CHUNK_BYTES = 128 * 1024;         // largest view SpillReader::next() hands out
constexpr i64 SPILL_MAX_META_BYTES = 16 * 1024 * 1024;  // larger meta is refused on both sides

// Writes path + ".partial" and renames it to path in finish(), so the final
// name only ever holds a complete file. The meta JSON is opaque here: it is
// stored and handed back by SpillReader::meta() as it was given. Move-only.
//
// Errors: kind Usage when the file cannot be created or written (names the
// path and the reason), kind DiskFull on ENOSPC / EDQUOT. After a failure the
// writer is unusable; destroying it removes the .partial file.
class SpillWriter {
 public:
  // Creates path + ".partial", claimed by this process (claim.hpp). zstd_level: any zstd level,
  // negative for the fast levels; out-of-range levels are clamped by zstd.
  SpillWriter(std::filesystem::path path, const nlohmann::json &meta, int zstd_level);
  SpillWriter(SpillWriter &&) noexcept;
  SpillWriter &operator=(SpillWriter &&) noexcept;
  SpillWriter(const SpillWriter &) = delete;
  SpillWriter &operator=(const SpillWriter &) = delete;
  // An unfinished writer closes and removes its .partial file. Never throws.
  ~SpillWriter();

  // Compresses bytes into the file; memory stays bounded whatever the input size.
  void write(std::span<const char> bytes);
  // Ends the zstd stream, writes the trailer (rows, uncompressed bytes,
  // checksums), fsyncs, and renames the file to its final path.
  void finish(i64 rows);

  // After finish(): the claim on the finished file (claim.hpp), for whoever
  // loads and removes it, or keeps it. Dropping it keeps the file.
  FileClaim take_claim();

  i64 bytes_in() const;   // uncompressed bytes given to write()
  i64 bytes_out() const;  // file bytes produced so far (header, compressed data, trailer); the file size after finish()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

// Reads a spill file back. The constructor checks the header and the trailer
// (so a truncated or unfinished file is refused up front); next() streams the
// data, and its final call checks the byte count and both checksums.
//
// Data handed out by next() is verified only when next() returns nullopt: a
// caller must commit nothing before that. Every failure is kind DataFormat and
// names the file, except that a file that cannot be opened is kind Usage.
// Move-only.
class SpillReader {
 public:
  explicit SpillReader(std::filesystem::path path);
  SpillReader(SpillReader &&) noexcept;
  SpillReader &operator=(SpillReader &&) noexcept;
  SpillReader(const SpillReader &) = delete;
  SpillReader &operator=(const SpillReader &) = delete;
  ~SpillReader();

  const nlohmann::json &meta() const;
  // The next decompressed chunk (at most SPILL_CHUNK_BYTES, valid until the
  // next call), or nullopt once the whole file was read and checked.
  std::optional<std::span<const char>> next();
  // Rows recorded by the writer; trustworthy once next() returned nullopt.
  i64 rows() const;
  // Uncompressed bytes handed out so far.
  i64 bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

// Reads a whole file only to check it (header, decompression, trailer,
// checksums) without keeping the data; returns its meta.
nlohmann::json verify_spill_file(const std::filesystem::path &path);

}  // namespace pgcutover::spill
