#pragma once
// Splits tables into primary-key ranges of about range_bytes each.
#include <string>
#include <vector>

#include "pgcutover/catalog/table.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/key_range.hpp"

namespace pgcutover::plan {

struct PlanOptions {
  i64 range_bytes = 256ll << 20;
  i64 max_sample_rows = 500000;
  // Cut in the source's own order where the servers order a text key
  // differently (KeyRange::source_order): for ranges only the source reads.
  bool source_order = false;
};

// Ranges for one table. conn reads the source inside the copy's snapshot.
std::vector<KeyRange> plan_ranges(pg::Connection &conn, const catalog::TableDef &table, const PlanOptions &opt);

// Pure part, unit-tested: given rows sampled in key order with their sizes,
// cut n_ranges ranges of equal sampled weight. Boundaries are sample keys.
struct Sample {
  KeyBound key;
  i64 bytes = 0;
};
std::vector<KeyRange> cut_ranges(const std::vector<Sample> &samples, i64 n_ranges, i64 table_bytes);

// ceil(total / range_bytes), at least 1.
i64 range_count(i64 total_bytes, i64 range_bytes);

}  // namespace pgcutover::plan
