#pragma once
// The ranges a sync reads a table's changed rows in, so a large change set
// runs in parallel. With an indexed change column the changed rows themselves
// are cut at key quantiles (changes are often bunched at the end of the key
// space, so ranges of the whole table would not share them out); scanning
// methods use ranges of the whole table, which split the scan.
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/plan.hpp"
#include "pgcutover/sync/change_column.hpp"

namespace pgcutover::sync {

// src runs in the sync's snapshot; table.filter selects the changed rows.
std::vector<plan::KeyRange> change_ranges(pg::Connection &src, const plan::TablePlan &table, const ChangeMethod &method,
                                          i64 range_bytes, int jobs);

// Age in transactions of a watermark's transaction id (64-bit txid text), as
// the source sees it now.
i64 xid_age(pg::Connection &src, const std::string &txid);

}  // namespace pgcutover::sync
