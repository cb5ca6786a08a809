#include "pgcutover/pg/snapshot.hpp"

#include "pgcutover/sql/server.hpp"

namespace pgcutover::pg {

SnapshotHolder::SnapshotHolder(Connection conn) : conn_(std::move(conn)) {
  conn_.exec(sql::server::begin_snapshot_read());
  Result r = conn_.exec(sql::server::export_snapshot(conn_.server_version()));
  info_.id = r.get(0, 0);
  info_.taken_at = r.get(0, 1);
  info_.xmin = r.get(0, 2);
  info_.xip = r.get(0, 3);
  info_.changes_from = r.get(0, 4);
  info_.server_version = conn_.server_version();
}

void import_snapshot(Connection &conn, const std::string &snapshot_id) {
  conn.exec(sql::server::begin_snapshot_read());
  conn.exec(sql::server::set_transaction_snapshot(snapshot_id));
}

}  // namespace pgcutover::pg
