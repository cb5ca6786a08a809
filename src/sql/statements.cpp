#include "pgcutover/sql/statements.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "pgcutover/util/error.hpp"

namespace pgcutover::sql {

namespace {

const char *format_option(copybin::StreamFormat format) {
  return format == copybin::StreamFormat::Binary ? "(FORMAT binary)" : "(FORMAT text)";
}

// ('v1'::t1, 'v2'::t2) or 'v'::t for a one-column key.
std::string bound_literal(const KeySpec &key, const plan::KeyBound &b) {
  if (b.values.size() != key.columns.size()) throw_internal("key bound has the wrong number of values");
  std::string out;
  for (size_t i = 0; i < b.values.size(); ++i) {
    if (i) out += ", ";
    out += quote_literal(b.values[i]) + "::" + key.types[i];
  }
  return key.columns.size() == 1 ? out : "(" + out + ")";
}

std::string key_expr(const KeySpec &key) {
  std::string cols = ident_list(key.columns);
  return key.columns.size() == 1 ? cols : "(" + cols + ")";
}

}  // namespace

std::string range_predicate(const KeySpec &key, const plan::KeyRange &range) {
  std::string out;
  if (range.lower) out = key_expr(key) + " >= " + bound_literal(key, *range.lower);
  if (range.upper) {
    if (!out.empty()) out += " AND ";
    out += key_expr(key) + " < " + bound_literal(key, *range.upper);
  }
  return out;
}

std::string copy_out(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                     const plan::KeyRange &range, copybin::StreamFormat format, const std::string &filter) {
  std::string pred = range_predicate(key, range);
  if (!filter.empty()) pred = pred.empty() ? "(" + filter + ")" : pred + " AND (" + filter + ")";
  std::string select = fmt::format("SELECT {} FROM ONLY {}", ident_list(columns), table);
  if (!pred.empty()) select += " WHERE " + pred;
  return fmt::format("COPY ({}) TO STDOUT {}", select, format_option(format));
}

std::string copy_in(const QualifiedName &table, const std::vector<std::string> &columns,
                    copybin::StreamFormat format) {
  return fmt::format("COPY {} ({}) FROM STDIN {}", table, ident_list(columns), format_option(format));
}

std::string create_stage_table(const std::string &stage, const QualifiedName &target,
                               const std::vector<std::string> &columns) {
  return fmt::format("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM ONLY {} WITH NO DATA",
                     quote_ident(stage), ident_list(columns), target);
}

std::string copy_in_stage(const std::string &stage, const std::vector<std::string> &columns,
                          copybin::StreamFormat format) {
  return fmt::format("COPY pg_temp.{} ({}) FROM STDIN {}", quote_ident(stage), ident_list(columns),
                     format_option(format));
}

std::string upsert_from_stage(const QualifiedName &target, const std::string &stage,
                              const std::vector<std::string> &columns, const std::vector<std::string> &key,
                              bool skip_unchanged) {
  std::string cols = ident_list(columns);
  std::string out = fmt::format("INSERT INTO {} AS t ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} ON CONFLICT ({}) ", target, cols,
                                cols, stage, ident_list(key));
  std::string sets;
  for (const std::string &c : columns) {
    bool is_key = false;
    for (const std::string &k : key) is_key = is_key || k == c;
    if (is_key) continue;
    if (!sets.empty()) sets += ", ";
    sets += quote_ident(c) + " = EXCLUDED." + quote_ident(c);
  }
  if (sets.empty()) return out + "DO NOTHING";
  out += "DO UPDATE SET " + sets;
  if (skip_unchanged)
    out += " WHERE ROW(" + ident_list(columns, "t.") + ")::text IS DISTINCT FROM ROW(" + ident_list(columns, "EXCLUDED.") +
           ")::text";
  return out;
}

std::string merge_from_stage(const QualifiedName &target, const std::string &stage,
                             const std::vector<std::string> &columns, const std::vector<std::string> &key) {
  std::string on, sets;
  for (size_t i = 0; i < key.size(); ++i) on += (i ? " AND " : "") + std::string("t.") + quote_ident(key[i]) + " = s." + quote_ident(key[i]);
  for (const std::string &c : columns)
    if (std::find(key.begin(), key.end(), c) == key.end()) sets += (sets.empty() ? "" : ", ") + quote_ident(c) + " = s." + quote_ident(c);
  std::string out = fmt::format("MERGE INTO {} AS t USING {} AS s ON {} ", target, stage, on);
  if (!sets.empty()) out += "WHEN MATCHED THEN UPDATE SET " + sets + " ";
  return out + fmt::format("WHEN NOT MATCHED THEN INSERT ({}) OVERRIDING SYSTEM VALUE VALUES ({})", ident_list(columns),
                           ident_list(columns, "s."));
}

std::string delete_matching_stage(const QualifiedName &target, const std::string &stage,
                                  const std::vector<std::string> &key) {
  std::string on;
  for (size_t i = 0; i < key.size(); ++i) on += (i ? " AND " : "") + std::string("t.") + quote_ident(key[i]) + " = s." + quote_ident(key[i]);
  return fmt::format("DELETE FROM {} AS t USING {} AS s WHERE {}", target, stage, on);
}

std::string insert_from_stage(const QualifiedName &target, const std::string &stage,
                              const std::vector<std::string> &columns) {
  return fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}", target, ident_list(columns),
                     ident_list(columns), stage);
}

std::string create_unlogged_stage(const QualifiedName &stage, const QualifiedName &target,
                                  const std::vector<std::string> &columns) {
  return fmt::format("CREATE UNLOGGED TABLE {} AS SELECT {} FROM ONLY {} WITH NO DATA", stage, ident_list(columns), target);
}

std::string copy_in_freeze(const QualifiedName &table, const std::vector<std::string> &columns,
                           copybin::StreamFormat format) {
  return fmt::format("COPY {} ({}) FROM STDIN (FORMAT {}, FREEZE)", table, ident_list(columns),
                     format == copybin::StreamFormat::Binary ? "binary" : "text");
}

std::string truncate(const QualifiedName &table) { return fmt::format("TRUNCATE ONLY {}", table); }
std::string drop_table(const QualifiedName &table) { return fmt::format("DROP TABLE IF EXISTS {}", table); }

std::string lock_holders() {
  return "SELECT l.pid, a.usename, a.application_name, l.mode, left(a.query, 120), l.relation::regclass::text "
         "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
         "WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
         "current_database()) AND l.granted AND l.pid <> pg_catalog.pg_backend_pid() "
         "AND a.backend_type = 'client backend' AND l.relation >= 16384 "
         "AND ($1::text[] IS NULL OR l.relation = ANY (SELECT pg_catalog.to_regclass(n) FROM unnest($1::text[]) n)) "
         "ORDER BY l.pid";
}

std::string set_sequence() { return "SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::boolean)"; }

std::string order_by_key(const std::vector<std::string> &key, const std::string &prefix) {
  return ident_list(key, prefix);
}

std::string sample_keys(const QualifiedName &table, const std::vector<std::string> &key,
                        const std::vector<std::string> &columns, const std::string &tablesample) {
  // pg_column_size of each column is its stored size (compressed, and for a
  // TOASTed value the TOAST size) without fetching the value: a cheap estimate
  // of the heap + TOAST bytes each row accounts for. 24 is the tuple header.
  std::string keys, size = "24";
  // The table is aliased so ORDER BY names the key columns, not the ::text
  // output columns of the same name (which would sort as text).
  for (size_t i = 0; i < key.size(); ++i) keys += (i ? ", " : "") + std::string("s.") + quote_ident(key[i]) + "::text";
  for (const std::string &c : columns) size += " + coalesce(pg_catalog.pg_column_size(s." + quote_ident(c) + "), 0)";
  return fmt::format("SELECT {}, ({})::int8 FROM ONLY {} AS s {} ORDER BY {}", keys, size, table, tablesample,
                     ident_list(key, "s."));
}

}  // namespace pgcutover::sql

namespace pgcutover::sql::ledger {

namespace {
std::string t(const std::string &schema, const char *table) { return quote_ident(schema) + "." + quote_ident(table); }
}  // namespace

std::string create_tables(const std::string &s) {
  return fmt::format(R"SQL(
CREATE SCHEMA IF NOT EXISTS {0};
CREATE TABLE IF NOT EXISTS {1} (
  job            text PRIMARY KEY,
  command        text NOT NULL,
  source         text NOT NULL,
  plan           jsonb NOT NULL,
  created_tables jsonb NOT NULL DEFAULT '[]',
  state          text NOT NULL DEFAULT 'running',      -- running | finished
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
)SQL",
                     quote_ident(s), t(s, "jobs"), t(s, "ranges"), t(s, "watermarks"));
}

std::string insert_job(const std::string &s) {
  return fmt::format("INSERT INTO {} (job, command, source, plan, created_tables) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)",
                     t(s, "jobs"));
}

std::string select_job(const std::string &s) {
  return fmt::format("SELECT state, created_tables::text, schema_state FROM {} WHERE job = $1", t(s, "jobs"));
}

std::string reset_job(const std::string &s) { return fmt::format("DELETE FROM {} WHERE job = $1", t(s, "jobs")); }

std::string update_job(const std::string &s) {
  return fmt::format(
      "UPDATE {} SET state = $2, schema_state = $3, finished_at = CASE WHEN $2 = 'finished' THEN now() END WHERE job = $1",
      t(s, "jobs"));
}

std::string insert_range(const std::string &s) {
  return fmt::format(
      "INSERT INTO {} (job, table_schema, table_name, range_id, lower_bound, upper_bound, planned_bytes, strategy, format) "
      "VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9)",
      t(s, "ranges"));
}

std::string select_ranges(const std::string &s) {
  return fmt::format(
      "SELECT table_schema, table_name, range_id, array_to_json(lower_bound)::text, array_to_json(upper_bound)::text, "
      "planned_bytes, strategy, format, state "
      "FROM {} WHERE job = $1 ORDER BY table_schema, table_name, range_id",
      t(s, "ranges"));
}

std::string claim_range(const std::string &s) {
  return fmt::format(
      "SELECT state FROM {} WHERE job = $1 AND table_schema = $2 AND table_name = $3 AND range_id = $4 "
      "FOR UPDATE SKIP LOCKED",
      t(s, "ranges"));
}

std::string mark_done(const std::string &s) {
  return fmt::format(
      "UPDATE {} SET state = 'done', rows = $5, bytes = $6, snapshot_id = $7, snapshot_time = $8::timestamptz, "
      "snapshot_xmin = $9, done_by = $10, started_at = $11::timestamptz, finished_at = clock_timestamp() "
      "WHERE job = $1 AND table_schema = $2 AND table_name = $3 AND range_id = $4",
      t(s, "ranges"));
}

std::string count_pending(const std::string &s) {
  return fmt::format("SELECT count(*) FROM {} WHERE job = $1 AND state <> 'done'", t(s, "ranges"));
}

std::string table_points(const std::string &s) {
  return fmt::format(
      "SELECT DISTINCT ON (table_schema, table_name) table_schema, table_name, "
      "to_char(snapshot_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), snapshot_xmin "
      "FROM {} WHERE job = $1 ORDER BY table_schema, table_name, snapshot_time",
      t(s, "ranges"));
}

std::string upsert_watermark(const std::string &s) {
  return fmt::format(
      "INSERT INTO {} (table_schema, table_name, part, point, snapshot_xmin, method) "
      "VALUES ($1, $2, $3, $4::timestamptz, $5, $6) ON CONFLICT (table_schema, table_name, part) DO UPDATE SET "
      "point = EXCLUDED.point, snapshot_xmin = EXCLUDED.snapshot_xmin, method = EXCLUDED.method, updated_at = now()",
      t(s, "watermarks"));
}

std::string read_watermark(const std::string &s) {
  return fmt::format(
      "SELECT to_char(point AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), snapshot_xmin FROM {} "
      "WHERE table_schema = $1 AND table_name = $2 ORDER BY point LIMIT 1",
      t(s, "watermarks"));
}

std::string clear_watermark_parts(const std::string &s) {
  return fmt::format("DELETE FROM {} WHERE table_schema = $1 AND table_name = $2 AND part <> ''", t(s, "watermarks"));
}

}  // namespace pgcutover::sql::ledger

namespace pgcutover::sql::verify {

namespace {
std::string where(const KeySpec &key, const plan::KeyRange &range) {
  std::string p = range_predicate(key, range);
  return p.empty() ? "" : " WHERE " + p;
}
std::string row_text(const std::vector<std::string> &columns) {
  return "ROW(" + ident_list(columns) + ")::text";
}
std::string key_in(const KeySpec &key, const std::vector<plan::KeyBound> &keys) {
  std::string out = key.columns.size() == 1 ? ident_list(key.columns) : "(" + ident_list(key.columns) + ")";
  out += " IN (";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) out += ", ";
    std::string lit;
    for (size_t k = 0; k < keys[i].values.size(); ++k)
      lit += (k ? ", " : "") + quote_literal(keys[i].values[k]) + "::" + key.types[k];
    out += key.columns.size() == 1 ? lit : "(" + lit + ")";
  }
  return out + ")";
}
}  // namespace

std::string count_range(const QualifiedName &table, const KeySpec &key, const plan::KeyRange &range) {
  return fmt::format("SELECT count(*), 0::text FROM ONLY {}{}", table, where(key, range));
}

std::string server_digest(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                          const plan::KeyRange &range) {
  return fmt::format(
      "SELECT count(*), coalesce(sum(pg_catalog.hashtextextended({}, 0)::numeric), 0)::text FROM ONLY {}{}",
      row_text(columns), table, where(key, range));
}

std::string ordered_copy_out(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                             const plan::KeyRange &range, copybin::StreamFormat format) {
  return fmt::format("COPY (SELECT {} FROM ONLY {}{} ORDER BY {}) TO STDOUT {}", ident_list(columns), table,
                     where(key, range), ident_list(key.columns),
                     format == copybin::StreamFormat::Binary ? "(FORMAT binary)" : "(FORMAT text)");
}

std::string key_hashes(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                       const plan::KeyRange &range) {
  std::string keys;
  for (const std::string &k : key.columns) keys += quote_ident(k) + "::text, ";
  return fmt::format("SELECT {}md5({}) FROM ONLY {}{}", keys, row_text(columns), table, where(key, range));
}

std::string key_quantiles(const QualifiedName &table, const KeySpec &key, const plan::KeyRange &range, i64 step,
                          const std::string &filter) {
  std::string w = where(key, range);
  if (!filter.empty()) w = w.empty() ? " WHERE (" + filter + ")" : w + " AND (" + filter + ")";
  std::string keys_text, keys = ident_list(key.columns);
  for (size_t i = 0; i < key.columns.size(); ++i) keys_text += (i ? ", " : "") + quote_ident(key.columns[i]) + "::text";
  return fmt::format(
      "SELECT {}, pgcutover_rn FROM (SELECT {}, row_number() OVER (ORDER BY {}) AS pgcutover_rn FROM ONLY {}{}) s "
      "WHERE pgcutover_rn % {} = 0 ORDER BY pgcutover_rn",
      keys_text, keys, keys, table, w, step);
}

std::string rows_by_keys(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                         const std::vector<plan::KeyBound> &keys) {
  std::string cols;
  for (const std::string &k : key.columns) cols += quote_ident(k) + "::text, ";
  for (size_t i = 0; i < columns.size(); ++i) cols += (i ? ", " : "") + quote_ident(columns[i]) + "::text";
  return fmt::format("SELECT {} FROM ONLY {} WHERE {}", cols, table, key_in(key, keys));
}

std::string copy_out_keys(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                          const std::vector<plan::KeyBound> &keys, copybin::StreamFormat format) {
  return fmt::format("COPY (SELECT {} FROM ONLY {} WHERE {}) TO STDOUT {}", ident_list(columns), table,
                     key_in(key, keys), format == copybin::StreamFormat::Binary ? "(FORMAT binary)" : "(FORMAT text)");
}

std::string delete_keys(const QualifiedName &table, const KeySpec &key, const std::vector<plan::KeyBound> &keys) {
  return fmt::format("DELETE FROM ONLY {} WHERE {}", table, key_in(key, keys));
}

std::string max_value(const QualifiedName &table, const std::string &column) {
  return fmt::format("SELECT max({})::text FROM ONLY {}", quote_ident(column), table);
}

}  // namespace pgcutover::sql::verify

namespace pgcutover::sql::sync {

std::string since_predicate(const std::string &column, const std::string &point_iso) {
  return quote_ident(column) + " >= " + quote_literal(point_iso) + "::timestamptz";
}

std::string xmin_predicate(const std::string &txid) {
  // A 64-bit txid's low 32 bits are its xid; age() counts back from the
  // current xid modulo 2^32, so it stays right across wraparound while the
  // point is less than 2^31 transactions old (callers check that).
  unsigned long long v = std::stoull(txid);
  return "pg_catalog.age(xmin) <= pg_catalog.age(" + quote_literal(std::to_string(v % 4294967296ULL)) + "::xid)";
}

std::string add_column(const QualifiedName &table, const std::string &column, const std::string &type,
                       const std::string &default_expr, bool not_null) {
  std::string out = fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, quote_ident(column), type);
  if (!default_expr.empty()) out += " DEFAULT " + default_expr;
  if (not_null) out += " NOT NULL";
  return out;
}

std::string count_where(const QualifiedName &table, const std::string &filter) {
  return fmt::format("SELECT count(*) FROM ONLY {} WHERE {}", table, filter);
}

}  // namespace pgcutover::sql::sync

namespace pgcutover::sql::bench {

std::string create_schema(const std::string &schema) { return "CREATE SCHEMA IF NOT EXISTS " + quote_ident(schema); }
std::string drop_schema(const std::string &schema) { return "DROP SCHEMA IF EXISTS " + quote_ident(schema) + " CASCADE"; }

std::string create_like(const QualifiedName &scratch, const QualifiedName &model) {
  return fmt::format("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)", scratch, model);
}

std::string create_from_columns(const QualifiedName &scratch, const std::vector<std::string> &names,
                                const std::vector<std::string> &types, const std::vector<std::string> &key) {
  std::string cols;
  for (size_t i = 0; i < names.size(); ++i) cols += (i ? ", " : "") + quote_ident(names[i]) + " " + types[i];
  if (!key.empty()) cols += ", PRIMARY KEY (" + ident_list(key) + ")";
  return fmt::format("CREATE TABLE {} ({})", scratch, cols);
}

std::string set_compression(const QualifiedName &table, const std::string &column, const std::string &method) {
  if (method != "pglz" && method != "lz4") throw_usage("unknown TOAST compression '" + method + "'");
  return fmt::format("ALTER TABLE {} ALTER COLUMN {} SET COMPRESSION {}", table, quote_ident(column), method);
}

std::string thin_out(const QualifiedName &table, const std::vector<std::string> &key) {
  return fmt::format("DELETE FROM {} WHERE (pg_catalog.hashtext(ROW({})::text) & 15) = 0", table, ident_list(key));
}

std::string vacuum_analyze(const QualifiedName &table) { return fmt::format("VACUUM ANALYZE {}", table); }
std::string current_wal_lsn() { return "SELECT pg_catalog.pg_current_wal_lsn()::text"; }
std::string wal_bytes_since() {
  return "SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), $1::pg_lsn)::bigint";
}

}  // namespace pgcutover::sql::bench

namespace pgcutover::sql::misc {

std::string table_exists() { return "SELECT pg_catalog.to_regclass($1) IS NOT NULL"; }
std::string minus_ms() {
  return "SELECT to_char(($1::timestamptz - $2::bigint * interval '1 millisecond') AT TIME ZONE 'UTC', "
         "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}
std::string xid_age() { return "SELECT pg_catalog.age(($1::bigint % 4294967296)::text::xid)"; }
std::string analyze(const QualifiedName &table) { return fmt::format("ANALYZE {}", table); }
std::string reset_search_path() { return "RESET search_path"; }

}  // namespace pgcutover::sql::misc
