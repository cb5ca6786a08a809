#pragma once
// The load job: a spill folder kept by `copy --spill-dir DIR --keep-spill`
// into another target. One read of the source feeds several targets.
#include <filesystem>
#include <string>

#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/pg/lock_diagnostics.hpp"
#include "pgcutover/pg/target_checks.hpp"
#include "pgcutover/report/model.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/spill/manifest.hpp"

namespace pgcutover::jobs {

struct LoadConfig {
  std::string target_conninfo;
  pg::SessionSettings target_settings;
  std::filesystem::path folder;
  int jobs = 2;
  schema::SchemaOptions schema;  // pg_bin, no_owner
  std::string tool_schema = "pgcutover";
};

struct LoadResult {
  spill::ManifestSnapshot snapshot;  // the point the files were read at
  bool created_tables = false;       // the folder's schema archive created them
};

LoadResult run_load(const LoadConfig &config, report::RunReport &report, report::Reporter &reporter);

}  // namespace pgcutover::jobs
