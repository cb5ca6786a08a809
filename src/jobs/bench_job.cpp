#include "pgcutover/jobs/bench_job.hpp"

#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::jobs {

strategy_bench::BenchResult run_bench(const BenchConfig &cfg) {
  const pg::Endpoints &ends = cfg.scope.ends;
  pg::refuse_same_database(ends);
  pg::SnapshotHolder snap(pg::Connection::open(ends.source_conninfo, ends.source_settings));
  pg::Connection probe = pg::Connection::open(ends.target_conninfo, ends.target_settings);
  pg::check_target_writable(probe);
  catalog::Catalog cat = catalog::load_catalog(snap.conn(), {cfg.scope.tool_schema, "pgcutover_bench"});
  std::vector<catalog::TableDef> sel = catalog::select_tables(cat, cfg.scope.tables);
  if (cfg.scope.tables.size() != 1 || sel.size() != 1)
    throw_usage("bench measures one table; the selection names " + std::to_string(sel.size()));
  const catalog::TableDef &table = sel[0];
  if (const catalog::ColumnDef *c = table.text_only_column())
    for (const auto &combo : cfg.options.combos)
      if (combo.format == "binary")
        throw_usage("column \"" + c->name + "\" (" + c->type + ") has no portable binary form: " + c->text_reason(),
                    "use --format text");
  return strategy_bench::run_bench(table, snap.conn(), snap.info(), ends, cfg.options);
}

}  // namespace pgcutover::jobs
