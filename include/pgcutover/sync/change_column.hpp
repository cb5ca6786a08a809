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
// An unindexed column also scans the whole table. Scans happen only with
// --allow-scan; otherwise the table is refused with the cost spelled out.
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
};

// Per-table settings from the config file ([tables."schema.table"]).
struct TableConfig {
  std::string change_column;  // a column name, or "xmin"
};

ChangeMethod choose_change_method(const catalog::TableDef &table, const std::optional<TableConfig> &config);

// Reads [tables."schema.table"] change_column = "..." from a TOML file.
std::map<std::string, TableConfig> load_config(const std::string &path);

}  // namespace pgcutover::sync
