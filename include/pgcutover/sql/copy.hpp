#pragma once
// Statements of the copy pipeline: COPY out of the source, COPY into the
// target (directly or into a staging table), and the ways staged rows land.
// Names are quoted here; range bounds are 'text'::type literals, because COPY
// takes no parameters.
#include <string>
#include <vector>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/sql/ident.hpp"
#include "pgcutover/sql/range.hpp"

namespace pgcutover::sql {

// COPY (SELECT cols FROM ONLY t WHERE pred) TO STDOUT (FORMAT f).
// COPY (SELECT cols FROM ONLY t WHERE (key) IN (the given keys, as text
// cast to the key's types)) TO STDOUT (FORMAT f).
std::string copy_out_keys(const QualifiedName &table, const std::vector<std::string> &columns,
                          const std::vector<std::string> &key, const std::vector<std::string> &key_types,
                          const std::vector<std::vector<std::string>> &keys, copybin::StreamFormat format);
std::string copy_out(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                     const KeyInterval &range, copybin::StreamFormat format, const std::string &filter = "");

// COPY t (cols) FROM STDIN (FORMAT f).
std::string copy_in(const QualifiedName &table, const std::vector<std::string> &columns,
                    copybin::StreamFormat format);

// A temp staging table shaped like the target's columns, dropped at commit.
std::string create_stage_table(const std::string &stage, const QualifiedName &target,
                               const std::vector<std::string> &columns);
std::string copy_in_stage(const std::string &stage, const std::vector<std::string> &columns,
                          copybin::StreamFormat format);
// The ALTER TABLE that keeps the temp stage's wide values in its own rows
// (STORAGE MAIN: compressed inline, out of line only when a row cannot fit a
// page), or NULL when no column is EXTENDED. The values are compressed once
// in the stage either way, and the merge reuses them; MAIN saves writing them
// to the stage's TOAST table and reading them back.
std::string stage_storage_main(const std::string &stage);
// pg_temp."stage": how the statements below name a temp staging table.
std::string temp_stage_ref(const std::string &stage);

// stage is an SQL reference (temp_stage_ref(), or a QualifiedName's quoted()).
// INSERT INTO t (cols) SELECT cols FROM stage ON CONFLICT (key) DO UPDATE SET
// c = EXCLUDED.c for every non-key column (DO NOTHING when all columns are key).
// With skip_unchanged, rows whose text form is already equal are not updated
// (compared as text: exact for every type, even those without an = operator).
// With a change_column too, a row whose change column differs from the
// target's is updated without that whole-row comparison (it has changed;
// the text form of large values is what the comparison costs).
std::string upsert_from_stage(const QualifiedName &target, const std::string &stage,
                              const std::vector<std::string> &columns, const std::vector<std::string> &key,
                              bool skip_unchanged = false, const std::string &change_column = "");

// Other ways to land staged rows, and write-side levers (bench).
std::string merge_from_stage(const QualifiedName &target, const std::string &stage_qualified,
                             const std::vector<std::string> &columns, const std::vector<std::string> &key);
std::string delete_matching_stage(const QualifiedName &target, const std::string &stage_qualified,
                                  const std::vector<std::string> &key);
// $1 table (quoted, qualified) -> one row per unique, non-partial index on
// plain columns other than the primary key: its key column names (never its
// INCLUDE columns) as a JSON array.
std::string unique_column_sets(int server_version);
// Target rows holding a unique value (these columns) that a staged row with
// another key takes: DELETE ... USING stage WHERE values equal AND keys
// differ, RETURNING each deleted row's key columns as text.
std::string delete_unique_holders(const QualifiedName &target, const std::string &stage_qualified,
                                  const std::vector<std::string> &unique_columns, const std::vector<std::string> &key);
std::string insert_from_stage(const QualifiedName &target, const std::string &stage_qualified,
                              const std::vector<std::string> &columns);
std::string create_unlogged_stage(const QualifiedName &stage, const QualifiedName &target,
                                  const std::vector<std::string> &columns);
// COPY FREEZE needs the table created or truncated in the same transaction.
std::string copy_in_freeze(const QualifiedName &table, const std::vector<std::string> &columns,
                           copybin::StreamFormat format);
std::string truncate(const QualifiedName &table);
// $1 schemas, $2 names -> schema, table, trigger, tgenabled of the enabled
// ON TRUNCATE user triggers of those tables.
const char *truncate_triggers();
// Several tables in one statement (their foreign keys among them allowed).
std::string truncate_tables(const std::vector<QualifiedName> &tables);
// Every row of the table itself (not its children), for Strategy::Replace:
// DELETE, not TRUNCATE, which foreign keys referencing the table refuse.
std::string delete_all(const QualifiedName &table);
// Around an upsert that may meet a unique value moved between rows.
std::string savepoint(const std::string &name);
std::string rollback_to_savepoint(const std::string &name);
std::string release_savepoint(const std::string &name);
std::string drop_table(const QualifiedName &table);

}  // namespace pgcutover::sql
