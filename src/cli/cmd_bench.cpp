// pgcutover bench: parse the lever lists, take one source snapshot, run every
// combination (interleaved, repeated) into scratch tables, print the ranking.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/strategy_bench/bench_runner.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/units.hpp"

namespace pgcutover::cli {

namespace {

std::vector<std::string> split(const std::string &s, const std::vector<std::string> &allowed, const char *what) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
      std::string list;
      for (const auto &a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw_usage(std::string("unknown ") + what + " '" + item + "'", "use " + list);
    }
    out.push_back(item);
  }
  if (out.empty()) throw_usage(std::string("empty list for ") + what);
  return out;
}

}  // namespace

int run_bench(const BenchOptions &o, const CommonOptions &common) {
  report::Reporter reporter(false, common.quiet || common.json);
  std::vector<int> jobs;
  for (const auto &j : split(o.jobs, {}, "--jobs")) jobs.push_back(std::max(1, std::atoi(j.c_str())));
  std::vector<i64> sizes;
  for (const auto &r : split(o.range_bytes_list, {}, "--range-bytes")) sizes.push_back(util::parse_size(r));
  std::vector<std::string> spills = split(o.spills, {}, "--spill");
  for (const auto &s : spills)
    if (s != "off" && s.rfind("zstd", 0) != 0) throw_usage("unknown --spill '" + s + "'", "use off, zstd1, zstd3, ...");
  strategy_bench::BenchOptions bo;
  bo.combos = strategy_bench::combinations(
      jobs, sizes, split(o.formats, {"binary", "text"}, "--format"), spills,
      split(o.merges, {"direct", "freeze", "upsert", "upsert-guard", "merge", "delete-insert"}, "--merge"),
      split(o.toasts, {"default", "pglz", "lz4"}, "--toast"), split(o.stagings, {"temp", "unlogged"}, "--staging"),
      split(o.intos, {"empty", "prefilled"}, "--into"));
  bo.repeat = o.repeat;
  bo.sample = o.sample;
  bo.max_seconds = o.max_seconds;
  bo.spill_dir = o.scope.spill_dir;

  pipeline::Endpoints ends = endpoints(o.scope);
  pg::SnapshotHolder snap(pg::Connection::open(o.scope.source, ends.source_settings));
  pg::Connection probe = pg::Connection::open(o.scope.target, ends.target_settings);
  check_target_writable(probe);
  catalog::Catalog cat = catalog::load_catalog(snap.conn(), {o.scope.tool_schema, "pgcutover_bench"});
  std::vector<catalog::TableDef> sel = catalog::select_tables(cat, {sql::parse_qualified_name(o.scope.tables.at(0))});
  if (sel.size() != 1) throw_usage("bench measures one table; " + o.scope.tables.at(0) + " names " + std::to_string(sel.size()));
  const catalog::TableDef &table = sel[0];
  if (const catalog::ColumnDef *c = table.text_only_column())
    for (const auto &combo : bo.combos)
      if (combo.format == "binary")
        throw_usage("column \"" + c->name + "\" (" + c->type + ") carries type OIDs in binary form", "use --format text");

  strategy_bench::BenchResult res = strategy_bench::run_bench(table, snap.conn(), snap.info(), ends, bo);
  if (!o.csv.empty()) std::ofstream(o.csv) << strategy_bench::to_csv(res);
  if (!o.svg.empty()) std::ofstream(o.svg) << strategy_bench::to_svg(res);
  if (common.json) std::printf("%s\n", strategy_bench::to_json(res).dump(2).c_str());
  else std::printf("%s", strategy_bench::to_text(res).c_str());
  return 0;
}

}  // namespace pgcutover::cli
