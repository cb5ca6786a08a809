#pragma once
// The plan job: what a copy would do per table (ranges, format, strategy and
// why, refusals) and what a sync would do (change detection per table, drift),
// without writing anything.
#include <map>
#include <string>
#include <vector>

#include "pgcutover/follow/classes.hpp"
#include "pgcutover/jobs/scope.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/sync/change_column.hpp"
#include "pgcutover/sync/drift.hpp"

namespace pgcutover::jobs {

struct PlanConfig {
  Scope scope;
  merge::Strategy strategy = merge::Strategy::Auto;
  plan::FormatChoice format = plan::FormatChoice::Auto;
  std::map<std::string, sync::TableConfig> change_columns;  // from the sync config file
  schema::SchemaOptions schema;  // pg_bin, no_owner, no_privileges: what the copy would restore
  i64 scan_below = sync::DEFAULT_SCAN_BELOW;  // the sync's threshold for scanning tables
  std::string writer_time_zone;               // the sync's --writer-time-zone
  bool allow_replica_identity = false;        // follow classes with the REPLICA IDENTITY ALTERs allowed
};

struct PlanResult {
  plan::Plan plan;
  std::map<std::string, sync::ChangeMethod> change_methods;  // by table display name
  std::vector<sync::FinalSyncScan> final_sync_scans;         // tables the final sync reads whole or refuses
  i64 scan_below = sync::DEFAULT_SCAN_BELOW;
  std::vector<sync::Drift> drift;
  // Follow mode (logical decoding): each table's class, by display name,
  // and what the source allows.
  std::map<std::string, follow::TableFollow> follow_classes;
  follow::Preflight follow_preflight;
  bool allow_replica_identity = false;
  // What the copy would create on the target (tables it lacks): the count of
  // schema objects from pg_dump's archive, and why it would stop (roles the
  // target lacks), "" for nothing.
  int schema_objects = 0;
  std::string schema_problem;
  bool ok() const { return plan.refused.empty() && schema_problem.empty(); }
};

PlanResult run_plan(const PlanConfig &config);

}  // namespace pgcutover::jobs
