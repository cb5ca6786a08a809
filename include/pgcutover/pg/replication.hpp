#pragma once
// A logical replication session on the source (follow mode, issue 25): a
// connection with replication=database that creates a pgoutput slot with an
// exported snapshot, then streams the slot's changes (COPY BOTH) and reports
// back how far they are safely stored.
//
// The exported snapshot is the point where the slot's stream begins: a copy
// that reads in it and the changes the slot sends after it meet exactly,
// neither losing nor repeating a transaction. It stays importable only while
// the session runs no other command, so the caller adopts it at once in a
// SnapshotHolder (adopt_snapshot), whose own export then serves the copy for
// as long as it runs, and the session is free to stream.
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::pg {

struct CreatedSlot {
  std::string name;
  logical::Lsn consistent_point;  // the stream's first change commits after it
  std::string snapshot;           // exported snapshot name
};

// A transaction the slot's creation waits for.
struct SlotBlocker {
  int pid = 0;  // 0: a prepared transaction
  std::string who;
  double age_s = 0;
  std::string query;
};

class ReplicationSession {
 public:
  // The conninfo with replication=database; settings as for any session.
  static ReplicationSession open(const std::string &conninfo, const SessionSettings &settings);

  ReplicationSession(ReplicationSession &&) noexcept;
  ReplicationSession &operator=(ReplicationSession &&) noexcept;
  ~ReplicationSession();

  Connection &conn() { return conn_; }
  int backend_pid() const;

  // Creates the slot. Its creation waits until every transaction that holds
  // an xid on the server (any database, prepared ones too) has ended; after
  // `wait` it is cancelled and the error names those transactions, read
  // through `observer` (an ordinary session on the same server). The slot is
  // not created then. Throws Error.
  CreatedSlot create_slot(const std::string &name, std::chrono::milliseconds wait, Connection &observer);

  // START_REPLICATION of the slot from `from` with pgoutput's options.
  void start(const std::string &slot, logical::Lsn from,
             const std::vector<std::pair<std::string, std::string>> &options);
  // The next CopyData message of the stream (valid until the next call),
  // waiting at most `wait`: nullopt when none came in time. Throws Error
  // (Transient) when the server ends the stream or the session.
  std::optional<std::span<const char>> next(std::chrono::milliseconds wait);
  // A Standby Status Update: received, flushed (durably stored: the server
  // may advance the slot's confirmed position to it) and applied positions.
  void send_status(logical::Lsn received, logical::Lsn flushed, logical::Lsn applied, bool reply_requested = false);

 private:
  explicit ReplicationSession(Connection conn) : conn_(std::move(conn)) {}
  void free_buffer();

  Connection conn_;
  char *buffer_ = nullptr;  // the last CopyData message (PQfreemem)
};

// Sessions of the source that would block a slot's creation now, oldest first.
std::vector<SlotBlocker> slot_creation_blockers(Connection &observer, int replication_pid);

}  // namespace pgcutover::pg
