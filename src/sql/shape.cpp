// Statements of the shape checks (see shape.hpp).
#include "pgcutover/sql/shape.hpp"

namespace pgcutover::sql::shape {

const char *table_shapes() {
  return "SELECT n.nspname, c.relname, c.relkind::text, c.relispartition, "
         "pa.nspname, pa.relname "
         "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "JOIN unnest($1::text[], $2::text[]) AS u(s, t) ON n.nspname = u.s AND c.relname = u.t "
         "LEFT JOIN LATERAL (SELECT pn.nspname, p.relname FROM pg_catalog.pg_inherits i "
         "JOIN pg_catalog.pg_class p ON p.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace "
         "WHERE i.inhrelid = c.oid AND c.relispartition LIMIT 1) pa ON true "
         "WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')";
}

std::string column_kinds(int server_version) {
  return std::string("SELECT n.nspname, c.relname, a.attname, ") +
         (server_version >= 120000 ? "a.attgenerated <> ''" : "false") +
         " FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
         "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "JOIN unnest($1::text[], $2::text[]) AS u(s, t) ON n.nspname = u.s AND c.relname = u.t "
         "WHERE a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2, a.attnum";
}

const char *foreign_keys() {
  return "SELECT n.nspname, c.relname, k.conname, pn.nspname, p.relname "
         "FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
         "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "JOIN unnest($1::text[], $2::text[]) AS u(s, t) ON n.nspname = u.s AND c.relname = u.t "
         "JOIN pg_catalog.pg_class p ON p.oid = k.confrelid JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace "
         "WHERE k.contype = 'f' ORDER BY 1, 2, 3";
}

}  // namespace pgcutover::sql::shape
