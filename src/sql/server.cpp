// Statements of pg/ (see server.hpp).
#include "pgcutover/sql/server.hpp"

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::server {

const char *begin() { return "BEGIN"; }
const char *commit() { return "COMMIT"; }
const char *rollback() { return "ROLLBACK"; }
const char *begin_snapshot_read() { return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"; }

const char *lock_table_slots() {
  return "SELECT current_setting('max_locks_per_transaction')::bigint * "
         "(current_setting('max_connections')::bigint + current_setting('max_prepared_transactions')::bigint)";
}

std::string export_snapshot(int server_version) {
  // The fifth column: the start of the oldest other transaction open in this
  // database now (or now): a transaction that stamped its rows with now() at
  // its start and commits after this snapshot carries that earlier time.
  // Prepared transactions count from the time they were prepared (PostgreSQL
  // keeps no start time for them; the sync's --overlap covers the work
  // before PREPARE). Left out: the tool's own sessions (application_name
  // pgcutover), and backends that are not clients (autovacuum, WAL senders,
  // parallel workers, whose leader counts) or run a VACUUM (it writes no
  // rows). Sixth and seventh: what that oldest one is, and its age.
  const std::string iso = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";
  return "SELECT pg_catalog.pg_export_snapshot(), to_char(s.now AT TIME ZONE 'UTC', " + iso + "), " +
         (server_version >= 130000 ? "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text, "
                                     "pg_catalog.pg_current_snapshot()::text, "
                                   : "pg_catalog.txid_snapshot_xmin(pg_catalog.txid_current_snapshot())::text, "
                                     "pg_catalog.txid_current_snapshot()::text, ") +
         "to_char(LEAST(s.now, o.since) AT TIME ZONE 'UTC', " + iso + "), o.who, "
         "EXTRACT(epoch FROM s.now - o.since)::float8 "
         "FROM (SELECT pg_catalog.clock_timestamp() AS now) s LEFT JOIN LATERAL (SELECT since, who FROM ("
         "SELECT a.xact_start AS since, pg_catalog.format('session %s (%s@%s, application %L, %s)', a.pid, a.usename, "
         "coalesce(host(a.client_addr), 'local'), a.application_name, a.state) AS who "
         "FROM pg_catalog.pg_stat_activity a WHERE a.datname = pg_catalog.current_database() "
         "AND a.pid <> pg_catalog.pg_backend_pid() AND a.application_name <> 'pgcutover' AND a.xact_start IS NOT NULL "
         "AND a.backend_type = 'client backend' AND NOT (a.state = 'active' AND a.query ~* '^\\s*vacuum\\M') "
         "UNION ALL SELECT p.prepared, pg_catalog.format('prepared transaction %L (xid %s, owner %s)', p.gid, "
         "p.transaction, p.owner) FROM pg_catalog.pg_prepared_xacts p WHERE p.database = pg_catalog.current_database() "
         ") h ORDER BY since LIMIT 1) o ON true";
}

const char *hidden_transaction_starts() {
  return "SELECT count(*), current_user FROM pg_catalog.pg_stat_activity a "
         "WHERE a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid() "
         "AND a.query = '<insufficient privilege>'";
}

std::string set_transaction_snapshot(const std::string &snapshot_id) {
  return "SET TRANSACTION SNAPSHOT " + quote_literal(snapshot_id);
}

const char *lock_holders() {
  return "SELECT l.pid, a.usename, a.application_name, l.mode, left(a.query, 120), l.relation::regclass::text "
         "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
         "WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
         "current_database()) AND l.granted AND l.pid <> pg_catalog.pg_backend_pid() "
         "AND a.backend_type = 'client backend' AND l.relation >= 16384 "
         "AND ($1::text[] IS NULL OR l.relation IN (SELECT c.oid FROM pg_catalog.pg_class c "
         "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "JOIN unnest($1::text[], $2::text[]) AS u(s, t) ON n.nspname = u.s AND c.relname = u.t)) "
         "ORDER BY l.pid";
}

const char *cancel_backend() { return "SELECT pg_catalog.pg_cancel_backend($1::int)"; }

std::string lock_waits(int server_version) {
  // Since when the session waits: pg_locks.waitstart from 14 on, else the
  // statement's start. Relation extension and page locks are left out: they
  // are held for microseconds while parallel writers grow one table, not a
  // wait anybody should hear about.
  const std::string since = server_version >= 140000 ? "coalesce(l.waitstart, w.query_start)" : "w.query_start";
  return "SELECT w.pid, floor(extract(epoch FROM clock_timestamp() - " + since + "))::bigint, "
         "coalesce(pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), l.locktype), "
         "h.pid, coalesce(h.usename::text, ''), coalesce(h.application_name, ''), "
         "coalesce((SELECT string_agg(DISTINCT hl.mode, ', ') FROM pg_catalog.pg_locks hl WHERE hl.pid = h.pid "
         "AND hl.granted AND hl.locktype = l.locktype AND hl.relation IS NOT DISTINCT FROM l.relation "
         "AND hl.transactionid IS NOT DISTINCT FROM l.transactionid), '?'), "
         "coalesce(to_char(h.xact_start, 'HH24:MI:SS'), '?'), left(coalesce(h.query, ''), 200) "
         "FROM pg_catalog.pg_stat_activity w "
         "JOIN pg_catalog.pg_locks l ON l.pid = w.pid AND NOT l.granted AND l.locktype NOT IN ('extend', 'page') "
         "LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation "
         "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "CROSS JOIN LATERAL unnest(pg_catalog.pg_blocking_pids(w.pid)) AS b(pid) "
         "JOIN pg_catalog.pg_stat_activity h ON h.pid = b.pid "
         "WHERE w.datname = pg_catalog.current_database() AND w.application_name = $1 "
         "AND w.pid <> pg_catalog.pg_backend_pid() AND w.wait_event_type = 'Lock' "
         "AND clock_timestamp() - " + since + " >= $2::float8 * interval '1 second' "
         "ORDER BY w.pid, h.pid";
}

const char *writability() {
  return "SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('transaction_read_only')";
}

std::string may_set_replication_role(int server_version) {
  return std::string("SELECT r.rolsuper") +
         (server_version >= 150000 ? " OR pg_catalog.has_parameter_privilege('session_replication_role', 'SET')" : "") +
         " FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";
}

const char *tables_acting_on_writes() {
  // Aggregated once over pg_trigger and pg_constraint, then joined: a
  // subquery per table would scan pg_constraint per table (no index on
  // confrelid), quadratic in the number of tables.
  return "WITH trg AS (SELECT t.tgrelid, count(*) FILTER (WHERE t.tgenabled <> 'D') AS active, "
         "string_agg(t.tgname, ', ' ORDER BY t.tgname) FILTER (WHERE t.tgenabled = 'A') AS always "
         "FROM pg_catalog.pg_trigger t WHERE NOT t.tgisinternal GROUP BY t.tgrelid), "
         "fk AS (SELECT rel, count(*) AS n FROM ("
         "SELECT k.oid, k.conrelid AS rel FROM pg_catalog.pg_constraint k WHERE k.contype = 'f' "
         "UNION SELECT k.oid, k.confrelid FROM pg_catalog.pg_constraint k WHERE k.contype = 'f') e GROUP BY rel) "
         "SELECT n.nspname, c.relname, coalesce(trg.active, 0), coalesce(trg.always, ''), coalesce(fk.n, 0) "
         "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "LEFT JOIN trg ON trg.tgrelid = c.oid LEFT JOIN fk ON fk.rel = c.oid "
         "WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
         "ORDER BY 1, 2";
}

const char *database_identity() {
  return "SELECT pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE'), d.oid::text, d.datname "
         "FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()";
}

const char *system_identifier() { return "SELECT system_identifier::text FROM pg_catalog.pg_control_system()"; }

const char *server_address() { return "SELECT coalesce(pg_catalog.host(pg_catalog.inet_server_addr()), '')"; }

}  // namespace pgcutover::sql::server
