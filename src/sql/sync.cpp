// Statements of sync/ (see sync.hpp).
#include "pgcutover/sql/sync.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::sync {

namespace {

// A point (ISO 8601 UTC) as a value comparable with a change column of this type.
std::string point_as(const std::string &column_type, const std::string &point_iso, const std::string &tz) {
  std::string point = quote_literal(point_iso) + "::timestamptz";
  if (column_type.rfind("timestamp without time zone", 0) == 0) return "(" + point + " AT TIME ZONE " + quote_literal(tz) + ")";
  if (column_type == "date") return "(" + point + " AT TIME ZONE " + quote_literal(tz) + ")::date";
  return point;
}

}  // namespace

std::string change_counts(const std::vector<ChangeCountItem> &items, const std::string &point_iso) {
  // A subquery per count: each is an index scan on its own condition (one
  // scan under an OR of them turns into a sequential scan on small tables).
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    const ChangeCountItem &it = items[i];
    std::string col = quote_ident(it.column);
    std::string nulls = it.unplaced && it.nullable ? fmt::format("(SELECT count(*) FROM ONLY {} WHERE {} IS NULL)", it.table, col) : "0::bigint";
    std::string later = it.unplaced ? fmt::format("(SELECT count(*) FROM ONLY {} WHERE {} > {})", it.table, col,
                                                  point_as(it.column_type, point_iso, it.source_time_zone))
                                    : "0::bigint";
    out += fmt::format("{}SELECT {}, (SELECT count(*) FROM ONLY {} WHERE {}), {}, {}", i ? " UNION ALL " : "", i,
                       it.table, it.filter, nulls, later);
  }
  return out;
}

std::string change_predicate(const std::string &column, const std::string &column_type, bool nullable,
                             const std::string &point_iso, const std::string &source_time_zone) {
  std::string pred = quote_ident(column) + " >= " + point_as(column_type, point_iso, source_time_zone);
  return nullable ? "(" + pred + " OR " + quote_ident(column) + " IS NULL)" : pred;
}

const char *session_default_time_zone() {
  return "SELECT reset_val FROM pg_catalog.pg_settings WHERE name = 'TimeZone'";
}

const char *check_time_zone() { return "SELECT pg_catalog.now() AT TIME ZONE $1"; }

const char *clock_step_back() {
  return "SELECT coalesce(max(o - later_min), 0)::float8 FROM ("
         "SELECT o, min(o) OVER (ORDER BY g ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS later_min FROM ("
         "SELECT g, EXTRACT(epoch FROM (g AT TIME ZONE $3) - (g AT TIME ZONE 'UTC')) AS o FROM ("
         "SELECT pg_catalog.generate_series($1::timestamptz, $2::timestamptz, interval '1 hour') AS g "
         "UNION ALL SELECT $2::timestamptz) s) x) y";
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

std::string largest_key(const QualifiedName &table, const std::string &key_column) {
  return fmt::format("SELECT (SELECT max({0}) FROM ONLY {1})::text, c.relkind::text FROM pg_catalog.pg_class c "
                     "WHERE c.oid = {2}::regclass",
                     quote_ident(key_column), table, quote_literal(table.quoted()));
}

std::string count_below(const QualifiedName &table, const std::string &filter, const std::string &key_column, i64 from) {
  return fmt::format("SELECT count(*) FROM ONLY {} WHERE ({}) AND {} < {}", table, filter, quote_ident(key_column), from);
}

std::string create_index_concurrently(const QualifiedName &table, const std::string &column) {
  return "CREATE INDEX CONCURRENTLY ON " + table.quoted() + " (" + quote_ident(column) + ")";
}

}  // namespace pgcutover::sql::sync
