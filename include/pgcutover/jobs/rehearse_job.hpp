#pragma once
// The rehearse job: the cutover's phases against a rehearsal target, each
// timed into one report (the sync job with deletes and sequences, the verify
// job, ANALYZE of the synced tables several at a time, the team's checks),
// the verdict against the budget, and a projection of the final sync for
// later start times. A failing phase stops the rehearsal; the result says
// which and what ran before it.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/jobs/sync_job.hpp"
#include "pgcutover/jobs/verify_job.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::jobs {

struct UserCheck {
  std::string name;
  std::string sql;  // must return one row holding true, or no rows
};

struct RehearseConfig {
  SyncConfig sync;      // its scope is the rehearsal's
  verify::Mode verify_mode = verify::Mode::Hash;
  double budget_seconds = 7200;
  double safety = 1.0;  // the verdict fails over budget x safety
  std::vector<UserCheck> checks;
  std::string config_path;
};

struct CheckResult {
  std::string name;
  bool ok = false;
  std::string detail;
  double seconds = 0;
};

struct Verdict {
  double total_seconds = 0;
  double budget_seconds = 0;
  double safety = 1;
  double margin_seconds = 0;
  bool fits = false;
};

struct Projection {
  double hours = 0;    // time without a sync before the final one
  double seconds = 0;  // the final sync's estimated duration
};

struct RehearseResult {
  std::optional<SyncResult> sync;
  std::optional<VerifyResult> verify;
  std::vector<CheckResult> checks;
  int checks_passed = 0;
  Verdict verdict;
  std::vector<Projection> projection;
  std::optional<Error> failure;  // the phase that stopped the rehearsal
};

RehearseResult run_rehearse(const RehearseConfig &config, report::RunReport &report, report::Reporter &reporter);

}  // namespace pgcutover::jobs
