#pragma once
// Every statement text the engine sends about user tables lives here (catalog
// introspection lives in catalog.cpp). Names are always quoted through
// sql::quote_ident; values go as $n parameters, except in COPY, which takes no
// parameters: range bounds there are 'text'::type literals.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/plan/key_range.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql {

// The key columns and their types (format_type text), for range predicates.
struct KeySpec {
  std::vector<std::string> columns;
  std::vector<std::string> types;
};

// WHERE-clause body for a key range ("" for the whole table). Composite keys
// use row comparison, which a btree index on the key serves.
std::string range_predicate(const KeySpec &key, const plan::KeyRange &range);

// COPY (SELECT cols FROM ONLY t WHERE pred) TO STDOUT (FORMAT f).
std::string copy_out(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                     const plan::KeyRange &range, copybin::StreamFormat format, const std::string &filter = "");

// COPY t (cols) FROM STDIN (FORMAT f).
std::string copy_in(const QualifiedName &table, const std::vector<std::string> &columns,
                    copybin::StreamFormat format);

// A temp staging table shaped like the target's columns, dropped at commit.
std::string create_stage_table(const std::string &stage, const QualifiedName &target,
                               const std::vector<std::string> &columns);
std::string copy_in_stage(const std::string &stage, const std::vector<std::string> &columns,
                          copybin::StreamFormat format);

// stage is an SQL reference (e.g. pg_temp."pgcutover_stage"), made by the caller.
// INSERT INTO t (cols) SELECT cols FROM stage ON CONFLICT (key) DO UPDATE SET
// c = EXCLUDED.c for every non-key column (DO NOTHING when all columns are key).
// With skip_unchanged, rows whose text form is already equal are not updated
// (compared as text: exact for every type, even those without an = operator).
std::string upsert_from_stage(const QualifiedName &target, const std::string &stage,
                              const std::vector<std::string> &columns, const std::vector<std::string> &key,
                              bool skip_unchanged = false);

// Other sessions holding a granted lock on one of the tables $1 (text[] of
// quoted names; NULL = any user table): pid, user, application, mode, query, table.
std::string lock_holders();

// Other ways to land staged rows, and write-side levers (bench).
std::string merge_from_stage(const QualifiedName &target, const std::string &stage_qualified,
                             const std::vector<std::string> &columns, const std::vector<std::string> &key);
std::string delete_matching_stage(const QualifiedName &target, const std::string &stage_qualified,
                                  const std::vector<std::string> &key);
std::string insert_from_stage(const QualifiedName &target, const std::string &stage_qualified,
                              const std::vector<std::string> &columns);
std::string create_unlogged_stage(const QualifiedName &stage, const QualifiedName &target,
                                  const std::vector<std::string> &columns);
std::string copy_in_freeze(const QualifiedName &table, const std::vector<std::string> &columns,
                           copybin::StreamFormat format);
std::string truncate(const QualifiedName &table);
std::string drop_table(const QualifiedName &table);

// Sequences.
std::string set_sequence();  // SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::boolean)

// ORDER BY list of the key columns (quoted).
std::string order_by_key(const std::vector<std::string> &key, const std::string &prefix = "");

// Key-sample query for the range planner: key columns as text and an
// estimated on-disk size of each sampled row, in key order.
std::string sample_keys(const QualifiedName &table, const std::vector<std::string> &key,
                        const std::vector<std::string> &columns, const std::string &tablesample);

}  // namespace pgcutover::sql

// The ledger: pgcutover's own tables on the target, in `schema`.
namespace pgcutover::sql::ledger {
std::string create_tables(const std::string &schema);
std::string insert_job(const std::string &schema);      // $1 job, $2 command, $3 source, $4 plan json, $5 created tables json
std::string select_job(const std::string &schema);      // $1 job -> state, created_tables, schema_state
std::string reset_job(const std::string &schema);       // $1 job: delete its ranges (a finished job starts over)
std::string update_job(const std::string &schema);      // $1 job, $2 state, $3 schema_state
std::string insert_range(const std::string &schema);    // $1 job, $2 schema, $3 table, $4 range, $5 lower text[], $6 upper text[], $7 planned, $8 strategy, $9 format
std::string select_ranges(const std::string &schema);   // $1 job -> schema, table, range, lower, upper (JSON arrays), planned, strategy, format, state
std::string claim_range(const std::string &schema);     // $1 job, $2 schema, $3 table, $4 range -> state (FOR UPDATE SKIP LOCKED)
std::string mark_done(const std::string &schema);       // $1..$4 key, $5 rows, $6 bytes, $7 snapshot id, $8 snapshot time, $9 xmin, $10 done_by, $11 started
std::string count_pending(const std::string &schema);   // $1 job -> pending ranges
std::string table_points(const std::string &schema);    // $1 job -> schema, table, earliest snapshot time, its xmin
std::string upsert_watermark(const std::string &schema);  // $1 schema, $2 table, $3 part, $4 point, $5 xmin, $6 method
std::string read_watermark(const std::string &schema);    // $1 schema, $2 table -> earliest point, its xmin
std::string clear_watermark_parts(const std::string &schema);  // $1 schema, $2 table
}  // namespace pgcutover::sql::ledger

// Sync: change predicates, drift.
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
}  // namespace pgcutover::sql::sync

// Verification and repair.
namespace pgcutover::sql::verify {
// count(*) of a range.
std::string count_range(const QualifiedName &table, const KeySpec &key, const plan::KeyRange &range);
// count(*) and an order-independent 64-bit hash sum of every row's text form,
// computed on the server.
std::string server_digest(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                          const plan::KeyRange &range);
// COPY of the range in key order, for hashing on the client.
std::string ordered_copy_out(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                             const plan::KeyRange &range, copybin::StreamFormat format);
// Every key in the range (as text) with md5 of its row's text form.
std::string key_hashes(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                       const plan::KeyRange &range);
// Every step-th key of the range in key order (as text), to cut sub-ranges.
std::string key_quantiles(const QualifiedName &table, const KeySpec &key, const plan::KeyRange &range, i64 step,
                          const std::string &filter = "");
// The columns (as text) of the rows with the given keys.
std::string rows_by_keys(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                         const std::vector<plan::KeyBound> &keys);
// COPY of the rows with the given keys (for repair).
std::string copy_out_keys(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                          const std::vector<plan::KeyBound> &keys, copybin::StreamFormat format);
// DELETE of the rows with the given keys.
std::string delete_keys(const QualifiedName &table, const KeySpec &key, const std::vector<plan::KeyBound> &keys);
// The largest value of a column (as text), for sequences.
std::string max_value(const QualifiedName &table, const std::string &column);
}  // namespace pgcutover::sql::verify

// Bench scratch tables and measurements.
namespace pgcutover::sql::bench {
std::string create_schema(const std::string &schema);
std::string drop_schema(const std::string &schema);
std::string create_like(const QualifiedName &scratch, const QualifiedName &model);
// CREATE TABLE from column names and format_type() texts, with the key as PRIMARY KEY.
std::string create_from_columns(const QualifiedName &scratch, const std::vector<std::string> &names,
                                const std::vector<std::string> &types, const std::vector<std::string> &key);
std::string set_compression(const QualifiedName &table, const std::string &column, const std::string &method);
// Deletes about one row in 16 (by a hash of the key), for the "prefilled" case.
std::string thin_out(const QualifiedName &table, const std::vector<std::string> &key);
std::string vacuum_analyze(const QualifiedName &table);
std::string current_wal_lsn();
std::string wal_bytes_since();  // $1 pg_lsn text
}  // namespace pgcutover::sql::bench

// Small helpers of the commands.
namespace pgcutover::sql::misc {
std::string table_exists();      // $1 quoted name -> bool
std::string minus_ms();          // $1 timestamptz text, $2 milliseconds -> ISO 8601 UTC text
std::string xid_age();           // $1 txid (64-bit) -> age of its xid
std::string analyze(const QualifiedName &table);
std::string reset_search_path();
}  // namespace pgcutover::sql::misc
