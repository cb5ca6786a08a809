#pragma once
// Statements of verify/: client-side digests and repair.
#include <string>
#include <vector>

#include "pgcutover/sql/diff.hpp"

namespace pgcutover::sql::verify {

// COPY of the range in key order, for hashing on the client. Columns read
// through a send function (floats) stream the same bytes in binary format as
// the plain column, and the same text on every major in text format.
std::string ordered_copy_out(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key,
                             const KeyInterval &range, copybin::StreamFormat format);
// COPY of the rows with the given keys (for repair). COPY takes no
// parameters: the keys are literals.
std::string copy_out_keys(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                          const std::vector<KeyValue> &keys, copybin::StreamFormat format);

// COPY of every row, unordered, each led by its key columns as text (one
// field per key column), then the compared columns: for digests by hash
// bucket of the key (verify/buckets.hpp), which need no order.
std::string keyed_copy_out(const QualifiedName &table, const std::vector<std::string> &key,
                           const std::vector<ComparedColumn> &columns, copybin::StreamFormat format);

// Moved to sql::diff (kept here for callers not yet switched).
using diff::key_quantiles;

}  // namespace pgcutover::sql::verify
