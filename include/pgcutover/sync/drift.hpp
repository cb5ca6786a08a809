#pragma once
// Schema drift between source and target, found before every sync. Added
// columns are applied on the target (with their type, default and
// nullability); a table new on the source is created through pg_dump and
// base-copied; a type change, a dropped or a renamed column stops the sync for
// that table, with the reason.
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"

namespace pgcutover::sync {

enum class DriftKind { NewTable, AddedColumn, DroppedColumn, TypeChanged };
const char *to_string(DriftKind k);

struct Drift {
  sql::QualifiedName table;
  DriftKind kind;
  std::string column;
  std::string detail;
  bool blocking = false;  // stops the sync for the table
};

std::vector<Drift> find_drift(const catalog::Catalog &src, const catalog::Catalog &dst,
                              const std::vector<catalog::TableDef> &selected);

}  // namespace pgcutover::sync
