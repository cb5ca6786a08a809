// Catalog introspection queries (see catalog.hpp).
#include "pgcutover/sql/catalog.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::catalog {

namespace {

// Sizes are current, the rows as of the reader's snapshot: a table dropped or
// rewritten since (its TOAST table replaced) has no size, read as 0; the
// range that reads it finds out (pg::check_read_not_rewritten).
constexpr const char *TABLES_SQL = R"SQL(
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relispartition,
       coalesce(pg_relation_size(c.oid), 0) AS heap_bytes,
       CASE WHEN c.reltoastrelid = 0 THEN 0 ELSE coalesce(pg_total_relation_size(c.reltoastrelid), 0) END AS toast_bytes,
       c.reltuples::float8, c.relpages::int8,
       EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid) AS has_children,
       (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno LIMIT 1) AS parent,
       c.relreplident::text, c.relpersistence::text,
       (SELECT ic.relname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
         WHERE x.indrelid = c.oid AND x.indisreplident) AS identity_index,
       pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owned
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname <> ALL ($1::text[])
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp)'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY n.nspname, c.relname
)SQL";

// How a collation orders text, as "provider/locale/version": the same text
// on two servers means the same order (a version the server does not record
// -- libc before 13, a database default before 15 -- is left empty, and an
// empty version never counts as the same; a nondeterministic collation gets
// "/nondeterministic"). Columns that may not exist in older catalogs are read
// through to_jsonb.
constexpr const char *DEFAULT_ORDER_SQL =
    "coalesce(pg_catalog.to_jsonb(db)->>'datlocprovider', 'c') || '/' || "
    "CASE coalesce(pg_catalog.to_jsonb(db)->>'datlocprovider', 'c') WHEN 'c' THEN db.datcollate "
    "ELSE coalesce(pg_catalog.to_jsonb(db)->>'datlocale', pg_catalog.to_jsonb(db)->>'daticulocale', '') END || '/' || "
    "coalesce(pg_catalog.to_jsonb(db)->>'datcollversion', '')";
constexpr const char *NAMED_ORDER_SQL =
    "co.collprovider::text || '/' || "
    "CASE co.collprovider WHEN 'c' THEN co.collcollate "
    "ELSE coalesce(pg_catalog.to_jsonb(co)->>'colllocale', pg_catalog.to_jsonb(co)->>'colliculocale', co.collcollate, '') "
    "END || '/' || coalesce(co.collversion, '') || "
    "CASE WHEN coalesce((pg_catalog.to_jsonb(co)->>'collisdeterministic')::boolean, true) THEN '' "
    "ELSE '/nondeterministic' END";

// needs_text: the type, through any domains, is composite, or an array whose
// element is user-defined (OID >= 16384, FirstNormalObjectId) or composite.
// Those binary forms carry type OIDs that differ between databases.
// collatable / c_order / default_collation: the column has a collation, that
// collation sorts bytewise (libc "C" or "POSIX", the database's own when the
// column uses the default), and it is the database default. to_jsonb reads
// datlocprovider where the server has it (PostgreSQL 15 and later).
// base_oid / base_typtype / elem_oid / elem_typtype: the type under its
// domains and, for an array, its element: what version checks and
// version-stable comparisons look at. no_binary_io: the first type the
// column's binary form would go through (the type itself, a domain's base, an
// element, a composite's field, a range's subtype, a multirange's range) that
// has no send or receive function (aclitem; user base types declared without
// them), "" if none: such a column only has a text form. Generated columns (attgenerated, 12+)
// are left out; before 12 there are none. {generated} is filled per version.
constexpr const char *COLUMNS_SQL = R"SQL(
WITH RECURSIVE cols AS (
  SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.atthasdef,
         pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expr, a.attcollation
    FROM pg_catalog.pg_attribute a
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped{generated}
), dom(start_oid, oid, depth) AS (
  SELECT DISTINCT atttypid, atttypid, 0 FROM cols
  UNION ALL
  SELECT d.start_oid, t.typbasetype, d.depth + 1
    FROM dom d JOIN pg_catalog.pg_type t ON t.oid = d.oid
   WHERE t.typtype = 'd'
), base AS (
  SELECT DISTINCT ON (start_oid) start_oid, oid AS base_oid FROM dom ORDER BY start_oid, depth DESC
), io(start_oid, oid) AS (
  SELECT DISTINCT atttypid, atttypid FROM cols
  UNION
  SELECT io.start_oid, d.dep
    FROM io JOIN pg_catalog.pg_type t ON t.oid = io.oid
   CROSS JOIN LATERAL (
     SELECT t.typbasetype WHERE t.typtype = 'd'
     UNION ALL SELECT t.typelem WHERE t.typelem <> 0
     UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
                WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
     UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid{multirange}
   ) AS d(dep)
), no_binary AS (
  SELECT DISTINCT ON (io.start_oid) io.start_oid, pg_catalog.format_type(t.oid, NULL) AS type_name
    FROM io JOIN pg_catalog.pg_type t ON t.oid = io.oid
   WHERE t.typsend::oid = 0 OR t.typreceive::oid = 0
   ORDER BY io.start_oid, t.oid
)
SELECT c.attrelid, c.attname, pg_catalog.format_type(c.atttypid, c.atttypmod), c.atttypid, c.attnotnull, c.atthasdef,
       (bt.typtype = 'c'
        OR (bt.typcategory = 'A' AND bt.typelem <> 0
            AND (bt.typelem >= 16384 OR et.typtype IN ('c', 'd')))) AS needs_text,
       c.default_expr,
       c.attcollation <> 0 AS collatable,
       CASE WHEN c.attcollation = 0 THEN false
            WHEN c.attcollation = 100 THEN
              (SELECT coalesce(pg_catalog.to_jsonb(db)->>'datlocprovider', 'c') = 'c' AND db.datcollate IN ('C', 'POSIX')
                 FROM pg_catalog.pg_database db WHERE db.datname = pg_catalog.current_database())
            ELSE (SELECT co.collprovider = 'c' AND co.collcollate IN ('C', 'POSIX')
                    FROM pg_catalog.pg_collation co WHERE co.oid = c.attcollation)
       END AS c_order,
       c.attcollation = 100 AS default_collation,
       bt.oid AS base_oid, bt.typtype::text AS base_typtype,
       coalesce(et.oid, 0) AS elem_oid, coalesce(et.typtype::text, '') AS elem_typtype,
       coalesce(nb.type_name, '') AS no_binary_io,
       CASE WHEN c.attcollation = 0 THEN ''
            WHEN c.attcollation = 100 THEN
              (SELECT {default_order} FROM pg_catalog.pg_database db WHERE db.datname = pg_catalog.current_database())
            ELSE (SELECT {named_order} FROM pg_catalog.pg_collation co WHERE co.oid = c.attcollation)
       END AS collation_order
  FROM cols c
  JOIN base b ON b.start_oid = c.atttypid
  LEFT JOIN no_binary nb ON nb.start_oid = c.atttypid
  JOIN pg_catalog.pg_type bt ON bt.oid = b.base_oid
  LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem
 ORDER BY c.attrelid, c.attnum
)SQL";

// The first column of every valid index: a range condition on it can use the index.
constexpr const char *INDEX_LEADS_SQL = R"SQL(
SELECT x.indrelid, a.attname
  FROM pg_catalog.pg_index x
  JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
 WHERE x.indrelid = ANY ($1::oid[]) AND x.indisvalid AND x.indpred IS NULL
)SQL";

// The key of each table: its primary key, else (as logical replication's
// REPLICA IDENTITY USING INDEX takes one) a unique index that can stand for
// it: valid, immediate (an ON CONFLICT arbiter), neither partial nor on
// expressions, every key column NOT NULL; the one with the fewest columns,
// then the oldest. Its key columns are the first indnkeyatts of indkey: the
// INCLUDE columns after them (11+) are carried by the index but are no part
// of the key: no ON CONFLICT, range or key comparison may name them.
// -> table oid, column, type, index name, whether it is the primary key,
// whether it is deferrable (a primary key may be).
constexpr const char *KEYS_SQL = R"SQL(
WITH usable AS (
  SELECT x.indrelid, x.indexrelid, x.indisprimary, x.indimmediate, x.indkey, {key_columns} AS nkey
    FROM pg_catalog.pg_index x
   WHERE x.indrelid = ANY ($1::oid[])
     AND (x.indisprimary
          OR (x.indisunique AND x.indisvalid AND x.indimmediate AND x.indpred IS NULL AND x.indexprs IS NULL
              AND NOT EXISTS (SELECT 1 FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                               WHERE k.ord <= {key_columns} AND (k.attnum <= 0 OR NOT coalesce(a.attnotnull, false)))))
), chosen AS (
  SELECT DISTINCT ON (indrelid) * FROM usable ORDER BY indrelid, indisprimary DESC, nkey, indexrelid
)
SELECT c.indrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), ic.relname, c.indisprimary,
       NOT c.indimmediate
  FROM chosen c
  JOIN pg_catalog.pg_class ic ON ic.oid = c.indexrelid
  CROSS JOIN LATERAL unnest(c.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.indrelid AND a.attnum = k.attnum
 WHERE k.ord <= c.nkey
 ORDER BY c.indrelid, k.ord
)SQL";

// Sequences with their parameters and every column they feed: owned (serial,
// deptype 'a'), identity (deptype 'i'), or named in a column default
// (pg_attrdef depends on it; several tables may share one). One row per fed
// column, or one row with NULLs for a sequence that feeds none.
constexpr const char *SEQUENCES_SQL = R"SQL(
WITH feeds AS (
  SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS attnum, true AS owns
    FROM pg_catalog.pg_depend d
   WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
     AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
  UNION
  SELECT d.refobjid, ad.adrelid, ad.adnum, false
    FROM pg_catalog.pg_attrdef ad
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::regclass AND d.objid = ad.oid
                               AND d.refclassid = 'pg_catalog.pg_class'::regclass
)
SELECT sn.nspname, s.relname, tn.nspname, t.relname, a.attname, pg_catalog.format_type(sq.seqtypid, NULL),
       sq.seqincrement, sq.seqmin, sq.seqmax, sq.seqcycle, f.owns
  FROM pg_catalog.pg_class s
  JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_catalog.pg_sequence sq ON sq.seqrelid = s.oid
  LEFT JOIN feeds f ON f.seq = s.oid
  LEFT JOIN pg_catalog.pg_class t ON t.oid = f.rel
  LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.attnum
 WHERE s.relkind = 'S' AND sn.nspname <> ALL ($1::text[])
   AND sn.nspname NOT IN ('pg_catalog', 'information_schema') AND sn.nspname !~ '^pg_(toast|temp)'
 ORDER BY 1, 2, 3, 4, 5
)SQL";

}  // namespace

const char *tables() { return TABLES_SQL; }

const char *missing_tables() {
  return "SELECT u.s, u.n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(s, n, i) "
         "WHERE u.s = ANY ($3::text[]) OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
         "JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace "
         "WHERE ns.nspname = u.s AND c.relname = u.n AND c.relkind IN ('r', 'p') "
         "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass "
         "AND d.objid = c.oid AND d.deptype = 'e')) ORDER BY u.i";
}
std::string columns(int server_version) {
  std::string sql = COLUMNS_SQL;
  const std::string slot = "{generated}";
  sql.replace(sql.find(slot), slot.size(), server_version >= 120000 ? " AND a.attgenerated = ''" : "");
  const std::string multi = "{multirange}";
  sql.replace(sql.find(multi), multi.size(),
              server_version >= 140000
                  ? "\n     UNION ALL SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid"
                  : "");
  for (const auto &[slot_name, text] : {std::pair<std::string, const char *>{"{default_order}", DEFAULT_ORDER_SQL},
                                        {"{named_order}", NAMED_ORDER_SQL}})
    sql.replace(sql.find(slot_name), slot_name.size(), text);
  return sql;
}

std::string default_collation_order() {
  return fmt::format("SELECT {} FROM pg_catalog.pg_database db WHERE db.datname = pg_catalog.current_database()",
                     DEFAULT_ORDER_SQL);
}

const char *types_present() { return "SELECT t.oid FROM pg_catalog.pg_type t WHERE t.oid = ANY ($1::oid[])"; }
const char *index_leads() { return INDEX_LEADS_SQL; }
std::string index_key_columns(int server_version) {
  return server_version >= 110000 ? "x.indnkeyatts" : "x.indnatts";
}

std::string primary_keys(int server_version) {
  std::string sql = KEYS_SQL;
  const std::string slot = "{key_columns}";
  for (size_t at = sql.find(slot); at != std::string::npos; at = sql.find(slot, at))
    sql.replace(at, slot.size(), index_key_columns(server_version));
  return sql;
}
const char *sequences() { return SEQUENCES_SQL; }

std::string read_sequence(const QualifiedName &sequence) {
  return fmt::format("SELECT last_value, is_called FROM {}", sequence);
}

std::string any_row(const QualifiedName &table) { return fmt::format("SELECT 1 FROM ONLY {} LIMIT 1", table); }

const char *default_collation_is_c() {
  return "SELECT coalesce(pg_catalog.to_jsonb(db)->>'datlocprovider', 'c') = 'c' AND db.datcollate IN ('C', 'POSIX') "
         "FROM pg_catalog.pg_database db WHERE db.datname = pg_catalog.current_database()";
}

const char *table_exists() {
  return "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = $1 AND c.relname = $2)";
}

}  // namespace pgcutover::sql::catalog
