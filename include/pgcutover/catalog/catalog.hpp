#pragma once
// Catalog introspection: the one module that reads pg_catalog for tables,
// columns, keys, sizes and sequences. The SQL text lives in sql/catalog.cpp.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pgcutover/catalog/table.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::catalog {

struct Catalog {
  std::vector<TableDef> tables;  // sorted by name
  bool default_collation_c = false;  // the database's default collation sorts bytewise
  std::string default_collation_order;  // ... and how it orders text (ColumnDef::collation_order)
  int server_version = 0;            // server_version_num of the server it was read from
  const TableDef *find(const sql::QualifiedName &name) const;
  const TableDef *find_oid(u32 oid) const;
  // Positions in `tables` by name and by oid, built by load_catalog (and
  // index()) so finds stay cheap at thousands of tables. Trusted while they
  // have as many entries as `tables` (code that changes `tables` calls
  // index() again); otherwise, or when a position no longer holds the table
  // asked for, finds search linearly.
  void index();
  std::map<sql::QualifiedName, size_t> by_name;
  std::map<u32, size_t> by_oid;
};

// Loads every user table (all schemas but the system ones and excluded ones).
Catalog load_catalog(pg::Connection &conn, const std::vector<std::string> &exclude_schemas);

// The tables to copy: the named ones (partitioned parents expand to their leaf
// partitions), or every table that holds rows (partitioned parents are skipped:
// their leaves are copied; inheritance parents are read with ONLY). Throws one
// Usage error listing every name that does not exist.
std::vector<TableDef> select_tables(const Catalog &cat, const std::vector<sql::QualifiedName> &names);

// A column a sequence feeds: through its default, as its identity, or both.
struct FedColumn {
  sql::QualifiedName table;
  std::string column;
  bool owns = false;  // OWNED BY (serial) or identity: the sequence goes with the table
};

struct SequenceDef {
  sql::QualifiedName name;
  std::vector<FedColumn> feeds;  // every column it feeds (several tables may share one); empty if standalone
  std::string type;              // smallint / integer / bigint
  i64 increment = 1;             // negative for a descending sequence
  i64 min = 1;
  i64 max = 0;
  bool cycle = false;

  bool feeds_any(const std::set<sql::QualifiedName> &tables) const;
  const FedColumn *owner() const;  // the column that owns it, if any
  std::string fed_list() const;    // "schema.table.column, ..." ("" if standalone)
};

struct SequenceState {
  i64 last_value = 0;
  bool is_called = false;
};

// Every sequence in the database with the table/column it feeds (ownership,
// identity, or a column default that calls nextval on it).
std::vector<SequenceDef> load_sequences(pg::Connection &conn, const std::vector<std::string> &exclude_schemas);
std::optional<SequenceState> read_sequence(pg::Connection &conn, const sql::QualifiedName &seq);

// True when the table exists and has no row (cheap: LIMIT 1).
bool table_is_empty(pg::Connection &conn, const TableDef &table);

}  // namespace pgcutover::catalog
