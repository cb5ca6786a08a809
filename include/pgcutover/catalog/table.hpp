#pragma once
// What the catalog knows about a table: raw names (never pre-quoted), types as
// format_type() spells them (schema-qualified for non-catalog types, because
// every session runs with an empty search_path), sizes and the primary key.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/sql/compare.hpp"
#include "pgcutover/sql/ident.hpp"
#include "pgcutover/sql/range.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::catalog {

struct ColumnDef {
  std::string name;
  std::string type;        // format_type(atttypid, atttypmod)
  u32 type_oid = 0;
  bool not_null = false;
  bool has_default = false;
  // The binary form of this type embeds database-specific type OIDs (composite
  // values, arrays of user-defined or composite types): copy it as text.
  bool needs_text = false;
  // The type (this one, or one its binary form goes through: a domain's base,
  // an element, a composite's field, a range's subtype) that has no binary
  // send/receive functions, "" if none: the column has only a text form.
  std::string no_binary_io;
  // Why the column must go as text ("" when binary suits it).
  std::string text_reason() const;
  std::string default_expr;  // pg_get_expr of the default, "" if none
  bool collatable = false;         // the type has a collation (text, varchar, char, citext, domains ...)
  bool c_order = false;            // ... and it sorts bytewise here (libc C or POSIX)
  bool default_collation = false;  // ... and it is the database default
  // ... and how it orders text: "provider/locale/version" ("" when not
  // collatable; an empty version: the server records none). Two servers
  // with the same text order keys alike (see plan::key_order).
  std::string collation_order;
  // The type under its domains, and for an array its element type: what the
  // version checks (plan/version_checks) and version-stable comparisons
  // (sql::compare_expr) look at. typtype as pg_type spells it ('b', 'm', ...).
  u32 base_type_oid = 0;
  char base_typtype = 'b';
  u32 elem_type_oid = 0;       // 0: the base type is no array
  char elem_typtype = 0;
};

struct TableDef {
  u32 oid = 0;
  sql::QualifiedName name;
  char relkind = 'r';            // 'r' table, 'p' partitioned parent
  bool is_partition = false;
  bool has_children = false;     // inheritance or partition parent
  u32 parent_oid = 0;            // first inheritance / partition parent, 0 if none
  std::vector<ColumnDef> columns;   // copyable columns: no dropped, no generated ones
  // The key: the primary key's columns, or, without one, those of a unique
  // index over NOT NULL columns (sql::catalog::primary_keys); in index
  // order; empty if none.
  std::vector<std::string> key;
  std::vector<std::string> key_types;
  std::string key_index;         // the index behind the key
  bool key_is_primary = false;   // ... the primary key's (else a unique index)
  bool key_deferrable = false;   // ... a DEFERRABLE primary key (never a replica identity)
  // Per key column: compare it under COLLATE "C" (set by plan::build_plan,
  // which sees both servers; empty means never). See sql::KeySpec.
  std::vector<bool> key_collate_c;
  std::vector<std::string> index_leads;  // first column of each valid, non-partial index
  // What logical decoding sends of an updated or deleted row's old version
  // (pg_class.relreplident): 'd' the primary key's columns (nothing without
  // one), 'i' those of identity_index, 'f' the whole row, 'n' nothing.
  char replica_identity = 'd';
  std::string identity_index;    // the REPLICA IDENTITY USING INDEX index, "" if none
  bool unlogged = false;         // UNLOGGED: its changes are not in the WAL
  bool owned = false;            // the session's role owns it (or is a member of its owner)
  i64 heap_bytes = 0;
  i64 toast_bytes = 0;
  double reltuples = -1;         // -1: never analyzed
  i64 relpages = 0;

  i64 total_bytes() const { return heap_bytes + toast_bytes; }
  bool has_key() const { return !key.empty(); }
  std::vector<std::string> column_names() const;
  // The columns as version-stable comparisons read them (see sql::Compared).
  std::vector<sql::ComparedColumn> compared_columns() const;
  const ColumnDef *find_column(const std::string &name) const;
  // First column that must go as text (see ColumnDef::text_reason), or nullptr.
  const ColumnDef *text_only_column() const;
  // The key as range predicates, key sets and key orderings need it.
  sql::KeySpec key_spec() const { return {key, key_types, key_collate_c}; }
  // ... as the source alone orders it (its own collations: its key index
  // serves ranges), for ranges only the source evaluates.
  sql::KeySpec source_key_spec() const { return {key, key_types, {}}; }
  // One or the other, as a range was cut (plan::KeyRange::source_order).
  sql::KeySpec key_spec(bool source_order) const { return source_order ? source_key_spec() : key_spec(); }
  // Some key column is compared under COLLATE "C" (the servers order it differently).
  bool key_orders_differ() const;
};

}  // namespace pgcutover::catalog
