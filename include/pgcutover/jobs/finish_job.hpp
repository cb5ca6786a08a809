#pragma once
// The finish job: after the cutover, pgcutover's own schema (the ledger's
// jobs and ranges, the sync points) leaves the target. It refuses while a
// pgcutover job works on the target, and, without --force, while a job in the
// ledger is unfinished (its ledger is what a rerun resumes from).
#include <string>
#include <vector>

#include "pgcutover/pg/session.hpp"

namespace pgcutover::jobs {

struct FinishConfig {
  std::string target_conninfo;
  pg::SessionSettings target_settings;
  std::string tool_schema = "pgcutover";
  bool force = false;  // also remove the ledger of unfinished jobs
};

struct FinishResult {
  std::string target;                // display name, never a password
  std::string tool_schema;
  bool removed = false;              // false: there was no such schema
  std::vector<std::string> objects;  // what the schema held: "table pgcutover.jobs", ...
  std::vector<std::string> jobs;     // the ledger's jobs: "copy-... (finished)"
};

// Removes the tool schema in one transaction; throws Error(Usage) naming the
// sessions or jobs that stop it.
FinishResult run_finish(const FinishConfig &config);

}  // namespace pgcutover::jobs
