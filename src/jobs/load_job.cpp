// The load job, phase by phase: read the manifest; the tables are all on the
// target or none are (then the folder's schema archive creates them); check
// every column and file against the manifest, listing every problem at once;
// load the range files; build indexes when the tables were created here.
#include "pgcutover/jobs/load_job.hpp"

#include "pgcutover/ledger/run_lock.hpp"
#include "pgcutover/schema/objects.hpp"

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::jobs {

namespace fs = std::filesystem;

namespace {

// A section of the folder's schema archive: the entries its list names (what
// the copy created), or the whole section for a folder kept without lists.
void restore_kept(const LoadConfig &cfg, const char *list_file, const std::string &section, int jobs) {
  const std::filesystem::path archive = cfg.folder / spill::SCHEMA_ARCHIVE_FILE, list = cfg.folder / list_file;
  if (std::filesystem::exists(list))
    schema::restore_use_list(cfg.target_conninfo, archive, list, jobs, section == "pre-data", cfg.schema,
                             "the " + section + " the copy created");
  else
    schema::restore_section(cfg.target_conninfo, archive, section, jobs, cfg.schema);
}

std::optional<plan::KeyBound> bound(const std::optional<std::vector<std::string>> &b) {
  return b ? std::optional(plan::KeyBound{*b}) : std::nullopt;
}

// A TablePlan per manifest table, against the target's definition; problems
// are collected, not thrown, so the user sees them all.
plan::TablePlan table_plan(const spill::ManifestTable &t, const catalog::TableDef &def, pg::Connection &dst,
                           bool created, const fs::path &dir, std::vector<std::string> &problems) {
  const std::string n = t.name.display();
  plan::TablePlan tp;
  tp.table = def;
  // The columns in the order and types the files carry.
  tp.table.columns.clear();
  for (const spill::ManifestColumn &c : t.columns) {
    const catalog::ColumnDef *d = def.find_column(c.name);
    if (!d) {
      problems.push_back(n + ": column \"" + c.name + "\" is missing on the target");
      continue;
    }
    if (d->type != c.type)
      problems.push_back(n + ": column \"" + d->name + "\" is " + d->type + " on the target but " + c.type +
                         " in the spill files");
    tp.table.columns.push_back(*d);
  }
  tp.table.key = t.key;
  tp.format = t.format;
  tp.target_exists = true;
  tp.target_empty = created || catalog::table_is_empty(dst, def);
  tp.strategy = tp.target_empty ? merge::Strategy::Direct : merge::Strategy::Merge;
  if (tp.strategy == merge::Strategy::Merge && tp.table.key.empty())
    problems.push_back(n + ": no primary key and the target table has rows");
  for (const spill::ManifestRange &r : t.ranges) {
    tp.ranges.push_back(plan::KeyRange{r.id, bound(r.lower), bound(r.upper), r.planned_bytes});
    if (!fs::exists(dir / r.file))
      problems.push_back(n + ": range " + std::to_string(r.id) + " file " + r.file + " is missing");
  }
  return tp;
}

}  // namespace

LoadResult run_load(const LoadConfig &cfg, report::RunReport &rep, report::Reporter &reporter) {
  spill::Manifest man = spill::read_manifest(cfg.folder);
  pg::Endpoints ends{"", cfg.target_conninfo, {}, cfg.target_settings};
  pg::Connection dst = pg::Connection::open(cfg.target_conninfo, cfg.target_settings);
  pg::check_target_writable(dst);
  // Direct COPY into empty tables: nothing else may write them meanwhile.
  ledger::RunLock run_lock(cfg.target_conninfo, cfg.target_settings, cfg.tool_schema, "load", ledger::RunMode::Exclusive, false);
  LoadResult out;
  out.snapshot = man.snapshot;

  // Tables: all present on the target, or none (then the folder's schema archive creates them).
  catalog::Catalog cat = catalog::load_catalog(dst, {cfg.tool_schema});
  std::vector<std::string> missing;
  for (const spill::ManifestTable &t : man.tables)
    if (!cat.find(t.name)) missing.push_back(t.name.display());
  out.created_tables = !missing.empty();
  if (out.created_tables) {
    if (missing.size() != man.tables.size() || !man.has_schema_archive) {
      std::string list;
      for (const auto &m : missing) list += (list.empty() ? "" : ", ") + m;
      throw_usage("tables missing on the target: " + list, "create them first (the spill folder has no schema for them)");
    }
    report::PhaseTimer t(rep, "create_tables");
    restore_kept(cfg, spill::PRE_DATA_LIST_FILE, "pre-data", 1);
    cat = catalog::load_catalog(dst, {cfg.tool_schema});
  }

  std::vector<plan::TablePlan> tables;
  tables.reserve(man.tables.size());
  std::vector<std::string> problems;
  for (const spill::ManifestTable &t : man.tables)
    tables.push_back(table_plan(t, *cat.find(t.name), dst, out.created_tables, cfg.folder, problems));
  if (!problems.empty()) {
    std::string msg = "the spill folder cannot be loaded:";
    for (const auto &p : problems) msg += "\n  " + p;
    throw_usage(msg);
  }

  std::vector<pipeline::SpillItem> items;
  for (size_t i = 0; i < tables.size(); ++i) {
    const plan::TablePlan &tp = tables[i];
    rep.set_table_meta(tp.table.name.display(), merge::to_string(tp.strategy), copybin::to_string(tp.format),
                       static_cast<i64>(tp.ranges.size()));
    for (size_t r = 0; r < tp.ranges.size(); ++r)
      items.push_back({&tp, &tp.ranges[r], cfg.folder / man.tables[i].ranges[r].file});
  }
  // Before any data moves: rows land as the source had them (no trigger, no foreign key action).
  std::vector<sql::QualifiedName> names;
  for (const plan::TablePlan &tp : tables) names.push_back(tp.table.name);
  ends.target_settings.replica_writes = pg::prepare_target_writes(dst, names).replica;
  pipeline::PipelineOptions popt;
  popt.jobs = cfg.jobs;
  {
    report::PhaseTimer t(rep, "load_data");
    report::LiveProgress live(reporter, rep);
    pipeline::load_spill_files(items, ends, popt, rep);
  }
  if (out.created_tables) {
    report::PhaseTimer t(rep, "build_indexes");
    restore_kept(cfg, spill::POST_DATA_LIST_FILE, "post-data", cfg.jobs);
  }
  return out;
}

}  // namespace pgcutover::jobs
