#pragma once
// The history of rehearsals: each run's totals and phase times, kept in the
// target's ledger schema (<tool_schema>.rehearsals, created on first use,
// written in one transaction) or, when the user names a folder, as one JSON
// file per run there. A report shows the last runs, so a team sees whether
// the cutover gets closer to the window or further from it as data grows.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pgcutover/pg/connection.hpp"

namespace pgcutover::ledger {

struct RehearsalEntry {
  std::string run_at;  // ISO 8601 UTC, when the rehearsal started
  double total_seconds = 0;
  double sync_seconds = 0;  // the sync job's share: the final sync's time
  double budget_seconds = 0;
  double safety = 1;
  bool fits = false;
  bool go = false;
  std::vector<std::pair<std::string, double>> phases;  // name, seconds

  nlohmann::json to_json() const;
  static RehearsalEntry from_json(const nlohmann::json &j);
};

// The target's ledger schema.
void record_rehearsal(pg::Connection &target, const std::string &tool_schema, const RehearsalEntry &e);
std::vector<RehearsalEntry> recent_rehearsals(pg::Connection &target, const std::string &tool_schema, int count);

// A folder: one file per run (rehearsal-<time>-<pid>.json), created if missing.
void record_rehearsal(const std::filesystem::path &dir, const RehearsalEntry &e);
std::vector<RehearsalEntry> recent_rehearsals(const std::filesystem::path &dir, int count);  // oldest first

}  // namespace pgcutover::ledger
