// The follow mode's durable spool (see spool.hpp).
#include "pgcutover/follow/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <cstring>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pgcutover/spill/spill_file.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::follow {

namespace fs = std::filesystem;

namespace {

constexpr const char *SPOOL_FORMAT = "pgcutover-follow-spool";
constexpr int SPOOL_FORMAT_VERSION = 1;
constexpr size_t FRAME_HEADER = 12;            // int64 WAL position, int32 length
constexpr size_t STAGE_BYTES = 128 * 1024;     // frames are handed to the spill writer in pieces of this size

void put_u64(std::string &out, u64 v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}
void put_u32(std::string &out, u32 v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}
u64 get_be(const char *p, int n) {
  u64 v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

fs::path segment_path(const fs::path &dir, i64 sequence) { return dir / fmt::format("seg-{:012d}.spool", sequence); }

std::optional<i64> sequence_of(const fs::path &p) {
  const std::string name = p.filename().string();
  if (name.size() != 4 + 12 + 6 || name.rfind("seg-", 0) != 0 || name.substr(16) != ".spool") return std::nullopt;
  i64 v = 0;
  auto [end, ec] = std::from_chars(name.data() + 4, name.data() + 16, v);
  if (ec != std::errc{} || end != name.data() + 16) return std::nullopt;
  return v;
}

// fsync of a folder, so the names just made in it survive a crash: the
// spill writer's own is best effort, the spool's is not.
void sync_dir(const fs::path &dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw Error(ErrorKind::Usage,
                fmt::format("cannot fsync the spool folder {}: {}", dir.string(), std::strerror(err)),
                "put --spool-dir on a local file system that supports fsync");
  }
  ::close(fd);
}

}  // namespace

std::vector<SegmentFile> list_segments(const fs::path &dir) {
  std::vector<SegmentFile> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto &e : fs::directory_iterator(dir, ec))
    if (auto s = sequence_of(e.path())) out.push_back({*s, e.path()});
  if (ec) throw Error(ErrorKind::Usage, "cannot list the spool folder " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](auto &a, auto &b) { return a.sequence < b.sequence; });
  return out;
}

SegmentSummary read_segment(const fs::path &path,
                            const std::function<void(logical::Lsn, std::span<const char>)> &on_message) {
  spill::SpillReader reader(path);
  const auto &meta = reader.meta();
  if (meta.value("format", "") != SPOOL_FORMAT)
    throw Error(ErrorKind::DataFormat, "the file " + path.string() + " is not a follow-mode spool segment",
                "remove it from the spool folder");
  SegmentSummary sum;
  bool in_txn = false;
  std::string carry;  // a frame cut across two chunks
  auto take = [&](const char *p, size_t n) -> size_t {  // whole frames from p; returns the bytes used
    size_t used = 0;
    while (n - used >= FRAME_HEADER) {
      const u64 len = get_be(p + used + 8, 4);
      if (n - used - FRAME_HEADER < len) break;
      const logical::Lsn at{get_be(p + used, 8)};
      std::span<const char> msg(p + used + FRAME_HEADER, len);
      if (!msg.empty() && msg[0] == 'B') in_txn = true;
      if (!msg.empty() && msg[0] == 'C' && msg.size() >= 26) {
        in_txn = false;
        ++sum.commits;
        sum.last_commit_end = logical::Lsn{get_be(msg.data() + 10, 8)};  // flags(1), commit LSN(8), end LSN(8)
        sum.last_end = std::max(sum.last_end, sum.last_commit_end);
      }
      if (!msg.empty() && msg[0] == 'M' && !in_txn && msg.size() >= 10)  // a message outside any transaction
        sum.last_end = std::max(sum.last_end, logical::Lsn{get_be(msg.data() + 2, 8)});
      ++sum.messages;
      on_message(at, msg);
      used += FRAME_HEADER + len;
    }
    return used;
  };
  while (auto chunk = reader.next()) {
    if (carry.empty()) {
      const size_t used = take(chunk->data(), chunk->size());
      carry.assign(chunk->data() + used, chunk->size() - used);
    } else {
      carry.append(chunk->data(), chunk->size());
      const size_t used = take(carry.data(), carry.size());
      carry.erase(0, used);
    }
  }
  if (!carry.empty())
    throw Error(ErrorKind::DataFormat, "the spool segment " + path.string() + " ends inside a message",
                "the spool is damaged: start follow mode again from a new copy");
  if (sum.messages != reader.rows())
    throw Error(ErrorKind::DataFormat, fmt::format("the spool segment {} holds {} messages, its trailer says {}",
                                                   path.string(), sum.messages, reader.rows()));
  return sum;
}

struct SpoolWriter::Impl {
  SpoolOptions opt;
  std::string slot;
  int protocol = 1;
  i64 next_sequence = 0;
  logical::Lsn durable;        // end of the last commit in a finished segment
  logical::Lsn open_last_end;  // ... in the open segment
  std::optional<spill::SpillWriter> seg;
  std::string stage;
  i64 seg_messages = 0;
  i64 seg_bytes = 0;
  std::chrono::steady_clock::time_point seg_opened;
  bool in_txn = false;      // Begin .. Commit
  bool in_stream = false;   // Stream Start .. Stream Stop
  bool skipping = false;    // inside a transaction the spool already holds
  i64 finished = 0;
  i64 skipped = 0;
  // The latest Relation and Type message of each oid: a walsender sends
  // each once per session, so every segment begins with them all, and a
  // segment can be read without the ones before it.
  std::map<std::pair<char, u32>, std::string> described;

  void append_frame(logical::Lsn wal_start, std::span<const char> message) {
    put_u64(stage, wal_start.value);
    put_u32(stage, static_cast<u32>(message.size()));
    stage.append(message.data(), message.size());
    ++seg_messages;
    seg_bytes += static_cast<i64>(message.size() + FRAME_HEADER);
    if (stage.size() >= STAGE_BYTES) flush_stage();
  }

  void flush_stage() {
    if (stage.empty()) return;
    seg->write({stage.data(), stage.size()});
    stage.clear();
  }

  void open_segment() {
    nlohmann::json meta = {{"format", SPOOL_FORMAT}, {"version", SPOOL_FORMAT_VERSION}, {"slot", slot},
                           {"protocol", protocol}, {"sequence", next_sequence}};
    seg.emplace(segment_path(opt.dir, next_sequence), meta, opt.zstd_level);
    seg_messages = 0;
    seg_bytes = 0;
    seg_opened = std::chrono::steady_clock::now();
    for (const auto &[id, msg] : described) append_frame(logical::Lsn{}, msg);
  }

  // Remembers a Relation or Type message (outside a streamed transaction,
  // where it carries no xid: int32 oid at byte 1).
  void describe(std::span<const char> m) {
    if (m.size() < 5 || (m[0] != 'R' && m[0] != 'Y') || in_stream) return;
    described[{m[0], static_cast<u32>(get_be(m.data() + 1, 4))}] = std::string(m.data(), m.size());
  }

  bool finish_segment() {
    if (!seg || in_txn || in_stream) return false;
    flush_stage();
    seg->finish(seg_messages);
    spill::FileClaim claim = seg->take_claim();
    claim.keep_on_hard_exit();  // durable data the slot may have let go of: never removed on a signal
    seg.reset();
    sync_dir(opt.dir);  // the new name must survive a crash before the slot is told
    ++next_sequence;
    ++finished;
    if (open_last_end > durable) durable = open_last_end;
    log::debug("spool: segment {} finished ({} messages, {} bytes), durable to {}", next_sequence - 1,
               seg_messages, seg_bytes, durable.text());
    return true;
  }
};

SpoolWriter::SpoolWriter(SpoolOptions options, std::string slot, int protocol) : impl(std::make_unique<Impl>()) {
  Impl &s = *impl;
  s.opt = std::move(options);
  s.slot = std::move(slot);
  s.protocol = protocol;
  std::error_code ec;
  fs::create_directories(s.opt.dir, ec);
  if (ec)
    throw Error(ErrorKind::Usage, "cannot create the spool folder " + s.opt.dir.string() + ": " + ec.message(),
                "choose a writable --spool-dir");
  sync_dir(s.opt.dir.parent_path().empty() ? fs::path(".") : s.opt.dir.parent_path());  // a folder just made
  const std::vector<SegmentFile> segs = list_segments(s.opt.dir);
  if (!segs.empty()) s.next_sequence = segs.back().sequence + 1;
  // The durable position: the last commit of the newest segment that holds one.
  for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
    spill::SpillReader head(it->path);
    if (head.meta().value("slot", "") != s.slot)
      throw Error(ErrorKind::Usage,
                  "the spool folder " + s.opt.dir.string() + " holds changes of the slot " +
                      head.meta().value("slot", "?") + ", not of " + s.slot,
                  "give each followed job its own --spool-dir");
    const bool newest = it == segs.rbegin();
    SegmentSummary sum = read_segment(it->path, [&](logical::Lsn, std::span<const char> m) {
      if (newest) s.describe(m);
    });
    if (sum.last_end > logical::Lsn{}) {
      s.durable = sum.last_end;
      break;
    }
  }
}

SpoolWriter::SpoolWriter(SpoolWriter &&) noexcept = default;
SpoolWriter &SpoolWriter::operator=(SpoolWriter &&) noexcept = default;
SpoolWriter::~SpoolWriter() = default;

logical::Lsn SpoolWriter::durable() const { return impl->durable; }
bool SpoolWriter::in_transaction() const { return impl->in_txn || impl->in_stream; }
i64 SpoolWriter::segments_finished() const { return impl->finished; }
i64 SpoolWriter::open_bytes() const { return impl->seg ? impl->seg_bytes : 0; }
i64 SpoolWriter::transactions_skipped() const { return impl->skipped; }

void SpoolWriter::add(logical::Lsn wal_start, std::span<const char> message) {
  Impl &s = *impl;
  if (message.empty()) throw Error(ErrorKind::DataFormat, "an empty message in the replication stream");
  const char kind = message[0];
  switch (kind) {
    case 'B': {
      if (s.in_txn) throw Error(ErrorKind::DataFormat, "a Begin inside a transaction in the replication stream");
      if (message.size() < 9) throw Error(ErrorKind::DataFormat, "a Begin message cut short in the replication stream");
      s.in_txn = true;
      // The commit's position: at or before what the spool holds, it was sent again.
      const logical::Lsn final_lsn{get_be(message.data() + 1, 8)};
      s.skipping = final_lsn < std::max(s.durable, s.open_last_end);
      if (s.skipping) ++s.skipped;
      break;
    }
    case 'C': {
      if (!s.in_txn) throw Error(ErrorKind::DataFormat, "a Commit outside a transaction in the replication stream");
      if (message.size() < 26) throw Error(ErrorKind::DataFormat, "a Commit message cut short in the replication stream");
      s.in_txn = false;
      if (s.skipping) {
        s.skipping = false;
        return;
      }
      s.open_last_end = logical::Lsn{get_be(message.data() + 10, 8)};
      break;
    }
    case 'M':
      if (!s.in_txn && !s.in_stream) {
        // A message outside any transaction (pg_logical_emit_message with
        // transactional = false): its position (the end of its record) is
        // where a restart begins past it; at or before what the spool holds,
        // it was sent again.
        if (message.size() < 10) throw Error(ErrorKind::DataFormat, "a Message cut short in the replication stream");
        const logical::Lsn at{get_be(message.data() + 2, 8)};
        if (at <= std::max(s.durable, s.open_last_end)) return;
        s.open_last_end = at;
      }
      break;
    case 'S': s.in_stream = true; break;
    case 'E': s.in_stream = false; break;
    case 'c': {  // a streamed transaction's commit: int32 xid, int8 flags, int64 commit LSN, int64 end LSN
      if (message.size() < 30) throw Error(ErrorKind::DataFormat, "a Stream Commit cut short in the replication stream");
      const logical::Lsn end{get_be(message.data() + 14, 8)};
      if (end > s.open_last_end) s.open_last_end = end;
      break;
    }
    default: break;
  }
  if (s.skipping) return;
  if (!s.seg) s.open_segment();
  s.append_frame(wal_start, message);
  s.describe(message);
  if (kind == 'C' || kind == 'E' || kind == 'c' || kind == 'A' || (kind == 'M' && !in_transaction())) maybe_cut();
}

bool SpoolWriter::maybe_cut() {
  Impl &s = *impl;
  if (!s.seg) return false;
  const bool due = s.seg_bytes >= s.opt.segment_bytes ||
                   std::chrono::steady_clock::now() - s.seg_opened >= s.opt.segment_age;
  return due && s.finish_segment();
}

bool SpoolWriter::cut() { return impl->finish_segment(); }

}  // namespace pgcutover::follow
