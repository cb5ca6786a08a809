#pragma once
// What every job that reads a source and writes a target is given: the two
// endpoints with their session settings, the table selection, the ledger's
// names and the range size. cli/setup builds it once from the command line.
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/pg/lock_diagnostics.hpp"
#include "pgcutover/pg/target_checks.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/plan/plan.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::jobs {

struct Scope {
  pg::Endpoints ends;
  std::vector<sql::QualifiedName> tables;    // empty: every table of the database
  std::vector<std::string> exclude_schemas;  // as given; the tool schema is always left out too
  std::string tool_schema = "pgcutover";
  std::string job;                           // ledger job name; "" derives it from source and tables
  int jobs = 2;
  i64 range_bytes = 256 << 20;
  bool with_fk_parents = false;       // --with-fk-parents (plan/fk_parents.hpp)
  bool fk_parents_on_target = false;  // parents the target has are fine (sync's new tables)

  // The schemas no job reads: the given ones and the tool's own.
  std::vector<std::string> excluded_schemas() const;
  // Plan options for this selection (strategy and format left at auto).
  plan::BuildOptions build_options() const;
  // The ledger job: the given name, or one derived from the source and the
  // tables, so the same command finds the same job again.
  std::string job_name() const;
  // Before anything is written to the target: every --table names a table
  // of the source, or a usage error lists those that do not.
  void check_tables(pg::Connection &src) const;
  // The same scope narrowed to other tables, under a fresh default job name.
  Scope with_tables(std::vector<sql::QualifiedName> tables) const;
};

}  // namespace pgcutover::jobs
