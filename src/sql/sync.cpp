// Statements of sync/ (see sync.hpp).
#include "pgcutover/sql/sync.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::sync {

std::string since_predicate(const std::string &column, const std::string &point_iso) {
  return quote_ident(column) + " >= " + quote_literal(point_iso) + "::timestamptz";
}

std::string xmin_predicate(const std::string &txid) {
  // A 64-bit txid's low 32 bits are its xid; age() counts back from the
  // current xid modulo 2^32, so it stays right across wraparound while the
  // point is less than 2^31 transactions old (callers check that).
  unsigned long long v = std::stoull(txid);
  return "pg_catalog.age(xmin) <= pg_catalog.age(" + quote_literal(std::to_string(v % 4294967296ULL)) + "::xid)";
}

std::string add_column(const QualifiedName &table, const std::string &column, const std::string &type,
                       const std::string &default_expr, bool not_null) {
  std::string out = fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, quote_ident(column), type);
  if (!default_expr.empty()) out += " DEFAULT " + default_expr;
  if (not_null) out += " NOT NULL";
  return out;
}

std::string count_where(const QualifiedName &table, const std::string &filter) {
  return fmt::format("SELECT count(*) FROM ONLY {} WHERE {}", table, filter);
}

std::string create_index_concurrently(const QualifiedName &table, const std::string &column) {
  return "CREATE INDEX CONCURRENTLY ON " + table.quoted() + " (" + quote_ident(column) + ")";
}

}  // namespace pgcutover::sql::sync
