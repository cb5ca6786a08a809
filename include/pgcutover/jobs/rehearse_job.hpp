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
#include "pgcutover/ledger/rehearsals.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::jobs {

struct UserCheck {
  std::string name;
  std::string sql;  // must return one row holding true, or no rows
  // Instead: run on both sides, the source in the sync's snapshot and the
  // target after the sync, and require the same multiset of rows.
  bool same_rows = false;
};

struct TimedQuery {
  std::string name;
  std::string sql;  // run read-only on both sides after ANALYZE, rolled back
};

struct RehearseConfig {
  SyncConfig sync;      // its scope is the rehearsal's
  verify::Mode verify_mode = verify::Mode::Hash;
  double budget_seconds = 7200;
  double safety = 1.0;  // the verdict fails over budget x safety
  std::vector<UserCheck> checks;
  std::vector<TimedQuery> queries;
  int query_runs = 5;
  double query_tolerance = 1.2;           // target median / source median above this: slower
  bool queries_must_not_regress = false;  // a slower query makes the verdict no-go
  std::string history_dir;                // empty: <tool_schema>.rehearsals on the target
  std::string config_path;
};

struct CheckResult {
  std::string name;
  bool ok = false;
  std::string detail;
  double seconds = 0;
};

struct QueryTiming {
  std::string name;
  std::vector<double> source_ms, target_ms;  // one per run
  double source_median_ms = 0, target_median_ms = 0;
  double ratio = 0;     // target / source
  bool slower = false;  // ratio above the tolerance
  std::string error;    // the query failed on a side
};

// One reason of the verdict; blocking reasons make it no-go.
struct Reason {
  std::string kind;  // failure, over_budget, verify, check, query
  std::string message;
  bool blocking = true;
};

struct Verdict {
  double total_seconds = 0;
  double budget_seconds = 0;
  double safety = 1;
  double margin_seconds = 0;
  bool fits = false;  // within budget x safety, and no phase failed
  bool go = false;    // fits, and no blocking reason
  std::vector<Reason> reasons;
};

struct Projection {
  double hours = 0;    // time without a sync before the final one
  double seconds = 0;  // the final sync's estimated duration
};

// Per table, what the projection is made of.
struct TableRate {
  std::string table;
  std::optional<double> changes_per_hour;       // rows changed per hour since its last point; nullopt: no point
  std::optional<double> merge_seconds_per_row;  // measured in this sync's merge; nullopt: no row merged
  double sync_seconds = 0;                      // summed over its ranges in sync_changes
};

// The latest a last sync may run before the final one: the time without a
// sync after which the projected final sync exceeds budget x safety.
struct LatestLastSync {
  std::optional<double> hours;  // nullopt: never (no changes measured) or already over (see reason)
  std::string at;               // the sync's snapshot time + hours, ISO 8601 UTC; empty without hours
  std::string reason;           // why there is no figure, when there is none
};

struct RehearseResult {
  std::optional<SyncResult> sync;
  std::optional<VerifyResult> verify;
  std::vector<CheckResult> checks;
  int checks_passed = 0;
  std::vector<QueryTiming> queries;
  double query_tolerance = 1.2;
  bool queries_must_not_regress = false;
  Verdict verdict;
  std::vector<Projection> projection;
  std::vector<TableRate> rates;
  LatestLastSync latest_last_sync;
  std::optional<Error> failure;  // the phase that stopped the rehearsal
  std::string started_at;        // ISO 8601 UTC
  double sync_seconds = 0;       // the sync job's time: what the final sync takes
  // The last runs (this one included, oldest first), from where they are kept.
  std::vector<ledger::RehearsalEntry> history;
  std::string history_where;     // "<schema>.rehearsals on the target" or the folder
  std::string history_error;     // the history could not be written or read
};

RehearseResult run_rehearse(const RehearseConfig &config, report::RunReport &report, report::Reporter &reporter);

}  // namespace pgcutover::jobs
