// pgcutover copy, phase by phase: connect, snapshot, plan, create missing
// tables (pg_dump pre-data), copy the ranges, build indexes and constraints
// (pg_dump post-data, several at a time), set sequences, report.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/pipeline/range_io.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/sequences/sequences.hpp"
#include "pgcutover/sync/change_column.hpp"
#include "pgcutover/sync/drift.hpp"
#include "pgcutover/sync/watermark.hpp"
#include "pgcutover/util/cancel.hpp"
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

// Table list of a created-tables record: {"whole": bool, "tables": [[schema, name], ...]}.
std::vector<sql::QualifiedName> created_list(const nlohmann::json &created) {
  std::vector<sql::QualifiedName> out;
  for (const auto &t : created.value("tables", nlohmann::json::array())) out.push_back({t.at(0), t.at(1)});
  return out;
}

// Replaces ranges, strategy and format of a plan with the job's, keeping only
// ranges not done yet (their tables stay, so the report names them).
void apply_job(plan::Plan &plan, const ledger::Job &job) {
  for (plan::TablePlan &tp : plan.tables) {
    tp.ranges.clear();
    for (const ledger::StoredRange &s : job.ranges) {
      if (!(s.table == tp.table.name)) continue;
      tp.strategy = merge::parse_strategy(s.strategy);
      tp.format = s.format == "text" ? copybin::StreamFormat::Text : copybin::StreamFormat::Binary;
      tp.strategy_reason = "as planned when the job started";
      if (!s.done) tp.ranges.push_back(s.range);
    }
  }
  std::erase_if(plan.tables, [&](const plan::TablePlan &tp) {
    return std::none_of(job.ranges.begin(), job.ranges.end(), [&](const auto &s) { return s.table == tp.table.name; });
  });
}

// A spill folder must exist (or be creatable) and take files, checked before anything else runs.
void check_spill_dir(const fs::path &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path probe = dir / ".pgcutover-write-test";
  FILE *f = ec ? nullptr : std::fopen(probe.c_str(), "w");
  if (!f)
    throw_usage("cannot write to the spill folder " + dir.string() + ": " + (ec ? ec.message() : std::strerror(errno)),
                "point --spill-dir at a writable folder with room for the ranges in flight");
  std::fclose(f);
  fs::remove(probe, ec);
}

// Holds the job's advisory lock for a scope (setup and finish are one process at a time).
class JobLock {
 public:
  JobLock(const ledger::Ledger &l, pg::Connection &c) : l_(l), c_(c) { l_.lock(c_); }
  ~JobLock() {
    try {
      if (!c_.broken()) l_.unlock(c_);
    } catch (...) {
    }
  }

 private:
  const ledger::Ledger &l_;
  pg::Connection &c_;
};

}  // namespace

int run_copy(const CopyOptions &opt, const CommonOptions &common) {
  try {
    return run_copy_phases(opt, common);
  } catch (Error &e) {
    if (e.sqlstate == "55P03" && e.hint.empty()) {
      std::vector<sql::QualifiedName> tables;
      for (const std::string &t : opt.tables) tables.push_back(sql::parse_qualified_name(t));
      pipeline::explain_lock_timeout(e, endpoints(opt), tables);
    }
    throw;
  }
}

int run_copy_phases(const CopyOptions &opt, const CommonOptions &common) {
  report::Reporter reporter(!common.json, common.quiet);
  report::RunReport rep;
  pipeline::Endpoints ends = endpoints(opt);
  plan::BuildOptions bopt = build_options(opt);
  pipeline::PipelineOptions popt;
  popt.jobs = opt.jobs;
  if (!opt.spill_dir.empty()) popt.spill_dir = fs::path(opt.spill_dir);
  popt.spill_level = opt.spill_level;
  popt.keep_spill = opt.keep_spill;
  popt.max_retries = opt.retries;
  popt.retry_delay_seconds = opt.retry_delay;
  if (opt.keep_spill && opt.spill_dir.empty()) throw_usage("--keep-spill needs --spill-dir");
  schema::SchemaOptions sopt;
  sopt.pg_bin = opt.pg_bin;
  sopt.exclude_schemas = bopt.exclude_schemas;
  sopt.no_owner = opt.no_owner;

  if (popt.spill_dir) check_spill_dir(*popt.spill_dir);
  // Connect; refuse a target that cannot take writes before reading anything.
  pg::Connection dst = pg::Connection::open(opt.target, ends.target_settings);
  check_target_writable(dst);
  pg::ConninfoView src_view = pg::parse_conninfo(opt.source);
  ledger::Ledger led(opt.tool_schema, opt.job.empty() ? ledger::default_job_name(pg::display_name(src_view), opt.tables) : opt.job);
  led.ensure_tables(dst);
  popt.ledger = &led;

  // One exported snapshot: every read of the source sees the same instant.
  pg::SnapshotHolder snap(pg::Connection::open(opt.source, ends.source_settings));
  const pg::SnapshotInfo &si = snap.info();
  rep.set("command", "copy");
  rep.set("job", led.job());
  rep.set("source", snap.conn().display_name());
  rep.set("target", dst.display_name());
  rep.set("snapshot", {{"id", si.id}, {"taken_at", si.taken_at}, {"xmin", si.xmin}, {"txid_snapshot", si.xip}});

  plan::Plan plan;
  nlohmann::json created;
  bool resumed = false;
  {
    // Setup, one process at a time: a second process on the job waits here,
    // then joins the job the first one planned.
    JobLock lock(led, dst);
    std::optional<ledger::Job> job = led.load(dst);
    if (job && job->state == "running" && !opt.restart) {
      resumed = true;
      report::PhaseTimer t(rep, "plan_ranges");
      bopt.resume = true;
      plan = plan::build_plan(snap.conn(), dst, bopt);
      plan::check_refusals(plan);
      apply_job(plan, *job);
      created = job->created_tables;
      i64 done = std::count_if(job->ranges.begin(), job->ranges.end(), [](const auto &r) { return r.done; });
      log::info("resuming job {}: {} of {} range(s) already done", led.job(), done, job->ranges.size());
    } else {
      // Plan: catalog, checks, ranges. Every refusal is reported before anything is written.
      {
        report::PhaseTimer t(rep, "plan_ranges");
        plan = plan::build_plan(snap.conn(), dst, bopt);
      }
      plan::check_refusals(plan);
      if (plan.tables.empty()) throw_usage("no table to copy", "the source has no user table, or --table matched none");

      // Schema: tables the target lacks come from pg_dump, pre-data now, post-data later.
      std::vector<sql::QualifiedName> missing;
      for (const plan::TablePlan &tp : plan.tables)
        if (!tp.target_exists) missing.push_back(tp.table.name);
      bool whole = plan.whole_database && !plan.target_has_tables;
      std::vector<sql::QualifiedName> dump_list = missing;
      dump_list.insert(dump_list.end(), plan.missing_ancestors.begin(), plan.missing_ancestors.end());
      created = {{"whole", whole}, {"tables", nlohmann::json::array()}};
      for (const auto &n : dump_list) created["tables"].push_back({n.schema, n.name});
      if (!missing.empty()) {
        if (!opt.schema) {
          std::string list;
          for (const auto &m : missing) list += (list.empty() ? "" : ", ") + m.display();
          throw_usage("tables missing on the target: " + list, "create them first, or drop --no-schema");
        }
        report::PhaseTimer t(rep, "create_tables");
        TempDir tmp;
        log::info("creating {} table(s) on the target from pg_dump --section=pre-data", missing.size());
        fs::path archive = schema::dump_schema(opt.source, si, whole ? std::nullopt : std::optional(dump_list), tmp.path(), sopt);
        schema::restore_section(opt.target, archive, "pre-data", 1, sopt);
        if (popt.spill_dir && popt.keep_spill) {
          fs::create_directories(*popt.spill_dir);
          fs::copy_file(archive, *popt.spill_dir / "schema.dump", fs::copy_options::overwrite_existing);
        }
      }
      led.create(dst, plan, created, "copy", pg::display_name(src_view));
    }
  }
  log::info("copying as of {} (snapshot {}, xmin {})", si.taken_at, si.id, si.xmin);
  if (popt.spill_dir && popt.keep_spill) {
    fs::create_directories(*popt.spill_dir);
    std::ofstream(*popt.spill_dir / "manifest.json")
        << manifest(plan, si, fs::exists(*popt.spill_dir / "schema.dump")).dump(2) << "\n";
  }

  // Data: every pending range through the pipeline. Ranges another process
  // holds are skipped; rounds repeat until the ledger shows none pending.
  {
    report::PhaseTimer t(rep, "copy_data");
    log::info("copying {} table(s) in {} range(s), {} at a time", plan.tables.size(), plan.total_ranges(), popt.jobs);
    reporter.start_live(rep);
    try {
      pipeline::run_pipeline(plan, ends, si, popt, rep);
      // The control connection sat idle through the data phase; a target
      // restart meanwhile (survived by the ranges' retries) would have killed it.
      dst = pg::Connection::open(opt.target, ends.target_settings);
      for (int round = 0; led.pending(dst) > 0; ++round) {
        cancel::throw_if_requested();
        std::optional<ledger::Job> job = led.load(dst);
        if (!job) throw_internal("the ledger job vanished while copying");
        plan::Plan rest = plan;
        apply_job(rest, *job);
        if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
        pipeline::run_pipeline(rest, ends, si, popt, rep);
      }
    } catch (...) {
      reporter.stop_live();
      throw;
    }
    reporter.stop_live();
  }

  // Finish, one process at a time: whoever comes first builds the indexes.
  nlohmann::json seqs = nlohmann::json::array();
  {
    JobLock lock(led, dst);
    std::optional<ledger::Job> job = led.load(dst);
    std::vector<sql::QualifiedName> to_index = created_list(created);
    if (job && job->schema_state != "post_data_done" && !to_index.empty()) {
      // Post-data: indexes, constraints and triggers of the created tables, in parallel.
      report::PhaseTimer t(rep, "build_indexes");
      log::info("building indexes and constraints (pg_restore --section=post-data --jobs={})", popt.jobs);
      TempDir tmp;
      bool whole = created.value("whole", false);
      fs::path archive = schema::dump_schema(opt.source, si, whole ? std::nullopt : std::optional(to_index), tmp.path(), sopt);
      schema::restore_section(opt.target, archive, "post-data", popt.jobs, sopt);
    }
    led.set_state(dst, "finished", "post_data_done");

    // Sequences feeding the copied tables stand where the source's do.
    report::PhaseTimer t(rep, "reset_sequences");
    std::vector<sql::QualifiedName> all_names;
    for (const plan::TablePlan &tp : plan.tables) all_names.push_back(tp.table.name);
    for (const auto &c : sequences::reset_sequences(snap.conn(), dst, all_names, plan.whole_database,
                                                    bopt.exclude_schemas))
      seqs.push_back({{"sequence", c.sequence}, {"table", c.table}, {"old_value", c.old_value},
                      {"new_value", c.new_value}, {"is_called", c.new_called}});
  }
  rep.set("sequences", seqs);
  // The point each table was copied at: the earliest snapshot any of its ranges used.
  // It is also the table's watermark: the next sync starts there.
  nlohmann::json points = nlohmann::json::array();
  for (const ledger::TablePoint &p : led.table_points(dst)) {
    points.push_back({{"table", p.table.display()}, {"taken_at", p.taken_at}, {"xmin", p.xmin}});
    sync::commit_watermark(dst, opt.tool_schema, p.table, {p.taken_at, p.xmin}, "copy");
  }
  rep.set("table_points", points);
  rep.set("resumed", resumed);

  if (common.json) {
    std::printf("%s\n", rep.to_json().dump(2).c_str());
  } else if (!common.quiet) {
    std::printf("%s", rep.summary_text().c_str());
    std::printf("consistent point: %s (snapshot %s); %zu sequence(s) set; job %s\n", si.taken_at.c_str(), si.id.c_str(),
                seqs.size(), led.job().c_str());
  }
  return 0;
}

int run_plan(const CopyOptions &opt, const CommonOptions &common) {
  report::Reporter reporter(false, common.quiet);
  plan::BuildOptions bopt = build_options(opt);
  pg::Connection dst = pg::Connection::open(opt.target, session_settings("target", opt));
  pg::SnapshotHolder snap(pg::Connection::open(opt.source, session_settings("source", opt)));
  plan::Plan plan = plan::build_plan(snap.conn(), dst, bopt);

  // What a sync would do: each table's change detection and the drift found.
  catalog::Catalog sc = catalog::load_catalog(snap.conn(), bopt.exclude_schemas);
  catalog::Catalog dc = catalog::load_catalog(dst, bopt.exclude_schemas);
  std::vector<sync::Drift> drift = sync::find_drift(sc, dc, catalog::select_tables(sc, bopt.tables));
  std::map<std::string, sync::TableConfig> config = sync::load_config(opt.config);
  nlohmann::json j = plan_to_json(plan);
  std::string text = plan_to_text(plan);
  text += "sync (change detection per table):\n";
  for (auto &t : j["tables"]) {
    const catalog::TableDef *def = sc.find(sql::parse_qualified_name(sql::quote_ident(t["schema"].get<std::string>()) + "." +
                                                                      sql::quote_ident(t["name"].get<std::string>())));
    auto cfg = config.find(t["table"].get<std::string>());
    sync::ChangeMethod m = sync::choose_change_method(*def, cfg == config.end() ? std::nullopt : std::optional(cfg->second));
    t["sync"] = {{"method", sync::to_string(m.kind)}, {"column", m.column}, {"scans", m.scans}, {"reason", m.reason},
                 {"warning", m.warning}, {"deletes", "not seen by a timestamp sync: use sync --deletes detect"}};
    text += fmt::format("  {:<38} {:<10} {}{}\n", t["table"].get<std::string>(), sync::to_string(m.kind), m.reason,
                        m.warning.empty() ? "" : "; warning: " + m.warning);
  }
  nlohmann::json dj = nlohmann::json::array();
  for (const sync::Drift &d : drift) {
    dj.push_back({{"table", d.table.display()}, {"kind", sync::to_string(d.kind)}, {"column", d.column},
                  {"detail", d.detail}, {"blocking", d.blocking}});
    text += fmt::format("drift: {} {} {} {}\n", d.table.display(), sync::to_string(d.kind), d.column, d.detail);
  }
  j["drift"] = dj;
  if (common.json) std::printf("%s\n", j.dump(2).c_str());
  else std::printf("%s", text.c_str());
  return plan.refused.empty() ? 0 : 3;
}

}  // namespace pgcutover::cli
