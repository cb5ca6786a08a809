#pragma once
// How a sync finds a table's new and changed rows.
//
//   updated_at: an indexed updated_at-like column past the watermark: sees
//               inserts and updates, costs an index scan of the changes.
//   created_at: an indexed created_at-like column: sees inserts only (a
//               warning says so; updates to old rows are missed).
//   xmin:       rows whose transaction id is newer than the watermark's
//               snapshot: sees every insert and update whatever the
//               application writes, but scans the whole table.
//   reload:     a table without a primary key: its changed rows cannot be
//               matched, so every sync replaces all its rows (one range,
//               one transaction) from the snapshot.
//   reread:     every row read and merged once, after schema drift that
//               changed rows the change column cannot see.
// An unindexed column also scans the whole table. A scan is cheap up to
// --scan-below (256 MB by default): such tables are scanned and the time is
// shown; bigger ones are scanned only with --allow-scan, otherwise refused
// with the cost spelled out (and plan, copy and rehearse list both days ahead).
#include <map>
#include <optional>
#include <string>

#include "pgcutover/catalog/table.hpp"

namespace pgcutover::sync {

enum class ChangeKind { UpdatedAt, CreatedAt, Xmin, Reload, Reread };
const char *to_string(ChangeKind k);

struct ChangeMethod {
  ChangeKind kind = ChangeKind::Xmin;
  std::string column;   // for UpdatedAt / CreatedAt
  bool scans = false;   // reads the whole table
  std::string reason;
  std::string warning;  // shown in plan and summary ("" if none)
  // The writers' clock, for a change column of type timestamp without time
  // zone or date (whose values mean nothing without it); "" otherwise.
  std::string time_zone;
  std::string time_zone_from;  // "--writer-time-zone", "the config file", "the source role's TimeZone"
};

// Per-table settings from the config file ([tables."schema.table"]).
struct TableConfig {
  std::string change_column;     // a column name, or "xmin"
  std::string writer_time_zone;  // the zone the application writes this table's local time stamps in
};

ChangeMethod choose_change_method(const catalog::TableDef &table, const std::optional<TableConfig> &config);

// What a sync does with the table, its config file entry (if any) applied,
// and for a change column without a time zone the zone it is read in: the
// table's writer_time_zone from the config file, else --writer-time-zone
// (option_zone), else the TimeZone a new session of the tool's role gets on
// the source (role_zone: what an application connecting as it writes in).
ChangeMethod change_method_for(const catalog::TableDef &table, const std::map<std::string, TableConfig> &configs,
                               const std::string &option_zone, const std::string &role_zone);

// What a scanning change detection costs a sync, for the table's size. The
// time is an estimate at SCAN_BYTES_PER_SECOND (a sequential scan from disk
// on a modest server; from memory it is faster).
inline constexpr i64 DEFAULT_SCAN_BELOW = 256LL * 1000 * 1000;  // "256MB"
inline constexpr double SCAN_BYTES_PER_SECOND = 150.0 * 1000 * 1000;
struct ScanCost {
  bool scans = false;    // the method reads the whole table
  bool too_big = false;  // scans and is above the threshold: refused without --allow-scan
  i64 bytes = 0;
  double seconds = 0;    // estimated time of one scan
};
ScanCost scan_cost(const catalog::TableDef &table, const ChangeMethod &m, i64 scan_below);
// A table whose change detection reads it whole, as plan, copy and rehearse
// list it days before the final sync.
struct FinalSyncScan {
  std::string table;  // display name
  ChangeMethod method;
  ScanCost cost;
  std::string choices;  // refusal_fix: what to do about it, days ahead
};

// What to do about a table refused for its scan.
std::string refusal_fix(const catalog::TableDef &table, const ChangeMethod &m);

// The table's entry among those the final sync reads whole (its cost and
// choices), or nullopt when m reads only the changed rows.
std::optional<FinalSyncScan> final_sync_scan(const catalog::TableDef &table, const ChangeMethod &m, i64 scan_below);

// Reads [tables."schema.table"] change_column = "..." from a TOML file.
std::map<std::string, TableConfig> load_config(const std::string &path);

}  // namespace pgcutover::sync
