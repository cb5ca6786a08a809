#pragma once
// Catalog introspection queries. Every query reads pg_catalog only (no
// information_schema: it hides objects the user does not own and is slow), and
// works on PostgreSQL 10 and later. Names come back raw.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::catalog {

// $1 text[] of excluded schemas -> oid, schema, name, relkind, relispartition,
// heap bytes, TOAST bytes, reltuples, relpages, has_children, first parent oid.
const char *tables();
// $1 text[] schemas, $2 text[] names (pairwise), $3 text[] excluded schemas
// -> schema, name of each pair that tables() would not list.
const char *missing_tables();
// $1 oid[] -> attrelid, name, format_type, type oid, not null, has default,
// needs_text, default expression, collatable, c_order (the collation sorts
// bytewise), default_collation, base type oid (under domains), its typtype,
// element type oid of an array base (0 if none), its typtype ("" if none); in
// column order. Adapted to the server's version (server_version_num).
std::string columns(int server_version);
// $1 oid[] -> the type oids among them that exist on this server.
const char *types_present();
// $1 oid[] -> attrelid, first column of each valid, non-partial index.
const char *index_leads();
// $1 oid[] -> attrelid, key column, format_type, index name, is primary: each
// table's key (its primary key, else a unique index over NOT NULL columns),
// its key columns (never INCLUDE columns) in index order.
std::string primary_keys(int server_version);
// -> how the database's default collation orders text: "provider/locale/version"
// (as the columns' collation_order).
std::string default_collation_order();
// The count of an index's key columns in pg_index (alias x) on this version:
// indnkeyatts (11+, INCLUDE columns follow them in indkey) or indnatts.
std::string index_key_columns(int server_version);
// $1 text[] of excluded schemas -> sequence schema, name, table schema, table
// name, column, type, increment, min, max, cycle, owns (one row per fed
// column; table, column and owns NULL for a sequence that feeds none).
const char *sequences();
// -> last_value, is_called
std::string read_sequence(const QualifiedName &sequence);
// One row when the table has any row.
std::string any_row(const QualifiedName &table);
// $1 schema, $2 name -> bool
const char *table_exists();
// One boolean: the database's default collation sorts bytewise (libc C/POSIX).
const char *default_collation_is_c();

}  // namespace pgcutover::sql::catalog
