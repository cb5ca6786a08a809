#pragma once
// One consistent point in time for the whole copy.
//
// SnapshotHolder opens a REPEATABLE READ transaction on its own connection,
// exports its snapshot and keeps the transaction open until destroyed: while
// it lives, any other session can adopt the same snapshot, so every reader
// sees the source as of one instant whatever writes go on meanwhile.
#include <string>

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
  int server_version = 0;
};

class SnapshotHolder {
 public:
  explicit SnapshotHolder(Connection conn);
  SnapshotHolder(const SnapshotHolder &) = delete;
  SnapshotHolder &operator=(const SnapshotHolder &) = delete;

  const SnapshotInfo &info() const { return info_; }
  // The holder's connection runs inside the snapshot: catalog reads and range
  // planning use it, so they see the same point in time as the readers.
  Connection &conn() { return conn_; }

 private:
  Connection conn_;
  SnapshotInfo info_;
};

// Starts a read-only REPEATABLE READ transaction on conn in the given snapshot.
void import_snapshot(Connection &conn, const std::string &snapshot_id);

}  // namespace pgcutover::pg
