// The ledger's statements (see ledger.hpp).
#include "pgcutover/sql/ledger.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::ledger {

namespace {
std::string t(const Ident &schema, const char *table) { return fmt::format("{}.{}", schema, Ident{table}); }
}  // namespace

std::string create_tables(const Ident &s) {
  return fmt::format(R"SQL(
CREATE SCHEMA IF NOT EXISTS {0};
CREATE TABLE IF NOT EXISTS {1} (
  job            text PRIMARY KEY,
  command        text NOT NULL,
  source         text NOT NULL,
  plan           jsonb NOT NULL,
  created_tables jsonb NOT NULL DEFAULT '[]',         -- unused since `created` (kept for older ledgers)
  created_whole  boolean NOT NULL DEFAULT false,       -- the job created the whole schema of an empty target
  state          text NOT NULL DEFAULT 'running',      -- creating | running | finished
  schema_state   text NOT NULL DEFAULT 'pre_data_done', -- pre_data_done | post_data_done
  created_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);
CREATE TABLE IF NOT EXISTS {2} (
  job            text NOT NULL REFERENCES {1} (job) ON DELETE CASCADE,
  table_schema   text NOT NULL,
  table_name     text NOT NULL,
  range_id       integer NOT NULL,
  lower_bound    text[],
  upper_bound    text[],
  planned_bytes  bigint NOT NULL,
  strategy       text NOT NULL,
  format         text NOT NULL,
  state          text NOT NULL DEFAULT 'pending',       -- pending | done
  rows           bigint,
  bytes          bigint,
  snapshot_id    text,
  snapshot_time  timestamptz,
  snapshot_xmin  text,
  done_by        text,
  started_at     timestamptz,
  finished_at    timestamptz,
  source_order   boolean NOT NULL DEFAULT false,        -- plan::KeyRange::source_order
  PRIMARY KEY (job, table_schema, table_name, range_id)
);
-- The point each table's copy on the target stands at, for the next sync.
-- part '' is the table's committed point; other parts are ranges of a sync
-- in progress (each committed with its range's data). The table's point is the
-- earliest of its rows.
CREATE TABLE IF NOT EXISTS {3} (
  table_schema   text NOT NULL,
  table_name     text NOT NULL,
  part           text NOT NULL DEFAULT '',
  point          timestamptz NOT NULL,
  snapshot_xmin  text NOT NULL,
  method         text NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_schema, table_name, part)
);
-- What a writer without session_replication_role disabled or dropped on the
-- target (user triggers, foreign keys), each recorded in the transaction
-- that disabled or dropped it, deleted in the one that restores it: a crash
-- and rerun restores every one.
CREATE TABLE IF NOT EXISTS {4} (
  kind           text NOT NULL,                        -- trigger | foreign_key
  table_schema   text NOT NULL,
  table_name     text NOT NULL,
  name           text NOT NULL,
  definition     text NOT NULL,                        -- tgenabled, or pg_get_constraintdef
  at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, table_schema, table_name, name)
);
-- The tables a job created on the target (their post-data is built when
-- the data is in), in the order it recorded them.
CREATE TABLE IF NOT EXISTS {9} (
  job            text NOT NULL REFERENCES {1} (job) ON DELETE CASCADE,
  position       integer NOT NULL,
  table_schema   text NOT NULL,
  table_name     text NOT NULL,
  PRIMARY KEY (job, position)
);
-- Who holds the target's run lock (ledger/run_lock.hpp), by server session:
-- a row is current while its session holds the lock.
CREATE TABLE IF NOT EXISTS {7} (
  pid            integer PRIMARY KEY,
  command        text NOT NULL,
  worker         text NOT NULL,                        -- host:pid of the pgcutover process
  since          timestamptz NOT NULL
);
-- The job's generation: --restart gives the job a new one, and every claim and
-- done mark must match it, so a process still running the old plan cannot
-- mark ranges of the new one. Added to ledgers of older versions in place,
-- and only then: ALTER TABLE would wait for every range in flight.
DO $pgcutover$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = {5}::regclass
                 AND attname = 'generation' AND NOT attisdropped) THEN
    ALTER TABLE {1} ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0;
    ALTER TABLE {1} ADD COLUMN IF NOT EXISTS started_by text;
    ALTER TABLE {1} ADD COLUMN IF NOT EXISTS started_at timestamptz;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = {6}::regclass
                 AND attname = 'generation' AND NOT attisdropped) THEN
    ALTER TABLE {2} ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0;
  END IF;
  -- Ranges cut in the source's order of a text key (false: as before, which
  -- is how an older version cut them).
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = {6}::regclass
                 AND attname = 'source_order' AND NOT attisdropped) THEN
    ALTER TABLE {2} ADD COLUMN IF NOT EXISTS source_order boolean NOT NULL DEFAULT false;
  END IF;
  -- validate: a foreign key that was valid is validated again once back;
  -- state: set_aside, or recreated (back NOT VALID, its VALIDATE still due).
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = {8}::regclass
                 AND attname = 'state' AND NOT attisdropped) THEN
    ALTER TABLE {4} ADD COLUMN IF NOT EXISTS validate boolean NOT NULL DEFAULT true;
    ALTER TABLE {4} ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'set_aside';
  END IF;
  -- Created tables were JSON in the job's row: moved to {9}.
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = {5}::regclass
                 AND attname = 'created_whole' AND NOT attisdropped) THEN
    ALTER TABLE {1} ADD COLUMN IF NOT EXISTS created_whole boolean NOT NULL DEFAULT false;
    UPDATE {1} SET created_whole = coalesce((created_tables ->> 'whole')::boolean, false)
      WHERE jsonb_typeof(created_tables) = 'object';
    INSERT INTO {9} (job, position, table_schema, table_name)
      SELECT j.job, e.n, e.t ->> 0, e.t ->> 1 FROM {1} j,
             jsonb_array_elements(CASE WHEN jsonb_typeof(j.created_tables -> 'tables') = 'array'
                                       THEN j.created_tables -> 'tables' ELSE '[]' END) WITH ORDINALITY AS e(t, n)
      ON CONFLICT DO NOTHING;
  END IF;
END $pgcutover$;
)SQL",
                     s, t(s, "jobs"), t(s, "ranges"), t(s, "watermarks"), t(s, "set_aside"),
                     quote_literal(t(s, "jobs")), quote_literal(t(s, "ranges")), t(s, "runs"),
                     quote_literal(t(s, "set_aside")), t(s, "created"));
}

std::string insert_job(const Ident &s) {
  return fmt::format(
      "INSERT INTO {} (job, command, source, plan, created_whole, generation, started_by, started_at, state) "
      "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, clock_timestamp(), $8)",
      t(s, "jobs"));
}

std::string select_job(const Ident &s) {
  return fmt::format(
      "SELECT state, created_whole, schema_state, "
      "coalesce(to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), generation FROM {} WHERE job = $1",
      t(s, "jobs"));
}

std::string insert_created(const Ident &s) {
  return fmt::format(
      "INSERT INTO {} (job, position, table_schema, table_name) "
      "SELECT $1, u.n, u.s, u.t FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(s, t, n)",
      t(s, "created"));
}

std::string select_created(const Ident &s) {
  return fmt::format("SELECT table_schema, table_name FROM {} WHERE job = $1 ORDER BY position", t(s, "created"));
}

std::string reset_job(const Ident &s) { return fmt::format("DELETE FROM {} WHERE job = $1", t(s, "jobs")); }

std::string update_job(const Ident &s) {
  return fmt::format(
      "UPDATE {} SET state = $2, schema_state = $3, finished_at = CASE WHEN $2 = 'finished' THEN now() END "
      "WHERE job = $1 AND generation = $4",
      t(s, "jobs"));
}

std::string next_generation(const Ident &s) {
  // Later than any earlier generation of the job, and than any job of this
  // name that was removed since (microseconds of the clock).
  return fmt::format(
      "SELECT greatest(coalesce((SELECT generation FROM {} WHERE job = $1), 0) + 1, "
      "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
      t(s, "jobs"));
}

std::string fence_job(const Ident &s) {
  return fmt::format(
      "UPDATE {} SET generation = $2, started_by = $3, started_at = clock_timestamp() WHERE job = $1", t(s, "jobs"));
}

std::string job_generation(const Ident &s, bool lock) {
  return fmt::format(
      "SELECT generation, coalesce(started_by, 'another process'), "
      "coalesce(to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'an unknown time') "
      "FROM {} WHERE job = $1{}",
      t(s, "jobs"), lock ? " FOR SHARE" : "");
}

std::string insert_ranges(const Ident &s) {
  return fmt::format(
      "INSERT INTO {} (job, table_schema, table_name, range_id, lower_bound, upper_bound, planned_bytes, strategy, format, "
      "source_order, generation) SELECT $1, r.s, r.t, r.id, nullif(r.lo, '')::text[], nullif(r.up, '')::text[], r.bytes, "
      "r.strategy, r.format, r.source_order, $2 FROM unnest($3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], "
      "$8::bigint[], $9::text[], $10::text[], $11::boolean[]) AS r(s, t, id, lo, up, bytes, strategy, format, source_order)",
      t(s, "ranges"));
}

std::string select_ranges(const Ident &s) {
  return fmt::format(
      "SELECT table_schema, table_name, range_id, array_to_json(lower_bound)::text, array_to_json(upper_bound)::text, "
      "planned_bytes, strategy, format, state, source_order "
      "FROM {} WHERE job = $1 ORDER BY table_schema, table_name, range_id",
      t(s, "ranges"));
}

std::string claim_range(const Ident &s) {
  return fmt::format(
      "SELECT state FROM {} WHERE job = $1 AND table_schema = $2 AND table_name = $3 AND range_id = $4 "
      "AND generation = $5 FOR UPDATE SKIP LOCKED",
      t(s, "ranges"));
}

std::string mark_done(const Ident &s) {
  return fmt::format(
      "UPDATE {} SET state = 'done', rows = $5, bytes = $6, snapshot_id = $7, snapshot_time = $8::timestamptz, "
      "snapshot_xmin = $9, done_by = $10, started_at = $11::timestamptz, finished_at = clock_timestamp() "
      "WHERE job = $1 AND table_schema = $2 AND table_name = $3 AND range_id = $4 AND state = 'pending' "
      "AND generation = $12",
      t(s, "ranges"));
}

std::string set_pending_choice(const Ident &s) {
  return fmt::format(
      "UPDATE {} SET strategy = $4, format = $5 WHERE job = $1 AND table_schema = $2 AND table_name = $3"
      " AND state <> 'done'",
      t(s, "ranges"));
}

std::string count_pending(const Ident &s) {
  return fmt::format("SELECT count(*) FROM {} WHERE job = $1 AND state <> 'done'", t(s, "ranges"));
}

std::string tables_done(const Ident &s) {
  return fmt::format(
      "SELECT table_schema, table_name FROM {} WHERE job = $1 GROUP BY table_schema, table_name"
      " HAVING bool_and(state = 'done') ORDER BY max(finished_at), table_schema, table_name",
      t(s, "ranges"));
}

std::string table_points(const Ident &s) {
  return fmt::format(
      "SELECT DISTINCT ON (table_schema, table_name) table_schema, table_name, "
      "to_char(snapshot_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), snapshot_xmin "
      "FROM {} WHERE job = $1 ORDER BY table_schema, table_name, snapshot_time",
      t(s, "ranges"));
}

std::string upsert_watermark(const Ident &s) {
  return fmt::format(
      "INSERT INTO {} (table_schema, table_name, part, point, snapshot_xmin, method) "
      "VALUES ($1, $2, $3, $4::timestamptz, $5, $6) ON CONFLICT (table_schema, table_name, part) DO UPDATE SET "
      "point = EXCLUDED.point, snapshot_xmin = EXCLUDED.snapshot_xmin, method = EXCLUDED.method, updated_at = now()",
      t(s, "watermarks"));
}

std::string read_watermark(const Ident &s) {
  return fmt::format(
      "SELECT to_char(point AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), snapshot_xmin, "
      "bool_or(method = 'reread') OVER () FROM {} "
      "WHERE table_schema = $1 AND table_name = $2 ORDER BY point LIMIT 1",
      t(s, "watermarks"));
}

std::string insert_set_aside(const Ident &s) {
  return fmt::format("INSERT INTO {} (kind, table_schema, table_name, name, definition, validate) "
                     "VALUES ($1, $2, $3, $4, $5, $6)",
                     t(s, "set_aside"));
}

std::string select_set_aside(const Ident &s) {
  return fmt::format("SELECT kind, table_schema, table_name, name, definition, validate, state FROM {} "
                     "ORDER BY CASE kind WHEN 'trigger' THEN 0 ELSE 1 END, table_schema, table_name, name",
                     t(s, "set_aside"));
}

std::string mark_recreated(const Ident &s) {
  return fmt::format("UPDATE {} SET state = 'recreated' WHERE kind = $1 AND table_schema = $2 AND table_name = $3 AND name = $4",
                     t(s, "set_aside"));
}

std::string delete_set_aside(const Ident &s) {
  return fmt::format("DELETE FROM {} WHERE kind = $1 AND table_schema = $2 AND table_name = $3 AND name = $4",
                     t(s, "set_aside"));
}

std::string watermarked_tables(const Ident &s) {
  return fmt::format("SELECT DISTINCT table_schema, table_name FROM {} ORDER BY 1, 2", t(s, "watermarks"));
}

std::string read_watermarks(const Ident &s) {
  return fmt::format(
      "SELECT DISTINCT ON (table_schema, table_name) table_schema, table_name, "
      "to_char(point AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), snapshot_xmin, "
      "bool_or(method = 'reread') OVER (PARTITION BY table_schema, table_name) FROM {} "
      "ORDER BY table_schema, table_name, point",
      t(s, "watermarks"));
}

std::string clear_watermark_parts_of(const Ident &s) {
  return fmt::format(
      "DELETE FROM {} w USING unnest($1::text[], $2::text[]) AS u(s, t) "
      "WHERE w.table_schema = u.s AND w.table_name = u.t AND w.part <> ''",
      t(s, "watermarks"));
}

std::string upsert_watermarks(const Ident &s) {
  return fmt::format(
      "INSERT INTO {} (table_schema, table_name, part, point, snapshot_xmin, method) "
      "SELECT u.s, u.t, '', u.p::timestamptz, u.x, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
      "AS u(s, t, p, x) ON CONFLICT (table_schema, table_name, part) DO UPDATE SET "
      "point = EXCLUDED.point, snapshot_xmin = EXCLUDED.snapshot_xmin, method = EXCLUDED.method, updated_at = now()",
      t(s, "watermarks"));
}

std::string clear_watermark_parts(const Ident &s) {
  return fmt::format("DELETE FROM {} WHERE table_schema = $1 AND table_name = $2 AND part <> ''", t(s, "watermarks"));
}


const char *tables_exist() {
  return "SELECT count(*) = 2 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = $1 AND c.relname IN ('jobs', 'ranges') AND c.relkind = 'r'";
}

const char *setup_lock() {
  return "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pgcutover ledger setup'))";
}
const char *job_lock() { return "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext($1))"; }
const char *job_unlock() { return "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext($1))"; }
const char *try_job_lock() { return "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext($1))"; }

const char *schema_objects() {
  return "SELECT o.what FROM pg_catalog.pg_namespace n LEFT JOIN LATERAL ("
         "SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' "
         "WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END || ' ' || "
         "pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS what "
         "FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f') "
         "UNION ALL SELECT 'function ' || p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p "
         "WHERE p.pronamespace = n.oid) o ON true WHERE n.nspname = $1 ORDER BY 1";
}

const char *try_run_lock(bool shared) {
  return shared ? "SELECT pg_catalog.pg_try_advisory_lock_shared(pg_catalog.hashtext('pgcutover run'), pg_catalog.hashtext($1))"
                : "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('pgcutover run'), pg_catalog.hashtext($1))";
}

const char *run_unlock(bool shared) {
  return shared ? "SELECT pg_catalog.pg_advisory_unlock_shared(pg_catalog.hashtext('pgcutover run'), pg_catalog.hashtext($1))"
                : "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext('pgcutover run'), pg_catalog.hashtext($1))";
}

const char *run_lock_holders() {
  // A two-key advisory lock shows its keys as classid, objid (int4 -> oid
  // wraps negative hashes the same way on both sides) and objsubid 2.
  return "SELECT l.pid, l.mode, coalesce(host(a.client_addr), 'local'), coalesce(a.usename::text, ''), "
         "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
         "FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
         "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
         "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) "
         "AND l.classid = pg_catalog.hashtext('pgcutover run')::oid AND l.objid = pg_catalog.hashtext($1)::oid "
         "AND l.pid <> pg_catalog.pg_backend_pid() ORDER BY l.pid";
}

std::string record_run(const Ident &s) {
  return fmt::format("INSERT INTO {} (pid, command, worker, since) VALUES (pg_catalog.pg_backend_pid(), $1, $2, "
                     "clock_timestamp()) ON CONFLICT (pid) DO UPDATE SET command = EXCLUDED.command, "
                     "worker = EXCLUDED.worker, since = EXCLUDED.since",
                     t(s, "runs"));
}

std::string run_record(const Ident &s) {
  return fmt::format("SELECT command, worker, to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                     "FROM {} r JOIN pg_catalog.pg_stat_activity a ON a.pid = r.pid AND a.backend_start <= r.since "
                     "WHERE r.pid = $1",
                     t(s, "runs"));
}

const char *runs_table_exists() {
  return "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = $1 AND c.relname = 'runs' AND c.relkind = 'r')";
}

const char *other_tool_sessions() {
  return "SELECT pid, coalesce(usename, '') || '@' || coalesce(host(client_addr), 'local') || ' ' || coalesce(state, '') "
         "FROM pg_catalog.pg_stat_activity WHERE datname = pg_catalog.current_database() "
         "AND application_name = 'pgcutover' AND pid <> pg_catalog.pg_backend_pid() AND pid <> $1::int ORDER BY pid";
}

std::string list_jobs(const Ident &s) { return fmt::format("SELECT job, state FROM {} ORDER BY job", t(s, "jobs")); }

std::string lock_ledger_nowait(const Ident &s) {
  return fmt::format("LOCK TABLE {}, {}, {} IN ACCESS EXCLUSIVE MODE NOWAIT", t(s, "jobs"), t(s, "ranges"),
                     t(s, "watermarks"));
}

std::string drop_schema(const Ident &s) { return fmt::format("DROP SCHEMA {} CASCADE", s); }

std::string create_rehearsals(const Ident &s) {
  return fmt::format(R"SQL(
CREATE SCHEMA IF NOT EXISTS {0};
CREATE TABLE IF NOT EXISTS {1} (
  id             bigserial PRIMARY KEY,
  run_at         timestamptz NOT NULL,
  total_seconds  double precision NOT NULL,
  sync_seconds   double precision NOT NULL,
  budget_seconds double precision NOT NULL,
  safety         double precision NOT NULL,
  fits           boolean NOT NULL,
  go             boolean NOT NULL,
  entry          jsonb NOT NULL  -- the whole entry, phases included
);
)SQL",
                     s, t(s, "rehearsals"));
}
std::string insert_rehearsal(const Ident &s) {
  return fmt::format("INSERT INTO {} (run_at, total_seconds, sync_seconds, budget_seconds, safety, fits, go, entry) "
                     "VALUES ($1::timestamptz, $2::float8, $3::float8, $4::float8, $5::float8, $6::boolean, $7::boolean, $8::jsonb)",
                     t(s, "rehearsals"));
}
std::string recent_rehearsals(const Ident &s) {
  return fmt::format("SELECT entry::text FROM {} ORDER BY run_at DESC, id DESC LIMIT $1::int", t(s, "rehearsals"));
}

}  // namespace pgcutover::sql::ledger
