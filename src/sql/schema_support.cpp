// Statements of schema/ (see schema_support.hpp).
#include "pgcutover/sql/schema_support.hpp"

namespace pgcutover::sql::schema_support {

const char *types_used() {
  return "WITH RECURSIVE t(oid) AS ("
         " SELECT a.atttypid FROM pg_catalog.pg_attribute a"
         " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " JOIN unnest($1::text[], $2::text[]) AS u(s, r) ON n.nspname = u.s AND c.relname = u.r"
         " WHERE a.attnum > 0 AND NOT a.attisdropped"
         " UNION"
         " SELECT d.dep FROM t JOIN pg_catalog.pg_type ty ON ty.oid = t.oid CROSS JOIN LATERAL ("
         "  SELECT ty.typelem WHERE ty.typelem <> 0"
         "  UNION ALL SELECT ty.typbasetype WHERE ty.typbasetype <> 0"
         "  UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a WHERE ty.typtype = 'c' AND a.attrelid = ty.typrelid"
         "   AND a.attnum > 0 AND NOT a.attisdropped"
         "  UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = ty.oid) AS d(dep))"
         " SELECT n.nspname, ty.typname FROM t JOIN pg_catalog.pg_type ty ON ty.oid = t.oid"
         " JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace"
         " LEFT JOIN pg_catalog.pg_class rc ON rc.oid = ty.typrelid"
         " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
         " AND (ty.typtype IN ('e', 'd', 'r') OR (ty.typtype = 'c' AND rc.relkind = 'c'))"
         " ORDER BY 1, 2";
}

const char *types_missing() {
  return "SELECT u.s, u.r FROM unnest($1::text[], $2::text[]) AS u(s, r) WHERE NOT EXISTS ("
         " SELECT 1 FROM pg_catalog.pg_type ty JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace"
         " WHERE n.nspname = u.s AND ty.typname = u.r) ORDER BY 1, 2";
}

const char *schemas_missing() {
  return "SELECT DISTINCT u.s FROM unnest($1::text[]) AS u(s)"
         " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = u.s) ORDER BY 1";
}

const char *post_data_tables() {
  return "SELECT u.id, 'index', tn.nspname, t.relname, i.relname, NULL, NULL"
         " FROM unnest($1::int[], $2::oid[], $3::oid[]) AS u(id, cat, obj)"
         " JOIN pg_catalog.pg_class i ON u.cat = 'pg_catalog.pg_class'::pg_catalog.regclass AND i.oid = u.obj"
         " AND i.relkind = 'i'"
         " JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid"
         " JOIN pg_catalog.pg_class t ON t.oid = x.indrelid AND t.relkind = 'r'"
         " JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace"
         " UNION ALL"
         " SELECT u.id, CASE k.contype WHEN 'f' THEN 'foreign key' ELSE 'constraint' END, tn.nspname, t.relname,"
         " k.conname, rn.nspname, r.relname"
         " FROM unnest($1::int[], $2::oid[], $3::oid[]) AS u(id, cat, obj)"
         " JOIN pg_catalog.pg_constraint k ON u.cat = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND k.oid = u.obj"
         " AND k.contype IN ('p', 'u', 'x', 'f')"
         " JOIN pg_catalog.pg_class t ON t.oid = k.conrelid AND t.relkind = 'r'"
         " JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace"
         " LEFT JOIN pg_catalog.pg_class r ON r.oid = k.confrelid"
         " LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace"
         " WHERE k.contype <> 'f' OR r.relkind = 'r'"
         " ORDER BY 1";
}

const char *post_data_existing() {
  return "SELECT u.id FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, kind, s, t, n)"
         " WHERE (u.kind = 'index' AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
         "  JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = u.s AND c.relname = u.n))"
         " OR (u.kind IN ('constraint', 'foreign key') AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k"
         "  JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace"
         "  WHERE ns.nspname = u.s AND c.relname = u.t AND k.conname = u.n))"
         " ORDER BY 1";
}

}  // namespace pgcutover::sql::schema_support
