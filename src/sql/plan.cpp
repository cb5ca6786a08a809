// Statements of the range planner (see plan.hpp).
#include "pgcutover/sql/plan.hpp"

#include <fmt/format.h>

#include "fragments.hpp"

namespace pgcutover::sql {

std::string tablesample(bool whole_pages, double percent) {
  if (percent >= 100.0) return "";
  return fmt::format("TABLESAMPLE {} ({:.6f}) REPEATABLE (42)", whole_pages ? "SYSTEM" : "BERNOULLI", percent);
}

std::string sample_keys(const QualifiedName &table, const KeySpec &key,
                        const std::vector<std::string> &columns, const std::string &tablesample) {
  // pg_column_size of each column is its stored size (compressed, and for a
  // TOASTed value the TOAST size) without fetching the value: a cheap estimate
  // of the heap + TOAST bytes each row accounts for. 24 is the tuple header.
  std::string size = "24";
  // The table is aliased so ORDER BY names the key columns, not the ::text
  // output columns of the same name (which would sort as text).
  for (const std::string &c : columns) size += " + coalesce(pg_catalog.pg_column_size(s." + quote_ident(c) + "), 0)";
  return fmt::format("SELECT {}, ({})::int8 FROM ONLY {} AS s {} ORDER BY {}", detail::as_text(key.columns, "s."), size,
                     table, tablesample, order_by_key(key, "s."));
}

std::string count_rows(const QualifiedName &table) { return fmt::format("SELECT count(*) FROM ONLY {}", table); }

}  // namespace pgcutover::sql
