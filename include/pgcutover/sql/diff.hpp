#pragma once
// Statements of diff/: digests of a key range, the keys of a range with a hash
// of each row, key quantiles to cut sub-ranges, and statements on a set of keys
// (the keys travel as parameters: sql::key_set_params gives one text[] per key
// column, $1 .. $n). Row contents are read as sql::compared_* reads them, so
// they compare the same across major versions (see compare.hpp).
#include <string>
#include <vector>

#include "pgcutover/sql/compare.hpp"
#include "pgcutover/sql/range.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::sql::diff {

// count(*), 0 of a range.
std::string count_range(const QualifiedName &table, const KeySpec &key, const KeyInterval &range);
// count(*) and an order-independent 64-bit hash sum of every row's
// version-stable text form, computed on the server with the given hash.
std::string server_digest(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key,
                          const KeyInterval &range, RowHash hash);
// Every key in the range (as text) with md5 of its row's text form (row_md5).
std::string key_hashes(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key,
                       const KeyInterval &range, RowHash hash);
// Every step-th key of the range in key order (as text), to cut sub-ranges.
std::string key_quantiles(const QualifiedName &table, const KeySpec &key, const KeyInterval &range, i64 step,
                          const std::string &filter = "");
// The key and columns (as text) of the rows whose keys are in the key set.
std::string rows_by_keys(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key);
// DELETE of the rows whose keys are in the key set.
std::string delete_keys(const QualifiedName &table, const KeySpec &key);

}  // namespace pgcutover::sql::diff
