// Decoding of pgoutput messages and of the replication stream around them (see pgoutput.hpp).
#include "pgcutover/logical/pgoutput.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

#include "pgcutover/util/error.hpp"

namespace pgcutover::logical {

namespace {

// Reads big-endian fields off a message; every read checks the bounds.
class Reader {
 public:
  Reader(std::span<const char> b, const char *what) : p_(b.data()), end_(b.data() + b.size()), what_(what) {}

  u8 u8_() { return static_cast<u8>(*take(1)); }
  char byte() { return *take(1); }
  i16 i16_() { return static_cast<i16>(be(take(2), 2)); }
  i32 i32_() { return static_cast<i32>(be(take(4), 4)); }
  u32 u32_() { return static_cast<u32>(be(take(4), 4)); }
  i64 i64_() { return static_cast<i64>(be(take(8), 8)); }
  Lsn lsn() { return Lsn{be(take(8), 8)}; }
  std::string string() {  // NUL-terminated
    const void *nul = std::memchr(p_, '\0', static_cast<size_t>(end_ - p_));
    if (!nul) fail("a string without its terminating zero byte");
    std::string s(p_, static_cast<const char *>(nul));
    p_ = static_cast<const char *>(nul) + 1;
    return s;
  }
  std::string_view bytes(i64 n) {
    if (n < 0) fail("a negative length");
    const char *at = take(n);
    return {at, static_cast<size_t>(n)};
  }
  std::span<const char> rest() {
    std::span<const char> r(p_, static_cast<size_t>(end_ - p_));
    p_ = end_;
    return r;
  }
  void done() {
    if (p_ != end_) fail(std::to_string(end_ - p_) + " bytes left over");
  }
  [[noreturn]] void fail(const std::string &why) const {
    throw_data_format(std::string("logical replication: a malformed ") + what_ + " message: " + why);
  }

 private:
  const char *take(i64 n) {
    if (end_ - p_ < n) fail("cut short");
    const char *at = p_;
    p_ += n;
    return at;
  }
  static u64 be(const char *p, int n) {
    u64 v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<u8>(p[i]);
    return v;
  }

  const char *p_, *end_;
  const char *what_;
};

Tuple read_tuple(Reader &r) {
  const i16 n = r.i16_();
  if (n < 0) r.fail("a negative column count");
  Tuple t;
  t.reserve(static_cast<size_t>(n));
  for (i16 i = 0; i < n; ++i) {
    const char kind = r.byte();
    switch (kind) {
      case 'n': t.push_back({ValueKind::Null, {}}); break;
      case 'u': t.push_back({ValueKind::Unchanged, {}}); break;
      case 't': t.push_back({ValueKind::Text, r.bytes(r.i32_())}); break;
      case 'b': t.push_back({ValueKind::Binary, r.bytes(r.i32_())}); break;  // sent when binary = true was asked (14+)
      default: r.fail(std::string("an unknown column kind '") + kind + "'");
    }
  }
  return t;
}

// Old-tuple marker of an Update or Delete: 'K' or 'O', then the tuple.
char read_old(Reader &r, Tuple &out) {
  const char k = r.byte();
  if (k != 'K' && k != 'O') r.fail(std::string("'K' or 'O' expected, found '") + k + "'");
  out = read_tuple(r);
  return k;
}

}  // namespace

std::string Lsn::text() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(value >> 32), static_cast<unsigned>(value));
  return buf;
}

Lsn Lsn::parse(std::string_view text) {
  auto slash = text.find('/');
  auto hex = [&](std::string_view s) {
    if (s.empty() || s.size() > 8) throw_data_format("not a WAL position (LSN): '" + std::string(text) + "'");
    u64 v = 0;
    for (char c : s) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) throw_data_format("not a WAL position (LSN): '" + std::string(text) + "'");
      v = (v << 4) | static_cast<u64>(d);
    }
    return v;
  };
  if (slash == std::string_view::npos) throw_data_format("not a WAL position (LSN): '" + std::string(text) + "'");
  return Lsn{(hex(text.substr(0, slash)) << 32) | hex(text.substr(slash + 1))};
}

Message Decoder::decode(std::span<const char> bytes) {
  if (bytes.empty()) throw_data_format("logical replication: an empty message");
  const char kind = bytes[0];
  auto xid = [&](Reader &r) -> std::optional<u32> {
    if (in_stream_) return r.u32_();
    return std::nullopt;
  };
  const std::span<const char> body = bytes.subspan(1);
  switch (kind) {
    case 'B': {
      Reader r(body, "Begin");
      Begin m{r.lsn(), r.i64_(), r.u32_()};
      r.done();
      return m;
    }
    case 'C': {
      Reader r(body, "Commit");
      Commit m;
      m.flags = r.u8_();
      m.commit_lsn = r.lsn();
      m.end_lsn = r.lsn();
      m.commit_time = r.i64_();
      r.done();
      return m;
    }
    case 'O': {
      Reader r(body, "Origin");
      Origin m;
      m.lsn = r.lsn();
      m.name = r.string();
      r.done();
      return m;
    }
    case 'R': {
      Reader r(body, "Relation");
      Relation m;
      m.xid = xid(r);
      m.oid = r.u32_();
      m.nspname = r.string();
      m.relname = r.string();
      m.replica_identity = r.byte();
      const i16 n = r.i16_();
      if (n < 0) r.fail("a negative column count");
      for (i16 i = 0; i < n; ++i) {
        RelationColumn c;
        c.key = (r.u8_() & 1) != 0;
        c.name = r.string();
        c.type = r.u32_();
        c.typmod = r.i32_();
        m.columns.push_back(std::move(c));
      }
      r.done();
      return m;
    }
    case 'Y': {
      Reader r(body, "Type");
      Type m;
      m.xid = xid(r);
      m.oid = r.u32_();
      m.nspname = r.string();
      m.name = r.string();
      r.done();
      return m;
    }
    case 'I': {
      Reader r(body, "Insert");
      Insert m;
      m.xid = xid(r);
      m.relation = r.u32_();
      if (char n = r.byte(); n != 'N') r.fail(std::string("'N' expected, found '") + n + "'");
      m.row = read_tuple(r);
      r.done();
      return m;
    }
    case 'U': {
      Reader r(body, "Update");
      Update m;
      m.xid = xid(r);
      m.relation = r.u32_();
      char k = r.byte();
      if (k == 'K' || k == 'O') {
        m.old_kind = k;
        m.old_row = read_tuple(r);
        k = r.byte();
      }
      if (k != 'N') r.fail(std::string("'N' expected, found '") + k + "'");
      m.row = read_tuple(r);
      r.done();
      return m;
    }
    case 'D': {
      Reader r(body, "Delete");
      Delete m;
      m.xid = xid(r);
      m.relation = r.u32_();
      m.old_kind = read_old(r, m.old_row);
      r.done();
      return m;
    }
    case 'T': {
      Reader r(body, "Truncate");
      Truncate m;
      m.xid = xid(r);
      const i32 n = r.i32_();
      if (n < 0) r.fail("a negative relation count");
      m.options = r.u8_();
      for (i32 i = 0; i < n; ++i) m.relations.push_back(r.u32_());
      r.done();
      return m;
    }
    case 'M': {
      Reader r(body, "Message");
      LogicalMessage m;
      m.xid = xid(r);
      m.transactional = (r.u8_() & 1) != 0;
      m.lsn = r.lsn();
      m.prefix = r.string();
      m.content = r.bytes(r.i32_());
      r.done();
      return m;
    }
    case 'S': {
      Reader r(body, "Stream Start");
      if (protocol_ < 2) r.fail("a streamed transaction under protocol 1");
      if (in_stream_) r.fail("a Stream Start inside a stream");
      StreamStart m;
      m.xid = r.u32_();
      m.first_segment = r.u8_() == 1;
      r.done();
      in_stream_ = true;
      return m;
    }
    case 'E': {
      Reader r(body, "Stream Stop");
      if (!in_stream_) r.fail("a Stream Stop outside a stream");
      r.done();
      in_stream_ = false;
      return StreamStop{};
    }
    case 'c': {
      Reader r(body, "Stream Commit");
      if (in_stream_) r.fail("a Stream Commit inside a stream");
      StreamCommit m;
      m.xid = r.u32_();
      m.flags = r.u8_();
      m.commit_lsn = r.lsn();
      m.end_lsn = r.lsn();
      m.commit_time = r.i64_();
      r.done();
      return m;
    }
    case 'A': {
      Reader r(body, "Stream Abort");
      if (in_stream_) r.fail("a Stream Abort inside a stream");
      StreamAbort m;
      m.xid = r.u32_();
      m.subxid = r.u32_();
      // Protocol 4's parallel streaming adds the abort's LSN and time; this
      // decoder does not ask for parallel streaming, but takes them if sent.
      if (protocol_ >= 4 && body.size() == 8 + 16) {
        (void)r.lsn();
        (void)r.i64_();
      }
      r.done();
      return m;
    }
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(static_cast<u8>(kind)));
      throw_data_format(std::string("logical replication: an unknown message kind ") + buf +
                        " (two-phase and sequence messages are never asked for)");
    }
  }
}

const char *kind_name(const Message &m) {
  static constexpr const char *names[] = {"Begin",    "Commit", "Origin",  "Relation",     "Type",
                                          "Insert",   "Update", "Delete",  "Truncate",     "Message",
                                          "Stream Start", "Stream Stop", "Stream Commit", "Stream Abort"};
  return names[m.index()];
}

StreamMessage decode_stream_message(std::span<const char> bytes) {
  if (bytes.empty()) throw_data_format("replication stream: an empty CopyData message");
  const char kind = bytes[0];
  if (kind == 'w') {
    Reader r(bytes.subspan(1), "XLogData");
    XLogData m;
    m.start = r.lsn();
    m.server_end = r.lsn();
    m.send_time = r.i64_();
    m.payload = r.rest();
    return m;
  }
  if (kind == 'k') {
    Reader r(bytes.subspan(1), "keepalive");
    Keepalive m;
    m.server_end = r.lsn();
    m.send_time = r.i64_();
    m.reply_requested = r.u8_() != 0;
    r.done();
    return m;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(static_cast<u8>(kind)));
  throw_data_format(std::string("replication stream: an unknown CopyData message kind ") + buf);
}

std::string standby_status_update(Lsn received, Lsn flushed, Lsn applied, i64 now_pg_micros, bool reply_requested) {
  std::string out(1 + 8 * 4 + 1, '\0');
  out[0] = 'r';
  auto put = [&](size_t at, u64 v) {
    for (int i = 7; i >= 0; --i, v >>= 8) out[at + static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
  };
  put(1, received.value);
  put(9, flushed.value);
  put(17, applied.value);
  put(25, static_cast<u64>(now_pg_micros));
  out[33] = reply_requested ? 1 : 0;
  return out;
}

i64 pg_epoch_micros_now() {
  // 2000-01-01 00:00:00 UTC is 946684800 s after the Unix epoch.
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return static_cast<i64>(us) - i64{946684800} * 1000000;
}

}  // namespace pgcutover::logical
