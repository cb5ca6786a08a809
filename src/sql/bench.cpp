// Bench statements (see bench.hpp).
#include "pgcutover/sql/bench.hpp"

#include <fmt/format.h>

#include "pgcutover/util/error.hpp"

namespace pgcutover::sql::bench {

std::string create_schema(const std::string &schema) { return "CREATE SCHEMA IF NOT EXISTS " + quote_ident(schema); }
std::string drop_schema(const std::string &schema) { return "DROP SCHEMA IF EXISTS " + quote_ident(schema) + " CASCADE"; }

std::string create_like(const QualifiedName &scratch, const QualifiedName &model) {
  return fmt::format("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)", scratch, model);
}

std::string create_from_columns(const QualifiedName &scratch, const std::vector<std::string> &names,
                                const std::vector<std::string> &types, const std::vector<std::string> &key) {
  std::string cols;
  for (size_t i = 0; i < names.size(); ++i) cols += (i ? ", " : "") + quote_ident(names[i]) + " " + types[i];
  if (!key.empty()) cols += ", PRIMARY KEY (" + ident_list(key) + ")";
  return fmt::format("CREATE TABLE {} ({})", scratch, cols);
}

std::string set_compression(const QualifiedName &table, const std::string &column, const std::string &method) {
  if (method != "pglz" && method != "lz4") throw_usage("unknown TOAST compression '" + method + "'");
  return fmt::format("ALTER TABLE {} ALTER COLUMN {} SET COMPRESSION {}", table, quote_ident(column), method);
}

std::string thin_out(const QualifiedName &table, const std::vector<std::string> &key) {
  return fmt::format("DELETE FROM {} WHERE (pg_catalog.hashtext(ROW({})::text) & 15) = 0", table, ident_list(key));
}

std::string vacuum_analyze(const QualifiedName &table) { return fmt::format("VACUUM ANALYZE {}", table); }
std::string current_wal_lsn() { return "SELECT pg_catalog.pg_current_wal_lsn()::text"; }
std::string wal_bytes_since() {
  return "SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), $1::pg_lsn)::bigint";
}

}  // namespace pgcutover::sql::bench
