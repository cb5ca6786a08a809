#pragma once
// Statements of the range planner: key samples and a row count for tables
// never analyzed.
#include <string>
#include <vector>

#include "pgcutover/sql/ident.hpp"
#include "pgcutover/sql/range.hpp"

namespace pgcutover::sql {

// TABLESAMPLE SYSTEM|BERNOULLI (pct) REPEATABLE (42); "" at 100 percent.
std::string tablesample(bool whole_pages, double percent);

// Key-sample query for the range planner: key columns as text and an
// estimated on-disk size of each sampled row, in key order (see KeySpec).
std::string sample_keys(const QualifiedName &table, const KeySpec &key,
                        const std::vector<std::string> &columns, const std::string &tablesample);

// count(*) of the table's own rows.
std::string count_rows(const QualifiedName &table);

}  // namespace pgcutover::sql
