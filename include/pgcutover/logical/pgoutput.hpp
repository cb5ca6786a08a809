#pragma once
// The pgoutput logical replication protocol, decoded (issue 25: follow mode).
//
// A walsender running the pgoutput plugin sends, inside CopyData messages of
// START_REPLICATION, either keepalives ('k') or XLogData ('w') whose payload
// is one logical replication message; the SQL function
// pg_logical_slot_{get,peek}_binary_changes() returns the same payloads as
// bytea. Layouts ("Logical Replication Message Formats" and "Streaming
// Replication Protocol" in the PostgreSQL docs; every integer big-endian):
//
//   B  Begin          int64 final LSN, int64 commit time, int32 xid
//   C  Commit         int8 flags, int64 commit LSN, int64 end LSN, int64 commit time
//   O  Origin         int64 LSN, string name
//   R  Relation       [int32 xid] int32 oid, string namespace, string name,
//                     int8 replica identity, int16 columns, per column:
//                     int8 flags (1 = part of the key), string name, int32 type, int32 typmod
//   Y  Type           [int32 xid] int32 oid, string namespace, string name
//   I  Insert         [int32 xid] int32 oid, 'N', tuple
//   U  Update         [int32 xid] int32 oid, ['K' key tuple | 'O' old tuple], 'N', tuple
//   D  Delete         [int32 xid] int32 oid, 'K' key tuple | 'O' old tuple
//   T  Truncate       [int32 xid] int32 relations, int8 options (1 cascade, 2 restart
//                     identity), int32 oid per relation
//   M  Message        [int32 xid] int8 flags (1 = transactional), int64 LSN, string
//                     prefix, int32 length, bytes
//   S  Stream Start   int32 xid, int8 first segment (protocol 2+)
//   E  Stream Stop
//   c  Stream Commit  int32 xid, int8 flags, int64 commit LSN, int64 end LSN, int64 commit time
//   A  Stream Abort   int32 xid, int32 subtransaction xid
//                     [int64 abort LSN, int64 abort time: protocol 4 with parallel streaming]
//   tuple             int16 columns, per column a byte: 'n' NULL, 'u' unchanged TOAST
//                     value (not sent), 't' int32 length + text, 'b' int32 length +
//                     binary (with the option binary = true, 14+)
//   [int32 xid]       only between Stream Start and Stream Stop
//
// Decoded values point into the message's bytes: a Message lives no longer
// than the buffer it was decoded from.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pgcutover/util/types.hpp"

namespace pgcutover::logical {

// A WAL position. Text form as the server prints it: "16/B374D848".
struct Lsn {
  u64 value = 0;
  auto operator<=>(const Lsn &) const = default;
  std::string text() const;
  static Lsn parse(std::string_view text);  // throws a DataFormat Error on a malformed one
};

enum class ValueKind : char { Null = 'n', Unchanged = 'u', Text = 't', Binary = 'b' };
struct Value {
  ValueKind kind = ValueKind::Null;
  std::string_view bytes;  // Text and Binary only
};
using Tuple = std::vector<Value>;

struct RelationColumn {
  bool key = false;  // part of the replica identity
  std::string name;
  u32 type = 0;
  i32 typmod = -1;
};

struct Begin {
  Lsn final_lsn;
  i64 commit_time = 0;  // microseconds since 2000-01-01
  u32 xid = 0;
};
struct Commit {
  u8 flags = 0;
  Lsn commit_lsn, end_lsn;
  i64 commit_time = 0;
};
struct Origin {
  Lsn lsn;
  std::string name;
};
struct Relation {
  std::optional<u32> xid;  // set inside a streamed transaction
  u32 oid = 0;
  std::string nspname, relname;
  char replica_identity = 'd';  // pg_class.relreplident: d, n, f, i
  std::vector<RelationColumn> columns;
};
struct Type {
  std::optional<u32> xid;
  u32 oid = 0;
  std::string nspname, name;
};
struct Insert {
  std::optional<u32> xid;
  u32 relation = 0;
  Tuple row;
};
struct Update {
  std::optional<u32> xid;
  u32 relation = 0;
  char old_kind = 0;  // 0: no old tuple sent; 'K': the old key; 'O': the whole old row (REPLICA IDENTITY FULL)
  Tuple old_row;
  Tuple row;
};
struct Delete {
  std::optional<u32> xid;
  u32 relation = 0;
  char old_kind = 'K';  // 'K' or 'O', as for Update
  Tuple old_row;
};
struct Truncate {
  std::optional<u32> xid;
  u8 options = 0;  // 1 CASCADE, 2 RESTART IDENTITY
  std::vector<u32> relations;
};
struct LogicalMessage {
  std::optional<u32> xid;
  bool transactional = false;
  Lsn lsn;
  std::string prefix;
  std::string_view content;
};
struct StreamStart {
  u32 xid = 0;
  bool first_segment = false;
};
struct StreamStop {};
struct StreamCommit {
  u32 xid = 0;
  u8 flags = 0;
  Lsn commit_lsn, end_lsn;
  i64 commit_time = 0;
};
struct StreamAbort {
  u32 xid = 0;
  u32 subxid = 0;  // == xid when the whole transaction aborted
};

using Message = std::variant<Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate, LogicalMessage,
                             StreamStart, StreamStop, StreamCommit, StreamAbort>;

// Decodes one pgoutput message after another. It keeps one piece of state:
// whether it is between Stream Start and Stream Stop, where the messages
// carry their transaction's xid.
class Decoder {
 public:
  explicit Decoder(int protocol_version) : protocol_(protocol_version) {}

  // Throws a DataFormat Error naming what is wrong (an unknown message kind,
  // bytes cut short or left over).
  Message decode(std::span<const char> bytes);

  bool in_stream() const { return in_stream_; }

 private:
  int protocol_;
  bool in_stream_ = false;
};

// The message's one-letter kind, for errors and logs ("Insert").
const char *kind_name(const Message &m);

// --- The replication stream around the messages (CopyData of START_REPLICATION).

struct XLogData {
  Lsn start;       // WAL position of the payload
  Lsn server_end;  // the server's current end of WAL
  i64 send_time = 0;
  std::span<const char> payload;  // one pgoutput message
};
struct Keepalive {
  Lsn server_end;
  i64 send_time = 0;
  bool reply_requested = false;
};
using StreamMessage = std::variant<XLogData, Keepalive>;
StreamMessage decode_stream_message(std::span<const char> bytes);

// A Standby Status Update ('r'): what the client has received, flushed
// (made durable: the slot may move its confirmed position there) and applied.
std::string standby_status_update(Lsn received, Lsn flushed, Lsn applied, i64 now_pg_micros, bool reply_requested);

// Microseconds since 2000-01-01 (the server's epoch) of a system clock time.
i64 pg_epoch_micros_now();

}  // namespace pgcutover::logical
