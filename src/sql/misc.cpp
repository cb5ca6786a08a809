// Small helpers of the commands (see misc.hpp).
#include "pgcutover/sql/misc.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::misc {

std::string table_exists() { return "SELECT pg_catalog.to_regclass($1) IS NOT NULL"; }
std::string minus_ms() {
  return "SELECT to_char(($1::timestamptz - $2::bigint * interval '1 millisecond') AT TIME ZONE 'UTC', "
         "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}
std::string xid_age() { return "SELECT pg_catalog.age(($1::bigint % 4294967296)::text::xid)"; }

const char *rewritten_since_snapshot() {
  return "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = ANY ($1::oid[]) AND c.relfilenode <> 0 "
         "AND pg_catalog.pg_relation_filenode(c.oid) IS DISTINCT FROM c.relfilenode";
}
std::string analyze(const QualifiedName &table) { return fmt::format("ANALYZE {}", table); }
std::string reset_search_path() { return "RESET search_path"; }
std::string begin_read_only() { return "BEGIN READ ONLY"; }
std::string rollback() { return "ROLLBACK"; }

std::string durable_commit() { return "BEGIN; SELECT txid_current(); COMMIT"; }

std::string lz4_available() {
  return "SELECT coalesce(bool_or('lz4' = ANY (enumvals)), false) FROM pg_catalog.pg_settings "
         "WHERE name = 'default_toast_compression'";
}

}  // namespace pgcutover::sql::misc
