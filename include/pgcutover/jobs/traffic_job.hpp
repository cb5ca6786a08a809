#pragma once
// The traffic job: writes on the source at a set rate for a set time, with a
// mix of updates, inserts and deletes, through the generic writer
// (traffic/generic.hpp), so that a rehearsal has real changes to sync. It
// reports what it did per table; a table it cannot write to stops it with an
// Error naming the table.
#include <string>
#include <vector>

#include "pgcutover/pg/session.hpp"
#include "pgcutover/traffic/generic.hpp"

namespace pgcutover::jobs {

struct TrafficConfig {
  std::string source_conninfo;
  pg::SessionSettings source_settings;
  std::vector<sql::QualifiedName> tables;  // empty: every table with a primary key
  std::vector<std::string> exclude_schemas;
  std::string change_column;               // "" detects updated_at, modified_at, ...
  double rate = 10;                        // transactions per second
  double seconds = 10;
  traffic::Mix mix;
  unsigned seed = 1;
};

struct TrafficResult {
  i64 transactions = 0;  // committed
  i64 skipped = 0;       // refused by a constraint or a concurrent change (see the tables)
  double seconds = 0;
  double rate = 0;       // asked
  double achieved = 0;   // committed per second
  bool stopped_early = false;  // interrupted (SIGINT / SIGTERM)
  std::vector<traffic::TableCounts> tables;
  std::vector<std::string> left_out;  // tables it could not use, with why
};

TrafficResult run_traffic(const TrafficConfig &config);

}  // namespace pgcutover::jobs
