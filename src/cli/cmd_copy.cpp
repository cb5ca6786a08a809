// pgcutover copy, phase by phase: connect, snapshot, plan, create missing
// tables (pg_dump pre-data), copy the ranges, build indexes and constraints
// (pg_dump post-data, several at a time), set sequences, report.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/pipeline/range_io.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/sequences/sequences.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::cli {

namespace fs = std::filesystem;

namespace {

// A private temp folder for the schema archive, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pgcutover-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw_usage("cannot create a temp folder in " + fs::temp_directory_path().string());
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path &path() const { return path_; }

 private:
  fs::path path_;
};

nlohmann::json manifest(const plan::Plan &plan, const pg::SnapshotInfo &snap, bool has_archive) {
  nlohmann::json tables = nlohmann::json::array();
  for (const plan::TablePlan &tp : plan.tables) {
    nlohmann::json cols = nlohmann::json::array(), ranges = nlohmann::json::array();
    for (const catalog::ColumnDef &c : tp.table.columns) cols.push_back({{"name", c.name}, {"type", c.type}});
    auto bound = [](const std::optional<plan::KeyBound> &b) { return b ? nlohmann::json(b->values) : nlohmann::json(nullptr); };
    for (const plan::KeyRange &r : tp.ranges)
      ranges.push_back({{"id", r.id},
                        {"lower", bound(r.lower)},
                        {"upper", bound(r.upper)},
                        {"planned_bytes", r.planned_bytes},
                        {"file", pipeline::spill_file_name(tp, r)}});
    tables.push_back({{"schema", tp.table.name.schema},
                      {"table", tp.table.name.name},
                      {"columns", cols},
                      {"key", tp.table.key},
                      {"key_types", tp.table.key_types},
                      {"format", copybin::to_string(tp.format)},
                      {"ranges", ranges}});
  }
  return {{"version", 1},
          {"snapshot", {{"id", snap.id}, {"taken_at", snap.taken_at}, {"xmin", snap.xmin}}},
          {"schema_archive", has_archive ? nlohmann::json("schema.dump") : nlohmann::json(nullptr)},
          {"tables", tables}};
}

}  // namespace

int run_copy(const CopyOptions &opt, const CommonOptions &common) {
  report::Reporter reporter(!common.json, common.quiet);
  report::RunReport rep;
  pipeline::Endpoints ends{opt.source, opt.target, session_settings("source", opt), session_settings("target", opt)};
  plan::BuildOptions bopt = build_options(opt);
  pipeline::PipelineOptions popt;
  popt.jobs = opt.jobs;
  if (!opt.spill_dir.empty()) popt.spill_dir = fs::path(opt.spill_dir);
  popt.spill_level = opt.spill_level;
  popt.keep_spill = opt.keep_spill;
  if (opt.keep_spill && opt.spill_dir.empty()) throw_usage("--keep-spill needs --spill-dir");
  schema::SchemaOptions sopt;
  sopt.pg_bin = opt.pg_bin;
  sopt.exclude_schemas = bopt.exclude_schemas;
  sopt.no_owner = opt.no_owner;

  // Connect; refuse a target that cannot take writes before reading anything.
  pg::Connection dst = pg::Connection::open(opt.target, ends.target_settings);
  check_target_writable(dst);
  // One exported snapshot: every read of the source sees the same instant.
  pg::SnapshotHolder snap(pg::Connection::open(opt.source, ends.source_settings));
  const pg::SnapshotInfo &si = snap.info();
  rep.set("command", "copy");
  rep.set("source", snap.conn().display_name());
  rep.set("target", dst.display_name());
  rep.set("snapshot", {{"id", si.id}, {"taken_at", si.taken_at}, {"xmin", si.xmin}, {"txid_snapshot", si.xip}});
  log::info("copying as of {} (snapshot {}, xmin {})", si.taken_at, si.id, si.xmin);

  // Plan: catalog, checks, ranges. Every refusal is reported before anything is written.
  plan::Plan plan;
  {
    report::PhaseTimer t(rep, "plan_ranges");
    plan = plan::build_plan(snap.conn(), dst, bopt);
  }
  plan::check_refusals(plan);
  if (plan.tables.empty()) throw_usage("no table to copy", "the source has no user table, or --table matched none");

  // Schema: tables the target lacks come from pg_dump, pre-data now, post-data later.
  std::vector<sql::QualifiedName> missing, all_names;
  for (const plan::TablePlan &tp : plan.tables) {
    all_names.push_back(tp.table.name);
    if (!tp.target_exists) missing.push_back(tp.table.name);
  }
  std::optional<TempDir> tmp;
  std::optional<fs::path> archive;
  if (!missing.empty()) {
    if (!opt.schema) {
      std::string list;
      for (const auto &m : missing) list += (list.empty() ? "" : ", ") + m.display();
      throw_usage("tables missing on the target: " + list, "create them first, or drop --no-schema");
    }
    report::PhaseTimer t(rep, "create_tables");
    fs::path dir;
    if (popt.spill_dir && popt.keep_spill) {
      fs::create_directories(*popt.spill_dir);
      dir = *popt.spill_dir;
    } else {
      tmp.emplace();
      dir = tmp->path();
    }
    bool whole = plan.whole_database && !plan.target_has_tables;
    log::info("creating {} table(s) on the target from pg_dump --section=pre-data", missing.size());
    std::vector<sql::QualifiedName> dump_list = missing;
    dump_list.insert(dump_list.end(), plan.missing_ancestors.begin(), plan.missing_ancestors.end());
    archive = schema::dump_schema(opt.source, si, whole ? std::nullopt : std::optional(dump_list), dir, sopt);
    schema::restore_section(opt.target, *archive, "pre-data", 1, sopt);
  }
  if (popt.spill_dir && popt.keep_spill) {
    fs::create_directories(*popt.spill_dir);
    std::ofstream(*popt.spill_dir / "manifest.json") << manifest(plan, si, archive.has_value()).dump(2) << "\n";
  }

  // Data: every range through the pipeline.
  {
    report::PhaseTimer t(rep, "copy_data");
    log::info("copying {} table(s) in {} range(s), {} at a time", plan.tables.size(), plan.total_ranges(), popt.jobs);
    reporter.start_live(rep);
    try {
      pipeline::run_pipeline(plan, ends, si, popt, rep);
    } catch (...) {
      reporter.stop_live();
      throw;
    }
    reporter.stop_live();
  }

  // Post-data: indexes, constraints and triggers of the created tables, in parallel.
  if (archive) {
    report::PhaseTimer t(rep, "build_indexes");
    log::info("building indexes and constraints (pg_restore --section=post-data --jobs={})", popt.jobs);
    schema::restore_section(opt.target, *archive, "post-data", popt.jobs, sopt);
  }

  // Sequences feeding the copied tables stand where the source's do.
  nlohmann::json seqs = nlohmann::json::array();
  {
    report::PhaseTimer t(rep, "reset_sequences");
    for (const auto &c : sequences::reset_sequences(snap.conn(), dst, all_names, plan.whole_database,
                                                    bopt.exclude_schemas))
      seqs.push_back({{"sequence", c.sequence}, {"table", c.table}, {"old_value", c.old_value},
                      {"new_value", c.new_value}, {"is_called", c.new_called}});
  }
  rep.set("sequences", seqs);

  if (common.json) {
    std::printf("%s\n", rep.to_json().dump(2).c_str());
  } else if (!common.quiet) {
    std::printf("%s", rep.summary_text().c_str());
    std::printf("consistent point: %s (snapshot %s); %zu sequence(s) set\n", si.taken_at.c_str(), si.id.c_str(),
                seqs.size());
  }
  return 0;
}

int run_plan(const CopyOptions &opt, const CommonOptions &common) {
  report::Reporter reporter(false, common.quiet);
  plan::BuildOptions bopt = build_options(opt);
  pg::Connection dst = pg::Connection::open(opt.target, session_settings("target", opt));
  pg::SnapshotHolder snap(pg::Connection::open(opt.source, session_settings("source", opt)));
  plan::Plan plan = plan::build_plan(snap.conn(), dst, bopt);
  if (common.json) std::printf("%s\n", plan_to_json(plan).dump(2).c_str());
  else std::printf("%s", plan_to_text(plan).c_str());
  return plan.refused.empty() ? 0 : 3;
}

}  // namespace pgcutover::cli
