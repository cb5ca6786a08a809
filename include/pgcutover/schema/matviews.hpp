#pragma once
// Materialized views are not tables: pg_dump's schema archive creates them
// empty (their REFRESH is data), so after the copy and at `sync --final` the
// ones the source has populated are refreshed on the target, in dependency
// order (a materialized view over another one after it), CONCURRENTLY where
// the target's is populated already and has a unique index on plain columns
// (readers keep reading), each timed.
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::schema {

struct MatviewRefresh {
  sql::QualifiedName name;
  bool concurrently = false;
  double seconds = 0;
};

struct MatviewSkip {
  sql::QualifiedName name;
  std::string why;  // "not populated on the source", "missing on the target"
};

struct MatviewResult {
  std::vector<MatviewRefresh> refreshed;
  std::vector<MatviewSkip> skipped;
  double seconds = 0;
};

// Refreshes on the target the materialized views the source has populated
// (outside the excluded schemas). Throws naming the view and the cause when
// one fails; those before it stay refreshed (each is its own statement), so a
// rerun refreshes again.
MatviewResult refresh_matviews(pg::Connection &source, pg::Connection &target,
                               const std::vector<std::string> &exclude_schemas);

}  // namespace pgcutover::schema
