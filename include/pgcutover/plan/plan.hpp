#pragma once
// The plan: per table what the copy will do (format, strategy, ranges) and
// why, plus every table it refuses and the reason. `pgcutover plan` prints it;
// `pgcutover copy` runs it.
#include <functional>
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/copybin/format.hpp"
#include "pgcutover/merge/strategy.hpp"
#include "pgcutover/plan/range_planner.hpp"

namespace pgcutover::plan {

enum class FormatChoice { Auto, Binary, Text };
FormatChoice parse_format(const std::string &text);  // throws Usage

struct TablePlan {
  catalog::TableDef table;           // the source's definition
  bool target_exists = false;
  bool target_empty = false;         // at planning time
  copybin::StreamFormat format = copybin::StreamFormat::Binary;
  std::string format_reason;
  merge::Strategy strategy = merge::Strategy::Merge;  // Direct or Merge, never Auto
  std::string strategy_reason;
  // How ranges of a text key are compared, and why ("" when no key column
  // has a collation): in the key's own order when both servers order it
  // alike, through the key index; else under COLLATE "C" (scans).
  std::string key_order;
  std::vector<KeyRange> ranges;
  // Sync: an extra condition on the rows read (SQL from sql::, e.g. the change
  // column past the watermark), and whether the merge skips rows that are
  // already equal on the target (no dead tuples or WAL for them).
  std::string filter;
  bool skip_unchanged = false;
  std::string change_column;  // with skip_unchanged: differs on the target -> changed, no whole-row comparison
  // Copy only, Direct, one range, a plain table the copy created: the range's
  // transaction truncates it and loads with COPY ... FREEZE (rows land frozen
  // and all-visible: no hint-bit writes or freezing vacuum later). Set by the
  // copy job, which knows what it created.
  bool freeze = false;
  // (Write-side levers of the bench live in pipeline::WriteOptions.)

  bool create_on_target() const { return !target_exists; }
};

struct Refusal {
  std::string table;   // display name
  std::string reason;
};

struct Plan {
  std::vector<TablePlan> tables;
  std::vector<Refusal> refused;
  int source_version = 0;        // server_version_num of each side
  int target_version = 0;
  bool whole_database = false;   // no --table given
  bool target_has_tables = false;
  // Inheritance / partition ancestors of tables the target lacks, missing on the
  // target too: their definitions must come first (pg_dump them with the tables).
  std::vector<sql::QualifiedName> missing_ancestors;
  i64 total_bytes() const;
  i64 total_ranges() const;
};

// Some range of the table was cut in the source's order (KeyRange::source_order):
// not for evaluation on the target.
bool has_source_order_ranges(const TablePlan &table);

struct BuildOptions {
  std::vector<sql::QualifiedName> tables;     // empty = whole database
  std::vector<std::string> exclude_schemas;   // the tool's own schema, ...
  PlanOptions ranges;
  merge::Strategy strategy = merge::Strategy::Auto;
  FormatChoice format = FormatChoice::Auto;
  // Resuming a job: ranges, strategy and format come from the ledger, so no
  // sampling and no strategy checks against the (partly filled) target.
  bool resume = false;
  // Tables the copy empties before its data (--restart on tables the same job
  // created): planned as empty targets.
  std::vector<sql::QualifiedName> emptied;
  // Foreign keys to tables outside the selection (plan/fk_parents.hpp): take
  // the parents too, or accept parents the target has (sync's new tables).
  // Only for what writes rows into tables it may create (copy, plan).
  bool check_fk_parents = false;
  bool with_fk_parents = false;
  bool fk_parents_on_target = false;
  // Called after each table's statements (pg::SnapshotReader::between_tables
  // of the sessions build_plan reads through).
  std::function<void()> between_tables;
  // Catalogs the caller has already read in this run (sync reads them for
  // its drift phase): used instead of reading them again. The target's only
  // when nothing was changed on the target since it was read.
  const catalog::Catalog *source_catalog = nullptr;
  const catalog::Catalog *target_catalog = nullptr;
};

// How rows of a table are matched, for messages and `plan`: "primary key
// name (cols)", or the unique index standing in for one, or none.
std::string describe_key(const catalog::TableDef &t);

// src runs inside the copy's snapshot (SnapshotHolder::conn()); dst is any
// target connection. Reads both catalogs, compares columns, chooses format and
// strategy, and samples keys to cut ranges.
Plan build_plan(pg::Connection &src, pg::Connection &dst, const BuildOptions &opt);

// One Usage error listing every refusal, if any.
void check_refusals(const Plan &plan);

}  // namespace pgcutover::plan
