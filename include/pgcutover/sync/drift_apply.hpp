#pragma once
// Schema drift, carried to the target by a sync (see drift.hpp for the kinds).
//   find:        column and table drift from the catalogs, tables the tool
//                copied that the source dropped, enum labels, indexes and
//                constraints the target lacks
//   before data: enum labels added in their sort position, NOT NULL dropped,
//                columns added bare (with a reread mark in the ledger, in
//                the same transaction), new partitions created under their
//                parents (rows of the new bounds taken out of the target's
//                DEFAULT partition first: the source's DEFAULT no longer has
//                them, the new partition's copy brings them)
//   after data:  defaults and NOT NULL set, indexes and constraints created
// A table with blocking drift gets none of it: it is left untouched.
#include <set>
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sync/drift.hpp"

namespace pgcutover::sync {

struct DriftScope {
  std::string tool_schema;
  std::vector<std::string> excluded_schemas;
  bool whole_database = true;  // dropped tables are looked for only then
  bool no_owner = false;        // new partitions: the target role owns them
  bool no_privileges = false;   // new partitions: no GRANT of the source
};

struct DriftPlan {
  std::vector<Drift> drift;                 // everything found, for the summary
  std::set<sql::QualifiedName> blocked;     // tables with blocking drift: not synced
  std::vector<sql::QualifiedName> new_tables;  // leaves to create (if needed) and base-copy
  // The added columns' defaults and NOT NULL, once every row has its value.
  struct AfterDataStep {
    std::string what, statement;
    bool sets_not_null = false;  // fails with 23502 while target-only rows hold NULL: retried by the next sync
  };
  std::vector<AfterDataStep> after_data;
  std::vector<sql::QualifiedName> reread;   // tables whose every row the sync reads again
  struct BoundChange {
    sql::QualifiedName partition, parent;
    std::string bound;       // the source's
    std::string constraint;  // the source's partition constraint: rows it rejects leave the partition
  };
  std::vector<BoundChange> bound_changes;
};

DriftPlan find_all_drift(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &sc, const catalog::Catalog &dc,
                         const std::vector<catalog::TableDef> &selected, const DriftScope &scope);

// Runs the plan's before-data steps on dst (a replica-mode writer), all in
// one transaction (enum labels outside it before PostgreSQL 12), so a
// failure leaves none of them: enum labels, NOT NULL dropped, bare columns
// with their reread marks, partitions whose bound changed, and the new
// partitions whose parents exist (or were just made). The new tables that
// are not partitions of existing parents are created through pg_dump later.
void apply_before_data(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &sc, const catalog::Catalog &dc,
                       DriftPlan &plan, const DriftScope &scope);

// Defaults, NOT NULL, indexes and constraints. A NOT NULL that target rows
// the source no longer has still violate (deletes not detected) is returned
// as to do, with what to run; any other failure throws, naming the object
// (the data is committed, the next sync applies what is left).
std::vector<std::string> apply_after_data(pg::Connection &dst, const DriftPlan &plan);

}  // namespace pgcutover::sync
