#pragma once
// One consistent point in time for the whole copy.
//
// SnapshotHolder opens a REPEATABLE READ transaction on its own connection,
// exports its snapshot and keeps the transaction open until destroyed: while
// it lives, any other session can adopt the same snapshot, so every reader
// sees the source as of one instant whatever writes go on meanwhile.
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"

namespace pgcutover::pg {

struct SnapshotInfo {
  std::string id;          // pg_export_snapshot()
  std::string taken_at;    // clock_timestamp() when exported, ISO 8601 UTC
  std::string xmin;        // oldest transaction id still running then (txid form)
  std::string xip;         // the full txid snapshot text, for xmin-based change detection
  // The point a later sync must read change columns from: the start of the
  // oldest transaction open in the database at the snapshot (it may commit
  // rows stamped with its start time after the snapshot), else taken_at.
  std::string changes_from;
  // What holds changes_from back, when something does: the oldest open
  // transaction of another session (idle ones included: they can still
  // write) or prepared transaction, named, and its age in seconds at the
  // snapshot. Vacuum's own transactions and the tool's sessions are left out.
  std::string changes_from_holder;
  double changes_from_age_s = 0;
  int server_version = 0;
  int holder_pid = 0;      // the source backend holding the snapshot (pg_stat_activity.pid)
};

class SnapshotHolder {
 public:
  explicit SnapshotHolder(Connection conn);
  // Adopts a snapshot exported elsewhere (a replication slot's, importable
  // only until its session runs its next command) and exports it again,
  // so it stays importable for as long as this holder lives. taken_before:
  // a server time (ISO 8601 UTC, as taken_at) read before that snapshot was
  // taken, the latest a later sync may read change columns from.
  SnapshotHolder(Connection conn, const std::string &adopt_snapshot_id, const std::string &taken_before);
  SnapshotHolder(const SnapshotHolder &) = delete;
  SnapshotHolder &operator=(const SnapshotHolder &) = delete;

  const SnapshotInfo &info() const { return info_; }
  // The holder's connection runs inside the snapshot. Its transaction lasts
  // the whole run, and so does every lock taken in it: reads of the source's
  // catalogs may use it, reads of its tables (one after another) go through a
  // SnapshotReader, which lets their locks go.
  Connection &conn() { return conn_; }

  // True when the holder's session is gone (its backend terminated, the
  // server down, the link dead as TCP keepalives tell): idle in its
  // transaction, the session hears nothing from its server unless the server
  // ends it. Only while no thread uses conn(): a watcher calls it during the
  // data phase, when the holder waits. Never throws.
  bool lost() const noexcept;

 private:
  Connection conn_;
  SnapshotInfo info_;
};

// A session reading table after table in an exported snapshot (planning
// ranges, change detection, sequences): it imports the snapshot, and every
// RENEW_EVERY tables renews it (see renew_snapshot), so it holds the locks of
// a few tables at a time, not of every table of the database.
// Tables (by oid) rewritten, truncated or dropped on the source after the
// snapshot `conn` reads in. PostgreSQL shows such a table as empty to an
// older snapshot (TRUNCATE and the rewriting forms of ALTER TABLE are not
// MVCC-safe): a read of it in this snapshot is not the table as it was.
std::vector<u32> rewritten_since_snapshot(Connection &conn, const std::vector<u32> &table_oids);
// The error for such a table: nothing of it is kept from this run.
Error table_rewritten(const std::string &table, const std::string &what_was_kept);
// After a read of one table in `conn`'s snapshot, in the same transaction
// (whose lock on the table keeps it from being rewritten until it ends):
// throws table_rewritten when the read saw the table's storage as replaced
// since the snapshot, i.e. empty. what_was_kept as for table_rewritten.
void check_read_not_rewritten(Connection &conn, u32 table_oid, const std::string &table,
                              const std::string &what_was_kept);
// What a copy or sync range keeps when its read is found so.
extern const char *const RANGE_NOT_COMMITTED;

class SnapshotReader {
 public:
  static constexpr int RENEW_EVERY = 32;
  SnapshotReader(Connection conn, const SnapshotInfo &snapshot);
  Connection &conn() { return conn_; }
  // After a table's statements.
  void between_tables();
  // Now (after a batch of tables read by one statement), and the count starts over.
  void renew();

 private:
  Connection conn_;
  std::string snapshot_id_;
  int tables_ = 0;
};

// Starts a read-only REPEATABLE READ transaction on conn in the given snapshot.
// When the snapshot can no longer be imported (its holder is gone), throws
// snapshot_lost() instead of the server's bare "invalid snapshot identifier".
void import_snapshot(Connection &conn, const SnapshotInfo &snapshot);
// The same by id, with the server's own error when the import fails.
void import_snapshot(Connection &conn, const std::string &snapshot_id);
// Ends conn's transaction in the snapshot, and with it every lock it took,
// and starts another in the same snapshot (one round trip). A session that
// reads table after table in one snapshot renews it between them: locks are
// held until a transaction ends, and the server's lock table is sized by
// max_locks_per_transaction for all sessions together, so one transaction
// that reads thousands of tables (and their indexes) runs it out. Throws
// like import_snapshot (the holder is gone).
void renew_snapshot(Connection &conn, const std::string &snapshot_id);

// The error that ends a run whose snapshot holder is gone: what happened,
// and that a rerun resumes.
Error snapshot_lost(const SnapshotInfo &snapshot);

}  // namespace pgcutover::pg
