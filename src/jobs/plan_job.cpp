// The plan job: the copy's plan in the source's snapshot, then what a sync
// would do with each table (change detection) and the drift between the two
// catalogs. Reads only.
#include "pgcutover/jobs/plan_job.hpp"

#include "pgcutover/sync/drift_apply.hpp"

#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/schema/objects.hpp"
#include "pgcutover/schema/tools.hpp"
#include "pgcutover/sql/sync.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/temp_dir.hpp"

namespace pgcutover::jobs {

namespace {

// What the copy would create from pg_dump's archive, and whether the roles
// its objects need are there (or left out by the options).
void check_schema(const PlanConfig &cfg, pg::SnapshotHolder &snap, pg::Connection &dst, PlanResult &out) {
  std::vector<sql::QualifiedName> missing;
  for (const plan::TablePlan &tp : out.plan.tables)
    if (!tp.target_exists) missing.push_back(tp.table.name);
  missing.insert(missing.end(), out.plan.missing_ancestors.begin(), out.plan.missing_ancestors.end());
  if (missing.empty()) return;
  schema::SchemaOptions sopt = cfg.schema;
  sopt.exclude_schemas = cfg.scope.excluded_schemas();
  try {
    if (sopt.pg_bin.empty()) sopt.pg_bin = schema::find_dump_tools("", snap.conn().server_version()).bin_dir;
    util::TempDir tmp;
    schema::Archive archive = schema::list_archive(
        schema::dump_schema(cfg.scope.ends.source_conninfo, snap.info(), std::nullopt, tmp.path(), sopt,
                            schema::unreadable_tables(snap.conn(), sopt.exclude_schemas)),
        sopt);
    schema::ArchiveObjects objects = schema::ArchiveObjects::read(archive, snap.conn());
    bool whole = out.plan.whole_database && !out.plan.target_has_tables;
    std::vector<int> todo = objects.missing_on_target(dst, whole ? objects.all() : objects.for_tables(missing));
    out.schema_objects = static_cast<int>(todo.size());
    schema::check_roles(schema::missing_roles(objects, todo, dst), sopt);
  } catch (const Error &e) {
    if (e.kind != ErrorKind::Usage) throw;
    out.schema_problem = std::string(e.what()) + (e.hint.empty() ? "" : "\nhint: " + e.hint);
  }
}

}  // namespace

PlanResult run_plan(const PlanConfig &cfg) {
  const pg::Endpoints &ends = cfg.scope.ends;
  plan::BuildOptions bopt = cfg.scope.build_options();
  bopt.ranges.source_order = true;  // the copy's ranges, as the copy cuts them
  bopt.check_fk_parents = true;
  bopt.strategy = cfg.strategy;
  bopt.format = cfg.format;
  pg::Connection dst = pg::Connection::open(ends.target_conninfo, ends.target_settings);
  pg::refuse_same_database(ends, dst);
  pg::SnapshotHolder snap(pg::Connection::open(ends.source_conninfo, ends.source_settings));

  PlanResult out;
  pg::SnapshotReader reader(pg::Connection::open(ends.source_conninfo, ends.source_settings), snap.info());
  bopt.between_tables = [&] { reader.between_tables(); };  // table by table, its locks going (pg::SnapshotReader)
  out.plan = plan::build_plan(reader.conn(), dst, bopt);
  check_schema(cfg, snap, dst, out);

  // What a sync would do: each table's change detection and the drift found.
  catalog::Catalog sc = catalog::load_catalog(snap.conn(), bopt.exclude_schemas);
  catalog::Catalog dc = catalog::load_catalog(dst, bopt.exclude_schemas);
  // Everything the sync would find (the tables the source dropped aside:
  // those need the ledger, which a plan before the first copy has not).
  sync::DriftScope scope{cfg.scope.tool_schema, bopt.exclude_schemas, false, cfg.schema.no_owner, cfg.schema.no_privileges};
  out.drift = sync::find_all_drift(snap.conn(), dst, sc, dc, catalog::select_tables(sc, bopt.tables), scope).drift;
  const std::string role_zone(snap.conn().exec(sql::sync::session_default_time_zone()).get(0, 0));
  for (const plan::TablePlan &tp : out.plan.tables) {
    const sync::ChangeMethod &m = out.change_methods[tp.table.name.display()] =
        sync::change_method_for(tp.table, cfg.change_columns, cfg.writer_time_zone, role_zone);
    if (auto s = sync::final_sync_scan(tp.table, m, cfg.scan_below)) out.final_sync_scans.push_back(*s);
  }
  out.scan_below = cfg.scan_below;

  // Follow mode: each table's class, and what the source lacks for it.
  std::vector<const catalog::TableDef *> followed;
  bool alters = false;
  for (const plan::TablePlan &tp : out.plan.tables) {
    const follow::TableFollow &f = out.follow_classes[tp.table.name.display()] =
        follow::classify(tp.table, out.change_methods.at(tp.table.name.display()), cfg.allow_replica_identity);
    if ((f.cls == follow::FollowClass::Follow || f.cls == follow::FollowClass::FollowAltered) && tp.table.relkind != 'p')
      followed.push_back(&tp.table);  // a partitioned table is not published itself
    alters = alters || f.cls == follow::FollowClass::FollowAltered;
  }
  out.follow_preflight = follow::preflight(snap.conn(), followed, alters);
  out.allow_replica_identity = cfg.allow_replica_identity;
  return out;
}

}  // namespace pgcutover::jobs
