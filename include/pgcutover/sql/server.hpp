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
// -> the server's lock table size: max_locks_per_transaction x (max_connections
// + max_prepared_transactions), the locks all sessions together can hold.
const char *lock_table_slots();
// -> snapshot id, clock_timestamp ISO 8601 UTC, xmin (txid text), the txid
// snapshot text. pg_current_snapshot() from 13 on, txid_current_snapshot() before.
std::string export_snapshot(int server_version);
// -> how many other sessions on this database the role cannot see the
// transaction start of (pg_stat_activity shows other roles' sessions only to
// superusers and members of pg_read_all_stats), current_user.
const char *hidden_transaction_starts();
std::string set_transaction_snapshot(const std::string &snapshot_id);

// Other sessions holding a granted lock on one of the tables given by $1
// (text[] of schemas) and $2 (text[] of names, same order; both NULL = any
// user table): pid, user, application, mode, query, table.
const char *lock_holders();
// $1 application_name, $2 seconds -> one row per (waiting session of that
// application, session blocking it) where the statement has waited on a lock
// for at least $2 s: waiter pid, seconds waited, what it waits for (table or
// lock type), holder pid, user, application, modes held, since (its
// transaction's start, HH24:MI:SS), query (first 200 characters).
std::string lock_waits(int server_version);
const char *cancel_backend();  // $1 pid

// -> in recovery (bool), transaction_read_only ("on"/"off").
const char *writability();

// -> whether the current role may SET session_replication_role: a superuser,
// or from 15 on a role granted SET on the parameter.
std::string may_set_replication_role(int server_version);

// User tables of the target with what makes a writer act on its own: user
// triggers (enabled), ENABLE ALWAYS triggers, foreign keys (either side).
// -> schema, name, user trigger count, always-trigger names (text, comma
// separated, "" for none), foreign key count.
const char *tables_acting_on_writes();

// Which database a session is in, whatever host name reached it: -> whether
// the role may execute pg_control_system() (bool), the database's oid (text),
// its name.
const char *database_identity();
// -> the cluster's system identifier (text), from pg_control_system().
const char *system_identifier();
// -> the server's address on this connection (host(inet_server_addr())), ""
// over a Unix socket.
const char *server_address();

}  // namespace pgcutover::sql::server
