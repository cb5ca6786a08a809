#pragma once
// The ledger: pgcutover's own tables on the target, in the schema `s`.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::ledger {
std::string create_tables(const Ident &s);
std::string insert_job(const Ident &s);      // $1 job, $2 command, $3 source, $4 plan json, $5 created_whole, $6 generation, $7 started_by, $8 state
std::string select_job(const Ident &s);      // $1 job -> state, created_whole, schema_state, finished_at ("" if not), generation
std::string insert_created(const Ident &s);  // $1 job, $2 schemas text[], $3 names text[] (in order)
std::string select_created(const Ident &s);  // $1 job -> table_schema, table_name, in order
std::string reset_job(const Ident &s);       // $1 job: delete its ranges (a finished job starts over)
std::string update_job(const Ident &s);      // $1 job, $2 state, $3 schema_state, $4 generation
std::string next_generation(const Ident &s); // $1 job -> a generation later than the job's
std::string fence_job(const Ident &s);       // $1 job, $2 generation, $3 started_by: --restart fences old workers out
std::string job_generation(const Ident &s, bool lock);  // $1 job -> generation, started_by, started_at (FOR SHARE when lock)
// $1 job, $2 generation, then one array per column, element i for range i:
// $3 schemas, $4 tables, $5 range ids, $6 lower and $7 upper bounds (text[]
// literals, '' when open), $8 planned bytes, $9 strategies, $10 formats.
std::string insert_ranges(const Ident &s);
std::string select_ranges(const Ident &s);   // $1 job -> schema, table, range, lower, upper (JSON arrays), planned, strategy, format, state
std::string claim_range(const Ident &s);     // $1 job, $2 schema, $3 table, $4 range, $5 generation -> state (FOR UPDATE SKIP LOCKED)
std::string mark_done(const Ident &s);       // $1..$4 key, $5 rows, $6 bytes, $7 snapshot id, $8 snapshot time, $9 xmin, $10 done_by, $11 started, $12 generation
std::string set_pending_choice(const Ident &s); // $1 job, $2 schema, $3 table, $4 strategy, $5 format: its pending ranges
std::string count_pending(const Ident &s);   // $1 job -> pending ranges
// $1 job -> schema, name of every table whose ranges are all done, the
// earliest finished first.
std::string tables_done(const Ident &s);
std::string table_points(const Ident &s);    // $1 job -> schema, table, earliest snapshot time, its xmin
std::string upsert_watermark(const Ident &s);  // $1 schema, $2 table, $3 part, $4 point, $5 xmin, $6 method
std::string read_watermark(const Ident &s);    // $1 schema, $2 table -> earliest point, its xmin
// Triggers and foreign keys set aside on the target (see ledger/write_guard.hpp).
std::string insert_set_aside(const Ident &s);  // $1 kind, $2 schema, $3 table, $4 name, $5 definition, $6 validate
std::string select_set_aside(const Ident &s);  // -> kind, schema, table, name, definition, validate, state (triggers first)
std::string mark_recreated(const Ident &s);    // $1 kind, $2 schema, $3 table, $4 name: back, VALIDATE due
std::string delete_set_aside(const Ident &s);  // $1 kind, $2 schema, $3 table, $4 name
// Every table with a watermark: copied or synced by the tool -> schema, name.
std::string watermarked_tables(const Ident &s);
std::string clear_watermark_parts(const Ident &s);  // $1 schema, $2 table
// Many tables at once: every table's earliest point, its xmin and reread ->
// schema, table, point, xmin, reread.
std::string read_watermarks(const Ident &s);
// $1 schemas, $2 tables (text[]): their parts deleted.
std::string clear_watermark_parts_of(const Ident &s);
// $1 schemas, $2 tables, $3 points, $4 xmins (text[]), $5 method: each table's committed point.
std::string upsert_watermarks(const Ident &s);
// The history of rehearsals (ledger/rehearsals.hpp), created on first use.
std::string create_rehearsals(const Ident &s);
std::string insert_rehearsal(const Ident &s);   // $1 run_at, $2 total, $3 sync, $4 budget, $5 safety, $6 fits, $7 go, $8 entry json
std::string recent_rehearsals(const Ident &s);  // $1 how many -> entry json text, newest first
const char *tables_exist();  // $1 ledger schema -> bool: its jobs and ranges tables are there
const char *setup_lock();    // transaction-level advisory lock serializing create_tables
const char *job_lock();      // $1 lock name: session-level advisory lock
const char *job_unlock();    // $1 lock name
const char *try_job_lock();  // $1 lock name -> granted (bool); session-level, ends with the session
// The target's run lock (ledger/run_lock.hpp), keyed by $1 the tool schema.
const char *try_run_lock(bool shared);  // $1 tool schema -> granted (bool)
const char *run_unlock(bool shared);    // $1 tool schema
const char *run_lock_holders();         // $1 tool schema -> pid, mode, client, user, backend start of other holders
std::string record_run(const Ident &s); // $1 command, $2 worker: this session holds the run lock
std::string run_record(const Ident &s); // $1 pid -> command, worker, since (no row: not recorded, or stale)
const char *runs_table_exists();        // $1 tool schema -> bool
// $1 schema -> one row per object in it ("table s.jobs", ...); one row with NULL when the schema
// exists and is empty; no row when there is no such schema.
const char *schema_objects();
// $1 a pid also left out (this run's lock session) -> pid, "user@client state"
// of every other session of pgcutover on this database.
const char *other_tool_sessions();
std::string list_jobs(const Ident &s);           // -> job, state
std::string lock_ledger_nowait(const Ident &s);  // the ledger's tables, ACCESS EXCLUSIVE NOWAIT
std::string drop_schema(const Ident &s);         // DROP SCHEMA s CASCADE
}  // namespace pgcutover::sql::ledger
