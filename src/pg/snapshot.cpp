#include "pgcutover/pg/snapshot.hpp"

#include <poll.h>

#include <algorithm>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/misc.hpp"
#include "pgcutover/sql/server.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

namespace {

// changes_from is only as good as what pg_stat_activity shows this role.
void warn_hidden_transactions(Connection &conn) {
  Result r = conn.exec(sql::server::hidden_transaction_starts());
  const i64 hidden = r.get_i64(0, 0);
  if (hidden == 0) return;
  log::warn("{}: the role {} cannot see when {} other session(s) on this database started their transactions "
            "(pg_stat_activity hides other roles' sessions): a long transaction among them that stamps rows with "
            "its start time could be missed by the next sync's change detection; GRANT pg_read_all_stats TO {}",
            conn.display_name(), r.get(0, 1), hidden, r.get(0, 1));
}

}  // namespace

SnapshotHolder::SnapshotHolder(Connection conn) : SnapshotHolder(std::move(conn), "", "") {}

SnapshotHolder::SnapshotHolder(Connection conn, const std::string &adopt_snapshot_id, const std::string &taken_before)
    : conn_(std::move(conn)) {
  conn_.exec(sql::server::begin_snapshot_read());
  if (!adopt_snapshot_id.empty()) conn_.exec(sql::server::set_transaction_snapshot(adopt_snapshot_id));
  Result r = conn_.exec(sql::server::export_snapshot(conn_.server_version()));
  info_.id = r.get(0, 0);
  info_.taken_at = r.get(0, 1);
  info_.xmin = r.get(0, 2);
  info_.xip = r.get(0, 3);
  info_.changes_from = r.get(0, 4);
  if (!r.is_null(0, 5)) {
    info_.changes_from_holder = r.get(0, 5);
    info_.changes_from_age_s = std::stod(std::string(r.get(0, 6)));
  }
  if (!taken_before.empty()) {  // the adopted snapshot is older than this export: as old as taken_before
    info_.taken_at = std::min(info_.taken_at, taken_before);  // same ISO 8601 UTC form: ordered as text
    info_.changes_from = std::min(info_.changes_from, taken_before);
  }
  info_.server_version = conn_.server_version();
  warn_hidden_transactions(conn_);
  info_.holder_pid = PQbackendPID(conn_.raw());
}

bool SnapshotHolder::lost() const noexcept {
  int fd = PQsocket(conn_.raw());
  if (fd < 0 || PQstatus(conn_.raw()) != CONNECTION_OK) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;  // readable (a FATAL, then EOF), or hung up / failed
}

void import_snapshot(Connection &conn, const SnapshotInfo &snapshot) {
  conn.exec(sql::server::begin_snapshot_read());
  try {
    conn.exec(sql::server::set_transaction_snapshot(snapshot.id));
  } catch (const Error &e) {
    // 22023 invalid_parameter_value: no exported snapshot of that id (any more).
    if (e.sqlstate == "22023") throw snapshot_lost(snapshot);
    throw;
  }
}

void import_snapshot(Connection &conn, const std::string &snapshot_id) {
  conn.exec(sql::server::begin_snapshot_read());
  conn.exec(sql::server::set_transaction_snapshot(snapshot_id));
}

void renew_snapshot(Connection &conn, const std::string &snapshot_id) {
  conn.exec(std::string("COMMIT; ") + sql::server::begin_snapshot_read() + "; " +
            sql::server::set_transaction_snapshot(snapshot_id));
}

SnapshotReader::SnapshotReader(Connection conn, const SnapshotInfo &snapshot)
    : conn_(std::move(conn)), snapshot_id_(snapshot.id) {
  import_snapshot(conn_, snapshot);
}

void SnapshotReader::between_tables() {
  if (++tables_ % RENEW_EVERY == 0) renew_snapshot(conn_, snapshot_id_);
}

void SnapshotReader::renew() {
  renew_snapshot(conn_, snapshot_id_);
  tables_ = 0;
}

std::vector<u32> rewritten_since_snapshot(Connection &conn, const std::vector<u32> &table_oids) {
  std::vector<std::string> oids;
  for (u32 o : table_oids) oids.push_back(std::to_string(o));
  Result r = conn.query(sql::misc::rewritten_since_snapshot(), {sql::array_literal(oids)});
  std::vector<u32> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(static_cast<u32>(r.get_i64(i, 0)));
  return out;
}

Error table_rewritten(const std::string &table, const std::string &what_was_kept) {
  return Error(ErrorKind::Permanent,
               table + " was truncated, rewritten (an ALTER TABLE that rewrites it: a column's type, a volatile "
                       "default, SET LOGGED/UNLOGGED) or dropped on the source after this run's snapshot; PostgreSQL "
                       "shows such a table as empty to an older snapshot, so " + what_was_kept,
               "rerun the same command: it takes a new snapshot");
}

const char *const RANGE_NOT_COMMITTED =
    "the read of this range saw it empty and nothing of the range was committed (ranges committed before keep the "
    "rows they read; rows deleted on the source since go with sync --deletes detect)";

void check_read_not_rewritten(Connection &conn, u32 table_oid, const std::string &table,
                              const std::string &what_was_kept) {
  if (rewritten_since_snapshot(conn, {table_oid}).empty()) return;
  throw table_rewritten(table, what_was_kept);
}

Error snapshot_lost(const SnapshotInfo &snapshot) {
  return Error(ErrorKind::Transient,
               "the source session holding the copy's snapshot " + snapshot.id + " (pid " +
                   std::to_string(snapshot.holder_pid) +
                   ") ended (its backend was terminated, the server restarted or the connection was lost): "
                   "no new range can read that point in time, so the run stopped after the ranges in flight",
               "rerun the same command to resume: finished ranges are kept, the rest are copied under a new "
               "snapshot, and each table's sync point is the earliest snapshot its ranges used");
}

}  // namespace pgcutover::pg
