#pragma once
// Statements of follow mode's apply (follow/apply): a batch's folded actions
// for one table go through a temporary stage: COPY (text) into it, then the
// deletes, the partial updates (values the stream did not send stay) and
// the upserts, each one statement; the ordered replay writes change by
// change with parameters.
#include <string>
#include <vector>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::follow {

// The stage columns besides the table's: the action ('d' delete, 'p'
// partial update, 'u' upsert) and, for 'p', which columns stay unchanged.
constexpr const char *STAGE_ACTION = "pgcutover_action";
constexpr const char *STAGE_UNCHANGED = "pgcutover_unchanged";

// CREATE TEMP TABLE stage (the table's `columns`, their types, no
// constraints) ON COMMIT DROP, plus the action columns.
std::string create_stage(const std::string &stage, const QualifiedName &table, const std::vector<std::string> &columns);
// COPY stage (columns, action, unchanged) FROM STDIN (text format).
std::string copy_into_stage(const std::string &stage, const std::vector<std::string> &columns);
// Deletes the target rows whose key a 'd' row of the stage holds.
std::string delete_staged(const QualifiedName &table, const std::string &stage, const std::vector<std::string> &key);
// Updates the target rows whose key a 'p' row holds: every column the row
// does not mark unchanged (column i of `columns` is unchanged[i+1]).
std::string update_staged_partial(const QualifiedName &table, const std::string &stage,
                                  const std::vector<std::string> &columns, const std::vector<std::string> &key);
// Inserts the 'u' rows, or updates the target row of the same key.
std::string upsert_staged(const QualifiedName &table, const std::string &stage, const std::vector<std::string> &columns,
                          const std::vector<std::string> &key);

// Ordered replay, one change each, values as untyped text parameters $1...:
// INSERT ... VALUES ($1..$n) ON CONFLICT (key) DO UPDATE.
std::string upsert_row(const QualifiedName &table, const std::vector<std::string> &columns,
                       const std::vector<std::string> &key);
// UPDATE table SET set_columns[i] = $(i+1) WHERE key[j] = $(n+j+1).
std::string update_row(const QualifiedName &table, const std::vector<std::string> &set_columns,
                       const std::vector<std::string> &key);
// DELETE FROM table WHERE key[j] = $(j+1).
std::string delete_row(const QualifiedName &table, const std::vector<std::string> &key);
// TRUNCATE of the tables (ONLY each: the stream lists every table it reached).
std::string truncate_tables(const std::vector<QualifiedName> &tables);

}  // namespace pgcutover::sql::follow
