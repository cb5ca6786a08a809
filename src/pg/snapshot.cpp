#include "pgcutover/pg/snapshot.hpp"

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::pg {

SnapshotHolder::SnapshotHolder(Connection conn) : conn_(std::move(conn)) {
  conn_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  bool modern = conn_.server_version() >= 130000;
  std::string sql = std::string("SELECT pg_catalog.pg_export_snapshot(), ") +
                    "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " +
                    (modern ? "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text, "
                              "pg_catalog.pg_current_snapshot()::text"
                            : "pg_catalog.txid_snapshot_xmin(pg_catalog.txid_current_snapshot())::text, "
                              "pg_catalog.txid_current_snapshot()::text");
  Result r = conn_.exec(sql);
  info_.id = r.get(0, 0);
  info_.taken_at = r.get(0, 1);
  info_.xmin = r.get(0, 2);
  info_.xip = r.get(0, 3);
  info_.server_version = conn_.server_version();
}

void import_snapshot(Connection &conn, const std::string &snapshot_id) {
  conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  conn.exec("SET TRANSACTION SNAPSHOT " + sql::quote_literal(snapshot_id));
}

}  // namespace pgcutover::pg
