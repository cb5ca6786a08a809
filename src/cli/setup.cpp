#include "pgcutover/cli/setup.hpp"

#include <sstream>

#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/rehearse/config.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/units.hpp"

namespace pgcutover::cli {

namespace {

pg::SessionSettings session_settings(const std::string &role, const ConnectionOptions &o) {
  pg::SessionSettings s;
  s.role = role;
  s.lock_timeout_ms = util::parse_duration_ms(o.lock_timeout);
  s.statement_timeout_ms = util::parse_duration_ms(o.statement_timeout);
  return s;
}

i64 range_bytes(const std::string &text) {
  i64 b = util::parse_size(text);
  if (b < 1000000) throw_usage("--range-bytes must be at least 1MB");
  return b;
}

// "auto" or a time stamp; a point in the future would read nothing and move
// every watermark past changes not yet synced, so it is refused.
std::optional<util::TimePoint> since(const std::string &text) {
  if (text == "auto") return std::nullopt;
  std::optional<util::TimePoint> t = util::parse_iso(text);
  if (!t)
    throw_usage("--since '" + text + "' is not a time stamp",
                "use auto, or ISO 8601 such as 2026-11-30T22:00:00Z (without an offset it is UTC)");
  if (*t > util::now()) throw_usage("--since " + util::format_iso(*t) + " is in the future", "use auto or a past time");
  return t;
}

pipeline::PipelineOptions pipeline_options(int jobs, int retries, const std::string &spill_dir) {
  pipeline::PipelineOptions p;
  p.jobs = jobs;
  p.max_retries = retries;
  if (!spill_dir.empty()) p.spill_dir = std::filesystem::path(spill_dir);
  return p;
}

schema::SchemaOptions schema_options(const std::string &pg_bin, const ObjectOptions &o) {
  schema::SchemaOptions s;
  s.pg_bin = pg_bin;
  s.no_owner = o.no_owner;
  s.no_privileges = o.no_privileges;
  return s;
}

std::vector<std::string> split_list(const std::string &s, const char *what) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  if (out.empty()) throw_usage(std::string("empty list for ") + what);
  return out;
}

// A comma-separated list whose items must be among `allowed`.
std::vector<std::string> choices(const std::string &s, const std::vector<std::string> &allowed, const char *what) {
  std::vector<std::string> out = split_list(s, what);
  for (const std::string &item : out)
    if (std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
      std::string list;
      for (const auto &a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw_usage(std::string("unknown ") + what + " '" + item + "'", "use " + list);
    }
  return out;
}

}  // namespace

jobs::Scope scope_of(const ConnectionOptions &conn, const SelectionOptions &sel) {
  jobs::Scope s;
  pg::check_conninfo(conn.source, "--source");
  pg::check_conninfo(conn.target, "--target");
  s.ends = {conn.source, conn.target, session_settings("source", conn), session_settings("target", conn)};
  s.ends.source_settings.read_only = true;  // pgcutover never writes the source
  for (const std::string &t : sel.tables) s.tables.push_back(sql::parse_qualified_name(t));
  s.exclude_schemas = sel.exclude_schemas;
  s.tool_schema = sel.tool_schema;
  s.job = sel.job;
  s.jobs = sel.jobs;
  s.range_bytes = range_bytes(sel.range_bytes);
  return s;
}

jobs::CopyConfig copy_config(const CopyOptions &o) {
  jobs::CopyConfig c;
  c.scope = scope_of(o.conn, o.sel);
  c.strategy = merge::parse_strategy(o.strategy);
  c.format = plan::parse_format(o.format);
  c.pipeline = pipeline_options(o.sel.jobs, o.retries, o.spill_dir);
  c.pipeline.spill_level = o.spill_level;
  c.pipeline.keep_spill = o.keep_spill;
  c.pipeline.retry_delay_seconds = o.retry_delay;
  if (o.keep_spill && o.spill_dir.empty()) throw_usage("--keep-spill needs --spill-dir");
  c.schema = schema_options(o.pg_bin, o.objects);
  c.schema.lock_timeout_ms = c.scope.ends.target_settings.lock_timeout_ms;  // pg_restore's sessions wait no longer
  c.scope.with_fk_parents = o.objects.with_fk_parents;
  c.create_schema = o.schema;
  c.restart = o.restart;
  c.large_objects = o.large_objects;
  c.index_jobs = o.index_jobs;
  c.freeze_min_bytes = util::parse_size(o.freeze_above);
  c.index_builds = o.index_builds == "during-data"  ? jobs::CopyConfig::IndexBuilds::DuringData
                   : o.index_builds == "after-data" ? jobs::CopyConfig::IndexBuilds::AfterData
                                                    : jobs::CopyConfig::IndexBuilds::Auto;
  c.toast = pg::parse_toast_compression(o.loading.toast_compression);
  c.pipeline.async_commit = !o.loading.synchronous_commit;
  return c;
}

jobs::PlanConfig plan_config(const PlanOptions &o) {
  jobs::PlanConfig c;
  c.scope = scope_of(o.conn, o.sel);
  c.strategy = merge::parse_strategy(o.strategy);
  c.format = plan::parse_format(o.format);
  c.schema = schema_options("", o.objects);
  c.scope.with_fk_parents = o.objects.with_fk_parents;
  c.change_columns = sync::load_config(o.config);
  c.scan_below = util::parse_size(o.scan_below);
  c.writer_time_zone = o.writer_time_zone;
  c.allow_replica_identity = o.allow_replica_identity;
  return c;
}

jobs::LoadConfig load_config(const LoadOptions &o) {
  jobs::LoadConfig c;
  pg::check_conninfo(o.target, "--target");
  c.target_conninfo = o.target;
  c.target_settings.role = "target";
  c.folder = o.from_spill;
  c.jobs = o.jobs;
  c.schema = schema_options(o.pg_bin, o.objects);
  c.tool_schema = o.tool_schema;
  return c;
}

jobs::FinishConfig finish_config(const FinishOptions &o) {
  jobs::FinishConfig c;
  pg::check_conninfo(o.target, "--target");
  c.target_conninfo = o.target;
  c.target_settings.role = "target";
  c.tool_schema = o.tool_schema;
  c.force = o.force;
  return c;
}

jobs::VerifyConfig verify_config(const VerifyOptions &o) {
  jobs::VerifyConfig c;
  c.scope = scope_of(o.conn, o.sel);
  c.mode = verify::parse_mode(o.mode);
  c.method = verify::parse_method(o.hash);
  c.repair = o.repair;
  return c;
}

jobs::SyncConfig sync_config(const SyncOptions &o) {
  jobs::SyncConfig c;
  c.scope = scope_of(o.conn, o.sel);
  c.since = since(o.since);
  c.overlap_ms = util::parse_duration_ms(o.overlap);
  c.writer_time_zone = o.writer_time_zone;
  c.look_back_warn_s = static_cast<double>(util::parse_duration_ms(o.warn_look_back)) / 1000.0;
  c.allow_scan = o.allow_scan;
  c.scan_below = util::parse_size(o.scan_below);
  c.deletes = o.deletes == "detect" ? jobs::Deletes::Detect : jobs::Deletes::Off;
  c.final_sync = o.final_sync;
  c.copy_uncopied = o.copy_uncopied;
  c.large_objects = o.large_objects;
  c.change_columns = sync::load_config(o.config);
  c.pipeline = pipeline_options(o.sel.jobs, o.retries, o.spill_dir);
  c.schema = schema_options(o.pg_bin, o.objects);
  c.schema.lock_timeout_ms = c.scope.ends.target_settings.lock_timeout_ms;
  c.toast = pg::parse_toast_compression(o.loading.toast_compression);
  c.pipeline.async_commit = !o.loading.synchronous_commit;
  return c;
}

jobs::BenchConfig bench_config(const BenchOptions &o) {
  jobs::BenchConfig c;
  c.scope = scope_of(o.conn, o.sel);
  std::vector<int> jobs;
  for (const std::string &j : split_list(o.jobs, "--jobs")) jobs.push_back(std::max(1, std::atoi(j.c_str())));
  std::vector<i64> sizes;
  for (const std::string &r : split_list(o.range_bytes, "--range-bytes")) sizes.push_back(util::parse_size(r));
  std::vector<std::string> spills = split_list(o.spills, "--spill");
  for (const std::string &s : spills)
    if (s != "off" && s.rfind("zstd", 0) != 0) throw_usage("unknown --spill '" + s + "'", "use off, zstd1, zstd3, ...");
  strategy_bench::BenchOptions &b = c.options;
  b.combos = strategy_bench::combinations(
      jobs, sizes, choices(o.formats, {"binary", "text"}, "--format"), spills,
      choices(o.merges, {"direct", "freeze", "upsert", "upsert-guard", "merge", "delete-insert"}, "--merge"),
      choices(o.toasts, {"default", "pglz", "lz4"}, "--toast"), choices(o.stagings, {"temp", "unlogged"}, "--staging"),
      choices(o.intos, {"empty", "prefilled"}, "--into"));
  b.repeat = o.repeat;
  b.sample = o.sample;
  b.max_seconds = o.max_seconds;
  b.spill_dir = o.spill_dir;
  return c;
}

jobs::RehearseConfig rehearse_config(const RehearseOptions &o) {
  rehearse::RehearsalConfig file = rehearse::load_rehearsal_config(o.config);
  jobs::RehearseConfig c;
  jobs::SyncConfig &s = c.sync;
  ConnectionOptions conn{file.source, file.target};
  SelectionOptions sel;
  sel.tables = file.tables;
  sel.jobs = file.jobs;
  sel.tool_schema = file.tool_schema;
  s.scope = scope_of(conn, sel);
  s.overlap_ms = util::parse_duration_ms(file.overlap);
  s.writer_time_zone = file.writer_time_zone;
  s.allow_scan = file.allow_scan;
  if (file.deletes != "off" && file.deletes != "detect") throw_usage(o.config + ": 'deletes' takes off or detect");
  s.deletes = file.deletes == "detect" ? jobs::Deletes::Detect : jobs::Deletes::Off;
  s.final_sync = true;
  s.change_columns = sync::load_config(o.config);
  s.pipeline = pipeline_options(file.jobs, 5, "");
  c.verify_mode = verify::parse_mode(file.verify);
  c.budget_seconds = static_cast<double>(util::parse_duration_ms(o.budget.empty() ? file.budget : o.budget)) / 1000.0;
  c.safety = file.safety;
  for (const rehearse::Check &k : file.checks) c.checks.push_back({k.name, k.sql, k.same_rows});
  for (const rehearse::Query &q : file.queries) c.queries.push_back({q.name, q.sql});
  c.query_runs = file.query_runs;
  c.query_tolerance = file.query_tolerance;
  c.queries_must_not_regress = file.queries_must_not_regress;
  c.history_dir = o.history_dir.empty() ? file.history_dir : o.history_dir;
  c.config_path = o.config;
  return c;
}

}  // namespace pgcutover::cli
