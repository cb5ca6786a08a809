#pragma once
// Statements of pg/: transaction control, snapshot export and import, and
// server state for diagnostics (lock holders, writability).
#include <string>

namespace pgcutover::sql::server {

const char *begin();
const char *commit();
const char *rollback();
// The snapshot readers' transaction: REPEATABLE READ READ ONLY.
const char *begin_snapshot_read();
// -> snapshot id, clock_timestamp ISO 8601 UTC, xmin (txid text), the txid
// snapshot text. pg_current_snapshot() from 13 on, txid_current_snapshot() before.
std::string export_snapshot(int server_version);
std::string set_transaction_snapshot(const std::string &snapshot_id);

// Other sessions holding a granted lock on one of the tables given by $1
// (text[] of schemas) and $2 (text[] of names, same order; both NULL = any
// user table): pid, user, application, mode, query, table.
const char *lock_holders();

// -> in recovery (bool), transaction_read_only ("on"/"off").
const char *writability();

}  // namespace pgcutover::sql::server
