#pragma once
// The generic writer of `pgcutover traffic`: writes on any schema whose
// tables have primary keys, one row per transaction, without knowing the
// application.
//   pick      a table in proportion to its size (reltuples, at least 1)
//   update    a random existing row by key; its change column (updated_at,
//             modified_at, ... or the one named) set to now(), else the key
//             set to itself (a new row version all the same)
//   insert    a copy of a random existing row under a new key, where a
//             sequence or identity feeds a one-column key
//   delete    a random existing row
// Keys come from a pool sampled per table at the start, kept up to date with
// the writer's own inserts and deletes. A row a constraint refuses (a unique
// column an inserted copy repeats, a foreign key a delete would break) is
// counted as skipped with its reason; any other refusal stops the writer with
// an Error naming the table.
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::traffic {

struct Mix {
  int updates = 80, inserts = 15, deletes = 5;  // relative weights
};

// What the writer did to one table.
struct TableCounts {
  std::string table;          // display name
  double weight = 0;          // its share of the picks
  std::string change_column;  // "" if none
  bool inserts_possible = false;
  i64 updates = 0, inserts = 0, deletes = 0;
  i64 skipped = 0;
  std::string skip_reason;    // the first one
  // Distinct rows updated or inserted and still there at the end: what the
  // next sync must read at least.
  i64 rows_changed = 0;
};

struct TableState;  // per table: the statements, the key pool

class GenericWriter {
 public:
  // Reads the catalog of `conn` for `tables` (all tables with rows if empty;
  // tables without a primary key are left out and listed by left_out()).
  // change_column: the column to set to now() on update, if the table has
  // it; "" detects a usual name.
  GenericWriter(pg::Connection &conn, const std::vector<sql::QualifiedName> &tables,
                const std::vector<std::string> &exclude_schemas, const std::string &change_column, Mix mix,
                unsigned seed);
  ~GenericWriter();

  // One transaction of one row; returns false if it was skipped (counted).
  bool step();
  std::vector<TableCounts> counts() const;
  const std::vector<std::string> &left_out() const { return left_out_; }

 private:
  TableState &pick_table();
  int pick_op(const TableState &t);
  bool run(TableState &t, int op);

  pg::Connection &conn_;
  Mix mix_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<TableState>> tables_;
  std::vector<double> cumulative_;
  std::vector<std::string> left_out_;
};

}  // namespace pgcutover::traffic
