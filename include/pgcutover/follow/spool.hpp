#pragma once
// The follow mode's durable spool (issue 25, point 3): the slot's decoded
// changes, stored on local disk before the slot is told it may let go of
// their WAL.
//
// The stream's pgoutput messages are appended, as they come, to a segment: a
// spill file (spill_file.hpp: zstd, checksums, fsync, atomic rename from
// .partial). A segment is cut only at a transaction's end (after a Commit,
// or a Stream Stop / Stream Commit / Stream Abort, outside any Begin ..
// Commit), once it holds segment_bytes or has been open segment_age. When
// a segment is finished, every transaction committed in it is durable, and
// the spool's durable position moves to the end of its last commit: the
// position the slot may confirm (its flush position), so the server may
// recycle the WAL behind it during a days-long base copy.
//
// Restart: the spool opened again reads its last finished segment for the
// durable position (the stream resumes there, the server sends nothing that
// committed before it); an unfinished .partial is replaced (its
// transactions are sent again). A transaction that reaches the spool twice
// anyway (the server resending what it was not yet told) is recognised by
// its commit position and left out, and so is a logical message sent
// outside any transaction, by its position.
//
// After any exception a SpoolWriter is not to be used again: discard it and
// open the spool anew.
//
// Each segment begins with the latest Relation and Type message of every
// table and type described so far (a walsender sends each once per
// session), so it can be read without the segments before it.
//
// Segment data, one frame per message: int64 WAL position (the XLogData's
// start; 0/0 for some, Relation messages among them), int32 length, the
// message's bytes (big-endian integers).
// Segments are named seg-<12-digit sequence>.spool and read in that order.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::follow {

struct SpoolOptions {
  std::filesystem::path dir;                          // this job's spool folder (created when missing)
  i64 segment_bytes = 64LL * 1024 * 1024;             // cut at the first transaction end past this many message bytes
  std::chrono::milliseconds segment_age{2000};        // ... or this long after the segment's first message
  int zstd_level = 1;
};

// One finished segment, as listed by list_segments().
struct SegmentFile {
  i64 sequence = 0;
  std::filesystem::path path;
};
// The finished segments of a spool folder, in order.
std::vector<SegmentFile> list_segments(const std::filesystem::path &dir);

// What a segment holds, read back: every frame, then the checks.
struct SegmentSummary {
  i64 messages = 0;
  i64 commits = 0;
  logical::Lsn last_commit_end;  // 0/0 when it holds no commit
  logical::Lsn last_end;         // ... or of a message outside any transaction, whichever is later
};
// Reads a whole segment, calling on_message for each frame in order.
// The segment's checksums are checked only once every frame was handed out:
// the caller commits nothing it derived from them before this returns
// (throws a DataFormat Error naming the file when the segment is damaged).
SegmentSummary read_segment(const std::filesystem::path &path,
                            const std::function<void(logical::Lsn wal_start, std::span<const char> message)> &on_message);

class SpoolWriter {
 public:
  // Opens (or creates) the spool in options.dir for the slot `slot`, whose
  // stream speaks pgoutput protocol `protocol`. Reads the last finished
  // segment for the durable position. A segment written for another slot is
  // refused (Usage, naming the folder).
  SpoolWriter(SpoolOptions options, std::string slot, int protocol);
  SpoolWriter(SpoolWriter &&) noexcept;
  SpoolWriter &operator=(SpoolWriter &&) noexcept;
  ~SpoolWriter();  // an open segment is dropped (its transactions are not durable; the slot sends them again)

  // Where every transaction committed before is durable: the stream resumes
  // here, and the slot may confirm it.
  logical::Lsn durable() const;

  // One XLogData of the stream. A transaction whose commit the spool already
  // holds (sent again by the server) is left out whole.
  void add(logical::Lsn wal_start, std::span<const char> message);
  // Finishes the open segment when it is due (large or old enough) and
  // stands at a transaction's end; the caller calls it also when the stream
  // is quiet, so a segment's age is noticed. True when a segment was finished.
  bool maybe_cut();
  // Finishes the open segment now if it stands at a transaction's end.
  bool cut();

  bool in_transaction() const;  // between Begin and Commit, or Stream Start and Stream Stop
  i64 segments_finished() const;
  i64 open_bytes() const;       // message bytes in the open segment (not durable yet)
  i64 transactions_skipped() const;  // sent again and left out

 private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

}  // namespace pgcutover::follow
