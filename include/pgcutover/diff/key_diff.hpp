#pragma once
// Key-set comparison and bisection, shared by verify (full mode, repair) and
// sync's delete detection.
//
// Two sides of one table are compared over a key range: a server-side digest
// of each side (row count, or count plus an order-independent hash of every
// row's text form) says whether they differ; a differing range is cut at key
// quantiles of the larger side into sub-ranges, recursively, until they are
// small, and then the keys are compared one by one (key plus md5 of the row).
// Comparing a key-only view of a table (key_only()) compares key sets.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/catalog/table.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/key_range.hpp"
#include "pgcutover/sql/compare.hpp"

namespace pgcutover::diff {

struct Digest {
  i64 rows = 0;
  std::string hash;  // "" for a count
  i64 bytes = 0;     // bytes hashed on the client (0 for server digests)
  bool operator==(const Digest &o) const { return rows == o.rows && hash == o.hash; }
};

enum class DiffKind { Missing, Extra, Different };
const char *to_string(DiffKind k);

struct KeyDiff {
  plan::KeyBound key;
  DiffKind kind = DiffKind::Different;
  std::vector<std::string> columns;  // for Different: the columns whose values differ
};

// Row count of a range (hash ""), computed by the server.
Digest count_range(pg::Connection &conn, const catalog::TableDef &table, const plan::KeyRange &range);
// Row count and hash of every row's version-stable text form, computed by the
// server with `hash`: the one both servers of the comparison have
// (sql::row_hash_for).
Digest hash_range(pg::Connection &conn, const catalog::TableDef &table, const plan::KeyRange &range, sql::RowHash hash);

// The keys where src and dst differ within the range (hashed with the function
// both servers have) (Missing: on src only;
// Extra: on dst only; Different: both, other values), at most max_keys of
// them; *truncated (if given) is set when there were more. Empty for a table
// without a key.
std::vector<KeyDiff> localize(pg::Connection &src, pg::Connection &dst, const catalog::TableDef &table,
                              const plan::KeyRange &range, i64 max_keys, bool *truncated);

// The table with its key columns only: localize() on it compares key sets.
catalog::TableDef key_only(const catalog::TableDef &table);

// Deletes the rows with these keys from the table (in batches, inside the
// caller's transaction). Returns the rows deleted.
i64 delete_keys(pg::Connection &conn, const catalog::TableDef &table, const std::vector<plan::KeyBound> &keys);

}  // namespace pgcutover::diff
