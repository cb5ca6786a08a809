// Catalog introspection. Every query reads pg_catalog only (no
// information_schema: it hides objects the user does not own and is slow), and
// works on PostgreSQL 10 and later. Names come back raw; sizes come from
// pg_relation_size (heap) and the TOAST relation's total size, so a table with
// a small heap and a huge TOAST still counts as large.
#include "pgcutover/catalog/catalog.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "pgcutover/util/error.hpp"

namespace pgcutover::catalog {

namespace {

constexpr const char *TABLES_SQL = R"SQL(
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relispartition,
       pg_relation_size(c.oid) AS heap_bytes,
       CASE WHEN c.reltoastrelid = 0 THEN 0 ELSE pg_total_relation_size(c.reltoastrelid) END AS toast_bytes,
       c.reltuples::float8, c.relpages::int8,
       EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid) AS has_children,
       (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno LIMIT 1) AS parent
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

// needs_text: the type, through any domains, is composite, or an array whose
// element is user-defined (OID >= 16384, FirstNormalObjectId) or composite.
// Those binary forms carry type OIDs that differ between databases.
constexpr const char *COLUMNS_SQL = R"SQL(
WITH RECURSIVE cols AS (
  SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.atthasdef,
         pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expr
    FROM pg_catalog.pg_attribute a
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
), dom(start_oid, oid, depth) AS (
  SELECT DISTINCT atttypid, atttypid, 0 FROM cols
  UNION ALL
  SELECT d.start_oid, t.typbasetype, d.depth + 1
    FROM dom d JOIN pg_catalog.pg_type t ON t.oid = d.oid
   WHERE t.typtype = 'd'
), base AS (
  SELECT DISTINCT ON (start_oid) start_oid, oid AS base_oid FROM dom ORDER BY start_oid, depth DESC
)
SELECT c.attrelid, c.attname, pg_catalog.format_type(c.atttypid, c.atttypmod), c.atttypid, c.attnotnull, c.atthasdef,
       (bt.typtype = 'c'
        OR (bt.typcategory = 'A' AND bt.typelem <> 0
            AND (bt.typelem >= 16384 OR et.typtype IN ('c', 'd')))) AS needs_text,
       c.default_expr
  FROM cols c
  JOIN base b ON b.start_oid = c.atttypid
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

constexpr const char *KEYS_SQL = R"SQL(
SELECT x.indrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
  FROM pg_catalog.pg_index x
  CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
 WHERE x.indisprimary AND x.indrelid = ANY ($1::oid[])
 ORDER BY x.indrelid, k.ord
)SQL";

// Sequences with the table and column they feed: owned (serial, deptype 'a'),
// identity (deptype 'i'), or named in a column default (pg_attrdef depends on it).
constexpr const char *SEQUENCES_SQL = R"SQL(
WITH feeds AS (
  SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS attnum
    FROM pg_catalog.pg_depend d
   WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
     AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
  UNION
  SELECT d.refobjid, ad.adrelid, ad.adnum
    FROM pg_catalog.pg_attrdef ad
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::regclass AND d.objid = ad.oid
                               AND d.refclassid = 'pg_catalog.pg_class'::regclass
)
SELECT sn.nspname, s.relname, tn.nspname, t.relname, a.attname, pg_catalog.format_type(sq.seqtypid, NULL)
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

std::string text_array(const std::vector<std::string> &items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

std::string oid_array(const std::vector<TableDef> &tables) {
  std::string out = "{";
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(tables[i].oid);
  }
  return out + "}";
}

}  // namespace

const TableDef *Catalog::find(const sql::QualifiedName &name) const {
  for (const TableDef &t : tables)
    if (t.name == name) return &t;
  return nullptr;
}

const TableDef *Catalog::find_oid(u32 oid) const {
  for (const TableDef &t : tables)
    if (t.oid == oid) return &t;
  return nullptr;
}

Catalog load_catalog(pg::Connection &conn, const std::vector<std::string> &exclude_schemas) {
  Catalog cat;
  pg::Result r = conn.query(TABLES_SQL, {text_array(exclude_schemas)});
  std::map<u32, size_t> by_oid;
  for (int i = 0; i < r.rows(); ++i) {
    TableDef t;
    t.oid = static_cast<u32>(r.get_i64(i, 0));
    t.name = {std::string(r.get(i, 1)), std::string(r.get(i, 2))};
    t.relkind = r.get(i, 3)[0];
    t.is_partition = r.get_bool(i, 4);
    t.heap_bytes = r.get_i64(i, 5);
    t.toast_bytes = r.get_i64(i, 6);
    t.reltuples = r.get_double(i, 7);
    t.relpages = r.get_i64(i, 8);
    t.has_children = r.get_bool(i, 9);
    t.parent_oid = r.is_null(i, 10) ? 0 : static_cast<u32>(r.get_i64(i, 10));
    by_oid[t.oid] = cat.tables.size();
    cat.tables.push_back(std::move(t));
  }
  if (cat.tables.empty()) return cat;

  std::string oids = oid_array(cat.tables);
  pg::Result cols = conn.query(COLUMNS_SQL, {oids});
  for (int i = 0; i < cols.rows(); ++i) {
    TableDef &t = cat.tables[by_oid.at(static_cast<u32>(cols.get_i64(i, 0)))];
    ColumnDef c;
    c.name = cols.get(i, 1);
    c.type = cols.get(i, 2);
    c.type_oid = static_cast<u32>(cols.get_i64(i, 3));
    c.not_null = cols.get_bool(i, 4);
    c.has_default = cols.get_bool(i, 5);
    c.needs_text = cols.get_bool(i, 6);
    c.default_expr = cols.get(i, 7);
    t.columns.push_back(std::move(c));
  }
  pg::Result leads = conn.query(INDEX_LEADS_SQL, {oids});
  for (int i = 0; i < leads.rows(); ++i)
    cat.tables[by_oid.at(static_cast<u32>(leads.get_i64(i, 0)))].index_leads.emplace_back(leads.get(i, 1));
  pg::Result keys = conn.query(KEYS_SQL, {oids});
  for (int i = 0; i < keys.rows(); ++i) {
    TableDef &t = cat.tables[by_oid.at(static_cast<u32>(keys.get_i64(i, 0)))];
    t.key.emplace_back(keys.get(i, 1));
    t.key_types.emplace_back(keys.get(i, 2));
  }
  return cat;
}

std::vector<TableDef> select_tables(const Catalog &cat, const std::vector<sql::QualifiedName> &names) {
  std::vector<TableDef> out;
  std::set<u32> seen;
  auto add = [&](const TableDef &t) {
    if (seen.insert(t.oid).second) out.push_back(t);
  };
  if (names.empty()) {
    for (const TableDef &t : cat.tables)
      if (t.relkind == 'r') add(t);
    return out;
  }
  std::vector<std::string> missing;
  for (const sql::QualifiedName &n : names) {
    const TableDef *t = cat.find(n);
    if (!t) {
      missing.push_back(n.display());
      continue;
    }
    if (t->relkind == 'p') {
      // A partitioned parent has no rows of its own: copy its leaf partitions.
      for (const TableDef &leaf : cat.tables) {
        if (leaf.relkind != 'r') continue;
        for (const TableDef *up = &leaf; up && up->parent_oid;) {
          if (up->parent_oid == t->oid) {
            add(leaf);
            break;
          }
          up = cat.find_oid(up->parent_oid);
        }
      }
      continue;
    }
    add(*t);
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string &m : missing) list += (list.empty() ? "" : ", ") + m;
    throw_usage("no such table on the source: " + list, "check the --table names (schema.table; quote mixed-case names)");
  }
  return out;
}

std::vector<SequenceDef> load_sequences(pg::Connection &conn, const std::vector<std::string> &exclude_schemas) {
  std::vector<SequenceDef> out;
  pg::Result r = conn.query(SEQUENCES_SQL, {text_array(exclude_schemas)});
  for (int i = 0; i < r.rows(); ++i) {
    SequenceDef s;
    s.name = {std::string(r.get(i, 0)), std::string(r.get(i, 1))};
    if (!r.is_null(i, 2)) s.table = sql::QualifiedName{std::string(r.get(i, 2)), std::string(r.get(i, 3))};
    s.column = r.get(i, 4);
    s.type = r.get(i, 5);
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<SequenceState> read_sequence(pg::Connection &conn, const sql::QualifiedName &seq) {
  pg::Result r = conn.exec("SELECT last_value, is_called FROM " + seq.quoted());
  if (r.rows() != 1) return std::nullopt;
  return SequenceState{r.get_i64(0, 0), r.get_bool(0, 1)};
}

bool table_is_empty(pg::Connection &conn, const TableDef &table) {
  pg::Result r = conn.exec("SELECT 1 FROM ONLY " + table.name.quoted() + " LIMIT 1");
  return r.rows() == 0;
}

}  // namespace pgcutover::catalog
