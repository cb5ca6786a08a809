// The plan job: the copy's plan in the source's snapshot, then what a sync
// would do with each table (change detection) and the drift between the two
// catalogs. Reads only.
#include "pgcutover/jobs/plan_job.hpp"

#include "pgcutover/pg/snapshot.hpp"

namespace pgcutover::jobs {

PlanResult run_plan(const PlanConfig &cfg) {
  const pg::Endpoints &ends = cfg.scope.ends;
  plan::BuildOptions bopt = cfg.scope.build_options();
  bopt.strategy = cfg.strategy;
  bopt.format = cfg.format;
  pg::Connection dst = pg::Connection::open(ends.target_conninfo, ends.target_settings);
  pg::refuse_same_database(ends, dst);
  pg::SnapshotHolder snap(pg::Connection::open(ends.source_conninfo, ends.source_settings));

  PlanResult out;
  out.plan = plan::build_plan(snap.conn(), dst, bopt);

  // What a sync would do: each table's change detection and the drift found.
  catalog::Catalog sc = catalog::load_catalog(snap.conn(), bopt.exclude_schemas);
  catalog::Catalog dc = catalog::load_catalog(dst, bopt.exclude_schemas);
  out.drift = sync::find_drift(sc, dc, catalog::select_tables(sc, bopt.tables));
  for (const plan::TablePlan &tp : out.plan.tables) {
    auto c = cfg.change_columns.find(tp.table.name.display());
    out.change_methods[tp.table.name.display()] = sync::choose_change_method(
        tp.table, c == cfg.change_columns.end() ? std::nullopt : std::optional(c->second));
  }
  return out;
}

}  // namespace pgcutover::jobs
