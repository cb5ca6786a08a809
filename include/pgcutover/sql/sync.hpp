#pragma once
// Statements of sync/: change predicates and drift repair.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::sync {
// change_col >= 'point'::timestamptz (the point already has the overlap taken off)
std::string since_predicate(const std::string &column, const std::string &point_iso);
// Rows whose xmin is not older than the given transaction id (64-bit txid
// text), by age so xid wraparound is handled.
std::string xmin_predicate(const std::string &txid);
// ALTER TABLE t ADD COLUMN c type [DEFAULT expr] [NOT NULL]
std::string add_column(const QualifiedName &table, const std::string &column, const std::string &type,
                       const std::string &default_expr, bool not_null);
// count(*) of rows matching a filter (an index scan when the change column is indexed)
std::string count_where(const QualifiedName &table, const std::string &filter);
// The index that makes a change column cheap to read, as advice to the user.
std::string create_index_concurrently(const QualifiedName &table, const std::string &column);
}  // namespace pgcutover::sql::sync
