#include "pgcutover/sync/drift.hpp"

namespace pgcutover::sync {

const char *to_string(DriftKind k) {
  switch (k) {
    case DriftKind::NewTable: return "new_table";
    case DriftKind::AddedColumn: return "added_column";
    case DriftKind::DroppedColumn: return "dropped_column";
    case DriftKind::TypeChanged: return "type_changed";
  }
  return "?";
}

std::vector<Drift> find_drift(const catalog::Catalog &src, const catalog::Catalog &dst,
                              const std::vector<catalog::TableDef> &selected) {
  std::vector<Drift> out;
  for (const catalog::TableDef &t : selected) {
    const catalog::TableDef *d = dst.find(t.name);
    if (!d) {
      out.push_back({t.name, DriftKind::NewTable, "", "exists on the source only: created through pg_dump and base-copied", false});
      continue;
    }
    std::vector<Drift> added, dropped;
    for (const catalog::ColumnDef &c : t.columns) {
      const catalog::ColumnDef *dc = d->find_column(c.name);
      if (!dc)
        added.push_back({t.name, DriftKind::AddedColumn, c.name,
                         c.type + (c.default_expr.empty() ? "" : " DEFAULT " + c.default_expr) + (c.not_null ? " NOT NULL" : ""),
                         false});
      else if (dc->type != c.type)
        out.push_back({t.name, DriftKind::TypeChanged, c.name,
                       "is " + c.type + " on the source but " + dc->type + " on the target: the table is not synced; "
                       "change the target column the same way, then sync again", true});
    }
    for (const catalog::ColumnDef &dc : d->columns)
      if (!t.find_column(dc.name))
        dropped.push_back({t.name, DriftKind::DroppedColumn, dc.name,
                           "exists on the target only (dropped or renamed on the source): the table is not synced; "
                           "drop or rename it on the target too, then sync again", true});
    if (!added.empty() && !dropped.empty())
      for (Drift &x : dropped) x.detail += " (possibly renamed to \"" + added.front().column + "\")";
    out.insert(out.end(), added.begin(), added.end());
    out.insert(out.end(), dropped.begin(), dropped.end());
  }
  return out;
}

}  // namespace pgcutover::sync
