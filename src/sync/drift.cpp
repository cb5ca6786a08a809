#include "pgcutover/sync/drift.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace pgcutover::sync {

const char *to_string(DriftKind k) {
  switch (k) {
    case DriftKind::NewTable: return "new_table";
    case DriftKind::AddedColumn: return "added_column";
    case DriftKind::DroppedColumn: return "dropped_column";
    case DriftKind::TypeChanged: return "type_changed";
    case DriftKind::DefaultChanged: return "default_changed";
    case DriftKind::NullChanged: return "null_changed";
    case DriftKind::DroppedTable: return "dropped_table";
    case DriftKind::EnumLabel: return "enum_label";
    case DriftKind::NewIndex: return "new_index";
    case DriftKind::NewConstraint: return "new_constraint";
    case DriftKind::BoundChanged: return "bound_changed";
    case DriftKind::DomainChanged: return "domain_changed";
    case DriftKind::ConstraintChanged: return "constraint_changed";
    case DriftKind::EnumRenamed: return "enum_renamed";
    case DriftKind::Renamed: return "renamed";
    case DriftKind::CommentChanged: return "comment_changed";
  }
  return "?";
}

namespace {

std::vector<Drift> column_drift(const catalog::TableDef &t, const catalog::TableDef &d) {
  std::vector<Drift> out, added, dropped;
  for (const catalog::ColumnDef &c : t.columns) {
    const catalog::ColumnDef *dc = d.find_column(c.name);
    if (!dc) {
      added.push_back({t.name, DriftKind::AddedColumn, c.name,
                       c.type + (c.default_expr.empty() ? "" : " DEFAULT " + c.default_expr) + (c.not_null ? " NOT NULL" : "") +
                           ": added, its values copied from the source" +
                           (c.default_expr.empty() ? "" : " (the default is not evaluated on the target's rows)"),
                       false});
      continue;
    }
    if (dc->type != c.type) {
      out.push_back({t.name, DriftKind::TypeChanged, c.name,
                     "is " + c.type + " on the source but " + dc->type + " on the target: the table is not synced; "
                     "change the target column the same way, then sync again", true});
      continue;
    }
    if (dc->default_expr != c.default_expr)
      out.push_back({t.name, DriftKind::DefaultChanged, c.name,
                     c.default_expr.empty() ? "has no default on the source: dropped on the target"
                                            : "DEFAULT " + c.default_expr + " on the source: set on the target after the data",
                     false});
    if (dc->not_null != c.not_null)
      out.push_back({t.name, DriftKind::NullChanged, c.name,
                     c.not_null ? "is NOT NULL on the source: every row read again, then SET NOT NULL after the data"
                                : "allows NULL on the source: DROP NOT NULL on the target before the data",
                     false, "", c.not_null});
  }
  for (const catalog::ColumnDef &dc : d.columns)
    if (!t.find_column(dc.name))
      dropped.push_back({t.name, DriftKind::DroppedColumn, dc.name,
                         "exists on the target only (dropped or renamed on the source): the table is not synced; "
                         "drop or rename it on the target too, then sync again", true});
  if (!added.empty() && !dropped.empty())
    for (Drift &x : dropped) x.detail += " (possibly renamed to \"" + added.front().column + "\")";
  out.insert(out.end(), added.begin(), added.end());
  out.insert(out.end(), dropped.begin(), dropped.end());
  return out;
}

bool same_change(const Drift &a, const Drift &b) {
  return a.kind == b.kind && a.column == b.column && a.detail == b.detail;
}

}  // namespace

std::vector<Drift> find_drift(const catalog::Catalog &src, const catalog::Catalog &dst,
                              const std::vector<catalog::TableDef> &selected) {
  // The selected tables and their ancestors, parents first.
  std::vector<const catalog::TableDef *> order;
  std::set<u32> seen;
  for (const catalog::TableDef &t : selected) {
    std::vector<const catalog::TableDef *> chain;
    for (const catalog::TableDef *up = src.find(t.name); up; up = src.find_oid(up->parent_oid)) chain.push_back(up);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
      if (seen.insert((*it)->oid).second) order.push_back(*it);
  }
  std::map<u32, std::vector<Drift>> found;  // per table, before the parents' changes are taken out
  std::vector<Drift> out;
  for (const catalog::TableDef *t : order) {
    const catalog::TableDef *d = dst.find(t->name);
    if (!d) {
      // A new partitioned parent comes with its new leaves.
      if (t->relkind == 'r')
        out.push_back({t->name, DriftKind::NewTable, "", "exists on the source only: created and base-copied", false});
      continue;
    }
    found[t->oid] = column_drift(*t, *d);
    for (const Drift &x : found[t->oid]) {
      // A change made on a parent recurses to its partitions and children: once, on the parent.
      bool on_parent = false;
      for (const catalog::TableDef *up = src.find_oid(t->parent_oid); up && !x.blocking && !on_parent; up = src.find_oid(up->parent_oid))
        on_parent = std::any_of(found[up->oid].begin(), found[up->oid].end(), [&](const Drift &p) { return same_change(p, x); });
      if (!on_parent) out.push_back(x);
    }
  }
  return out;
}

std::vector<Drift> find_dropped_tables(const catalog::Catalog &src, const catalog::Catalog &dst,
                                      const std::vector<sql::QualifiedName> &copied) {
  std::vector<Drift> out;
  for (const sql::QualifiedName &t : copied)
    if (!src.find(t) && dst.find(t))
      out.push_back({t, DriftKind::DroppedTable, "",
                     "was copied but no longer exists on the source: left untouched on the target; "
                     "drop it there if the application no longer needs it",
                     true});
  return out;
}

}  // namespace pgcutover::sync
