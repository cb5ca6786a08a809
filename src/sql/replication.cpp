// Statements of logical replication (see replication.hpp).
#include "pgcutover/sql/replication.hpp"

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::replication {

const char *identify_system() { return "IDENTIFY_SYSTEM"; }

std::string create_logical_slot(const std::string &slot) {
  return "CREATE_REPLICATION_SLOT " + quote_ident(slot) + " LOGICAL pgoutput EXPORT_SNAPSHOT";
}

std::string drop_slot(const std::string &slot) { return "DROP_REPLICATION_SLOT " + quote_ident(slot); }

std::string start_logical(const std::string &slot, const std::string &lsn,
                          const std::vector<std::pair<std::string, std::string>> &options) {
  std::string s = "START_REPLICATION SLOT " + quote_ident(slot) + " LOGICAL " + lsn;
  if (!options.empty()) {
    s += " (";
    for (size_t i = 0; i < options.size(); ++i) {
      if (i) s += ", ";
      s += quote_ident(options[i].first) + " " + quote_literal(options[i].second);
    }
    s += ")";
  }
  return s;
}

std::string publication_names(const std::vector<std::string> &names) {
  std::string s;
  for (const auto &n : names) {
    if (!s.empty()) s += ",";
    s += quote_ident(n);
  }
  return s;
}

const char *slot_creation_blockers() {
  // A logical slot's creation waits until every transaction that had an xid
  // when it started has ended, in every database of the server (the running
  // transactions record is server-wide), prepared ones included.
  return "SELECT a.pid, pg_catalog.format('session %s (%s@%s, database %s, application %L, %s)', a.pid, a.usename, "
         "coalesce(host(a.client_addr), 'local'), a.datname, a.application_name, a.state), "
         "coalesce(EXTRACT(epoch FROM pg_catalog.clock_timestamp() - a.xact_start), 0)::float8, "
         "coalesce(left(a.query, 200), '') "
         "FROM pg_catalog.pg_stat_activity a WHERE a.backend_xid IS NOT NULL AND a.pid <> $1::int "
         "AND a.pid <> pg_catalog.pg_backend_pid() "
         "UNION ALL SELECT 0, pg_catalog.format('prepared transaction %L (xid %s, owner %s, database %s)', p.gid, "
         "p.transaction, p.owner, p.database), EXTRACT(epoch FROM pg_catalog.clock_timestamp() - p.prepared)::float8, '' "
         "FROM pg_catalog.pg_prepared_xacts p ORDER BY 3 DESC";
}

const char *follow_preflight() {
  return "SELECT pg_catalog.current_setting('wal_level'), "
         "pg_catalog.current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_catalog.pg_replication_slots), "
         "pg_catalog.current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_catalog.pg_stat_replication), "
         "r.rolreplication OR r.rolsuper, "
         "pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE'), r.rolsuper, r.rolname::text "
         "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";
}

std::string slot_health(int server_version) {
  const bool v13 = server_version >= 130000;
  return std::string("SELECT active, restart_lsn::text, confirmed_flush_lsn::text, "
                     "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, ") +
         (v13 ? "wal_status, safe_wal_size" : "NULL::text, NULL::bigint") +
         ", active_pid, pg_current_wal_lsn()::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1";
}

}  // namespace pgcutover::sql::replication
