#pragma once
// Statements of traffic/: the generic writer's sample, update, insert and
// delete of one row by its key. Key values are $1..$n text parameters cast to
// the key columns' types (types as format_type() spells them).
#include <string>
#include <vector>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::traffic {

struct KeyColumns {
  std::vector<std::string> names;
  std::vector<std::string> types;
};

// Up to `limit` keys (as text) of random rows: ORDER BY random() below
// `full_scan_rows` estimated rows, a TABLESAMPLE of pages above.
std::string sample_keys(const QualifiedName &table, const KeyColumns &key, double estimated_rows, int limit);
// Sets change_column to now(), or with no change column the first key column
// to itself (a new row version all the same).
std::string update_row(const QualifiedName &table, const KeyColumns &key, const std::string &change_column);
std::string delete_row(const QualifiedName &table, const KeyColumns &key);
// A copy of the keyed row without its key column (a sequence or identity
// feeds it) and with change_column set to now(); the `defaulted` columns
// (a creation time stamp, say) take their defaults, as the application's
// inserts would. Returns the new key as text.
std::string insert_copy(const QualifiedName &table, const KeyColumns &key, const std::vector<std::string> &columns,
                        const std::string &change_column, const std::vector<std::string> &defaulted = {});
// The session's TimeZone set to `zone`.
std::string set_time_zone(const std::string &zone);

}  // namespace pgcutover::sql::traffic
