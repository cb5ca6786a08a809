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
constexpr const char *STAGE_ACTION = "pgcutover$action";
constexpr const char *STAGE_UNCHANGED = "pgcutover$unchanged";

// $1 schema, $2 table -> per column of the target table: name, its type
// with domains resolved to their base type (a stage holds NULLs a domain
// may refuse), whether it is GENERATED ALWAYS AS IDENTITY (never assigned
// by an UPDATE), whether it is a generated column. No rows: no such table.
std::string target_columns(int server_version);
// CREATE TEMP TABLE IF NOT EXISTS stage (columns with `types`, the action
// columns) ON COMMIT DELETE ROWS: made once per session and table shape.
std::string create_stage(const std::string &stage, const std::vector<std::string> &columns,
                         const std::vector<std::string> &types);
// COPY stage (columns, action, unchanged) FROM STDIN (text format).
std::string copy_into_stage(const std::string &stage, const std::vector<std::string> &columns);
// Empties a stage used earlier in the same transaction (a TRUNCATE's batch
// may stage a table twice before the commit empties it).
std::string empty_stage(const std::string &stage);
// The applier's session: the target's foreign keys and ordinary triggers quiet.
const char *replica_role();
// Around a table's set statements, so a unique violation falls back to ordered replay.
const char *savepoint_sets();
const char *rollback_to_sets();
const char *release_sets();
// Deletes the target rows whose key a 'd' row of the stage holds.
std::string delete_staged(const QualifiedName &table, const std::string &stage, const std::vector<std::string> &key);
// Updates the target rows whose key a 'p' row holds: every column of
// `settable` (neither key nor identity ALWAYS) the row does not mark
// unchanged (column i of `columns` is unchanged[i+1]).
std::string update_staged_partial(const QualifiedName &table, const std::string &stage,
                                  const std::vector<std::string> &columns, const std::vector<std::string> &key,
                                  const std::vector<std::string> &settable);
// Inserts the 'u' rows, or updates the `settable` columns of the target row of the same key.
std::string upsert_staged(const QualifiedName &table, const std::string &stage, const std::vector<std::string> &columns,
                          const std::vector<std::string> &key, const std::vector<std::string> &settable);

// Ordered replay, one change each, values as untyped text parameters $1...:
// INSERT ... VALUES ($1..$n) ON CONFLICT (key) DO UPDATE the settable columns.
std::string upsert_row(const QualifiedName &table, const std::vector<std::string> &columns,
                       const std::vector<std::string> &key, const std::vector<std::string> &settable);
// UPDATE table SET set_columns[i] = $(i+1) WHERE key[j] = $(n+j+1).
std::string update_row(const QualifiedName &table, const std::vector<std::string> &set_columns,
                       const std::vector<std::string> &key);
// DELETE FROM table WHERE key[j] = $(j+1).
std::string delete_row(const QualifiedName &table, const std::vector<std::string> &key);
// TRUNCATE of the tables (ONLY each: the stream lists every table it reached).
std::string truncate_tables(const std::vector<QualifiedName> &tables);

// The applied position, per slot, in the tool schema on the target: the end
// of the last source transaction whose changes are committed there. Written
// in each batch's own transaction.
std::string create_applied(const Ident &tool_schema);
std::string read_applied(const Ident &tool_schema);    // $1 slot -> applied_end (text), batches
std::string record_applied(const Ident &tool_schema);  // $1 slot, $2 applied_end

}  // namespace pgcutover::sql::follow
