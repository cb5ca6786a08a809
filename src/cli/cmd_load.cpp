// pgcutover load --from-spill DIR: one read of the source feeds another
// target. The folder's manifest names every table, its columns and types, and
// every range file; each file's own header is checked again when it loads.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::cli {

namespace fs = std::filesystem;

int run_load(const LoadOptions &opt, const CommonOptions &common) {
  report::Reporter reporter(!common.json, common.quiet);
  report::RunReport rep;
  fs::path dir = opt.from_spill;
  nlohmann::json man;
  {
    std::ifstream in(dir / "manifest.json");
    if (!in) throw_usage("no manifest.json in " + dir.string(), "point --from-spill at a folder written by `copy --spill-dir DIR --keep-spill`");
    try {
      man = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
      throw_data_format((dir / "manifest.json").string() + " is damaged: " + e.what());
    }
  }
  pg::SessionSettings ts;
  ts.role = "target";
  pipeline::Endpoints ends{"", opt.target, {}, ts};
  pg::Connection dst = pg::Connection::open(opt.target, ts);
  check_target_writable(dst);
  schema::SchemaOptions sopt;
  sopt.pg_bin = opt.pg_bin;
  sopt.no_owner = opt.no_owner;

  // Tables: all present on the target, or none (then the folder's schema archive creates them).
  catalog::Catalog cat = catalog::load_catalog(dst, {opt.tool_schema});
  std::vector<std::string> missing;
  for (const auto &t : man.at("tables")) {
    sql::QualifiedName n{t.at("schema"), t.at("table")};
    if (!cat.find(n)) missing.push_back(n.display());
  }
  bool create = !missing.empty();
  if (create) {
    if (missing.size() != man.at("tables").size() || man.value("schema_archive", nlohmann::json()).is_null()) {
      std::string list;
      for (const auto &m : missing) list += (list.empty() ? "" : ", ") + m;
      throw_usage("tables missing on the target: " + list, "create them first (the spill folder has no schema for them)");
    }
    report::PhaseTimer t(rep, "create_tables");
    schema::restore_section(opt.target, dir / "schema.dump", "pre-data", 1, sopt);
    cat = catalog::load_catalog(dst, {opt.tool_schema});
  }

  // A TablePlan per manifest table, against the target's definition.
  std::vector<plan::TablePlan> tables;
  tables.reserve(man.at("tables").size());
  std::vector<pipeline::SpillItem> items;
  std::vector<std::string> problems;
  for (const auto &t : man.at("tables")) {
    sql::QualifiedName n{t.at("schema"), t.at("table")};
    const catalog::TableDef *def = cat.find(n);
    plan::TablePlan tp;
    tp.table = *def;
    // Copy the columns in the order and types the files carry.
    tp.table.columns.clear();
    for (const auto &c : t.at("columns")) {
      const catalog::ColumnDef *d = def->find_column(c.at("name"));
      if (!d) {
        problems.push_back(n.display() + ": column \"" + c.at("name").get<std::string>() + "\" is missing on the target");
        continue;
      }
      if (d->type != c.at("type")) problems.push_back(n.display() + ": column \"" + d->name + "\" is " + d->type + " on the target but " + c.at("type").get<std::string>() + " in the spill files");
      tp.table.columns.push_back(*d);
    }
    tp.table.key = t.at("key").get<std::vector<std::string>>();
    tp.format = t.at("format") == "text" ? copybin::StreamFormat::Text : copybin::StreamFormat::Binary;
    tp.target_exists = true;
    tp.target_empty = create || catalog::table_is_empty(dst, *def);
    tp.strategy = tp.target_empty ? merge::Strategy::Direct : merge::Strategy::Merge;
    if (tp.strategy == merge::Strategy::Merge && tp.table.key.empty())
      problems.push_back(n.display() + ": no primary key and the target table has rows");
    for (const auto &r : t.at("ranges")) {
      plan::KeyRange kr;
      kr.id = r.at("id");
      if (!r.at("lower").is_null()) kr.lower = plan::KeyBound{r.at("lower").get<std::vector<std::string>>()};
      if (!r.at("upper").is_null()) kr.upper = plan::KeyBound{r.at("upper").get<std::vector<std::string>>()};
      kr.planned_bytes = r.value("planned_bytes", 0);
      tp.ranges.push_back(kr);
      if (!fs::exists(dir / r.at("file").get<std::string>()))
        problems.push_back(n.display() + ": range " + std::to_string(kr.id) + " file " + r.at("file").get<std::string>() + " is missing");
    }
    tables.push_back(std::move(tp));
  }
  if (!problems.empty()) {
    std::string msg = "the spill folder cannot be loaded:";
    for (const auto &p : problems) msg += "\n  " + p;
    throw_usage(msg);
  }
  size_t ti = 0;
  for (const auto &t : man.at("tables")) {
    const plan::TablePlan &tp = tables[ti++];
    rep.set_table_meta(tp.table.name.display(), merge::to_string(tp.strategy), copybin::to_string(tp.format),
                       static_cast<i64>(tp.ranges.size()));
    size_t ri = 0;
    for (const auto &r : t.at("ranges")) items.push_back({&tp, &tp.ranges[ri++], dir / r.at("file").get<std::string>()});
  }

  pipeline::PipelineOptions popt;
  popt.jobs = opt.jobs;
  {
    report::PhaseTimer t(rep, "load_data");
    reporter.start_live(rep);
    try {
      pipeline::load_spill_files(items, ends, popt, rep);
    } catch (...) {
      reporter.stop_live();
      throw;
    }
    reporter.stop_live();
  }
  if (create) {
    report::PhaseTimer t(rep, "build_indexes");
    schema::restore_section(opt.target, dir / "schema.dump", "post-data", opt.jobs, sopt);
  }
  rep.set("command", "load");
  rep.set("snapshot", man.at("snapshot"));
  if (common.json) std::printf("%s\n", rep.to_json().dump(2).c_str());
  else if (!common.quiet) std::printf("%s", rep.summary_text().c_str());
  return 0;
}

}  // namespace pgcutover::cli
