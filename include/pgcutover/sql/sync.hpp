#pragma once
// Statements of sync/: change predicates and drift repair.
#include <string>
#include <vector>

#include "pgcutover/sql/ident.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::sql::sync {
// The rows a change column says changed since a point (ISO 8601 UTC), read the
// way the application wrote them: a timestamptz column as is; a `timestamp
// without time zone` column in the time zone its writers' sessions use
// (source_time_zone); a `date` column at day granularity in that zone, the
// whole starting day included. A nullable column also yields its NULL rows:
// a row whose change column is NULL cannot say when it changed, so every sync
// reads it (the merge skips it when it is already equal).
std::string change_predicate(const std::string &column, const std::string &column_type, bool nullable,
                             const std::string &point_iso, const std::string &source_time_zone);
// One table's change counts in a batch (change_counts): the changed rows
// (filter), and with `unplaced` the rows whose change column cannot place
// them in time, so every sync reads them again: NULL, and later than the
// snapshot's point (infinity, clock skew).
struct ChangeCountItem {
  QualifiedName table;
  std::string filter;
  bool unplaced = false;
  std::string column, column_type, source_time_zone;
  bool nullable = false;
};
// Many tables' counts in one statement, one row per item in the items' order:
// (item index, changed, NULL-stamped, stamped after the point; the last two 0
// without `unplaced`). Every count is an index scan where the column is indexed.
std::string change_counts(const std::vector<ChangeCountItem> &items, const std::string &point_iso);
// The TimeZone a new session of the tool's role gets on the source (its
// database's and role's setting, not the tool's pinned UTC): -> text.
const char *session_default_time_zone();
// $1 zone -> the current time in it; fails with 22023 for an unknown zone.
const char *check_time_zone();
// $1 start, $2 end (ISO 8601 UTC), $3 zone -> seconds (float8) by which the
// zone's local clock steps back between them (a DST fall-back repeats its
// last hour), 0 when it never does. Sampled hourly: every real change of a
// zone's offset lasts longer.
const char *clock_step_back();
// Rows whose xmin is not older than the given transaction id (64-bit txid
// text), by age so xid wraparound is handled.
std::string xmin_predicate(const std::string &txid);
// ALTER TABLE t ADD COLUMN c type [DEFAULT expr] [NOT NULL]
std::string add_column(const QualifiedName &table, const std::string &column, const std::string &type,
                       const std::string &default_expr, bool not_null);
// The table's largest key (text, NULL when empty) and its relkind, on the target.
std::string largest_key(const QualifiedName &table, const std::string &key_column);
// The changed rows (filter) whose integer key lies below `from`.
std::string count_below(const QualifiedName &table, const std::string &filter, const std::string &key_column, i64 from);
// The index that makes a change column cheap to read, as advice to the user.
std::string create_index_concurrently(const QualifiedName &table, const std::string &column);
}  // namespace pgcutover::sql::sync
