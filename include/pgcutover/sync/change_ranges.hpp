#pragma once
// The ranges a sync reads a table's changed rows in, so a large change set
// runs in parallel. With an indexed change column the changed rows themselves
// are cut at key quantiles (changes are often bunched at the end of the key
// space, so ranges of the whole table would not share them out); scanning
// methods use ranges of the whole table, which split the scan.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/plan.hpp"
#include "pgcutover/sql/sync.hpp"
#include "pgcutover/sync/change_column.hpp"

namespace pgcutover::sync {

// Tables' change counts (sql::sync::ChangeCountItem), in statements of
// `batch` tables each, `after_batch` called after each (the snapshot reader's
// renewal, so the session holds the locks of one batch at a time): a sync of
// thousands of unchanged tables costs a statement per batch, not per table.
struct ChangeCounts {
  i64 changed = 0;
  i64 null_stamped = 0;
  i64 future_stamped = 0;
};
std::vector<ChangeCounts> count_changes(pg::Connection &src, const std::vector<sql::sync::ChangeCountItem> &items,
                                        const std::string &point_iso, size_t batch,
                                        const std::function<void()> &after_batch);

// src runs in the sync's snapshot; table.filter selects the changed rows,
// `changed` counted by count_changes (methods that scan count nothing).
// dst is the target: when the change set is worth splitting and the key is
// one integer column of a plain table, the keys above the target's largest
// (rows inserted on the source since) get a range of their own, marked
// new_keys, which the writers COPY straight in without a stage. No range
// when no row changed (the table's point still moves with the sync's).
std::vector<plan::KeyRange> change_ranges(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &table,
                                          const ChangeMethod &method, i64 changed, i64 range_bytes, int jobs);

// The first key the target's table does not hold above its largest, for a
// plain table with one integer key column: largest + 1, the type's smallest
// value for an empty table; nullopt when not applicable or the largest is the
// type's maximum.
std::optional<i64> first_new_key(pg::Connection &dst, const catalog::TableDef &table);

// Age in transactions of a watermark's transaction id (64-bit txid text), as
// the source sees it now.
i64 xid_age(pg::Connection &src, const std::string &txid);

}  // namespace pgcutover::sync
