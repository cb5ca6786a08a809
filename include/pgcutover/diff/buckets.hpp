#pragma once
// Verify and delete detection for a table whose text key the two servers order differently
// (catalog::TableDef::key_orders_differ): a key range would have to be
// evaluated under COLLATE "C" on both, which no index serves, so every range
// would cost a full scan of the table on each side. Instead each side is
// read once, unordered, and its rows summed into buckets by a hash of the
// key: per bucket the row count and the sum of 64-bit hashes (XXH3) of each
// row's COPY form, computed on the client. Equal buckets on both sides mean
// equal rows (the sum is order-independent, so no sort either). The rows of
// differing buckets are found by a second read of each side, which keeps
// only those buckets' rows (key, row hash, a hash per column) and compares
// them key by key. Cost: one sequential read per side, two when anything
// differs, whatever the table's size; memory: the buckets (at most
// MAX_BUCKETS) and the rows of the buckets being localized (bounded by
// max_keys, in rounds).
#include <vector>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/diff/key_diff.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::diff {

constexpr u32 MIN_BUCKETS = 1024;
constexpr u32 MAX_BUCKETS = 1u << 20;

// Verify by buckets: a keyed table whose key the servers order differently.
bool by_buckets(const catalog::TableDef &table);
// The bucket count both sides use: about 64 rows per bucket by the source's
// estimates, a power of two within MIN_BUCKETS..MAX_BUCKETS.
u32 bucket_count(const catalog::TableDef &table);

struct BucketDigest {
  Digest digest;            // rows, a hash of every bucket, bytes read
  std::vector<i64> rows;    // per bucket
  std::vector<u64> sums;    // per bucket: sum of row hashes (mod 2^64)
};

// Every row of the table read once (COPY in `format`, the table's own).
BucketDigest digest_buckets(pg::Connection &conn, const catalog::TableDef &table, copybin::StreamFormat format,
                            u32 buckets);

// The buckets whose count or sum differ.
std::vector<u32> differing_buckets(const BucketDigest &a, const BucketDigest &b);

// The keys where src and dst differ within differing buckets (Missing,
// Extra, Different with the columns that differ), sorted by key. Reads each
// side once, keeping the rows of the differing buckets from first_bucket on,
// as many as fit in a budget of rows (at least one bucket); *next_bucket
// (if given) is the first differing bucket left for a later round, and
// *truncated is set when there is one.
std::vector<KeyDiff> localize_buckets(pg::Connection &src, pg::Connection &dst, const catalog::TableDef &table,
                                      copybin::StreamFormat format, const BucketDigest &source,
                                      const BucketDigest &target, i64 budget_rows, bool *truncated,
                                      u32 first_bucket = 0, u32 *next_bucket = nullptr);

}  // namespace pgcutover::diff
