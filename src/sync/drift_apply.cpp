#include "pgcutover/sync/drift_apply.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/drift.hpp"
#include "pgcutover/sync/watermark.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::sync {

namespace {

// Runs one drift step; a failure names the object and the step.
void run_step(pg::Connection &dst, const std::string &what, const std::string &statement, const std::string &hint) {
  try {
    dst.exec(statement);
  } catch (const Error &e) {
    Error named(e.kind, what + ": " + e.what(), hint.empty() ? e.hint : hint);
    named.sqlstate = e.sqlstate;
    throw named;
  }
}

std::string describe(const Drift &d) {
  return d.table.display() + ": " + to_string(d.kind) + (d.column.empty() ? "" : " \"" + d.column + "\"");
}

using Labels = std::map<sql::QualifiedName, std::vector<std::string>>;

Labels enum_labels(pg::Connection &c, const std::vector<std::string> &excluded) {
  pg::Result r = c.query(sql::drift::enum_labels(), {sql::array_literal(excluded)});
  Labels out;
  for (int i = 0; i < r.rows(); ++i)
    out[{std::string(r.get(i, 0)), std::string(r.get(i, 1))}].emplace_back(r.get(i, 2));
  return out;
}

// Labels the target lacks, each added next to a label both have so that the
// target's sort order becomes the source's.
void enum_drift(const Labels &src, const Labels &dst, std::vector<Drift> &out) {
  for (const auto &[type, labels] : src) {
    auto d = dst.find(type);
    if (d == dst.end()) continue;  // a new type comes with the table that needs it
    std::vector<std::string> now = d->second;
    std::vector<std::string> common_src, common_dst;
    for (const std::string &l : labels)
      if (std::find(now.begin(), now.end(), l) != now.end()) common_src.push_back(l);
    for (const std::string &l : now)
      if (std::find(labels.begin(), labels.end(), l) != labels.end()) common_dst.push_back(l);
    if (common_src != common_dst) {
      out.push_back({type, DriftKind::EnumLabel, "",
                     "the labels the two sides share sort in a different order on the target: values would sort "
                     "differently; recreate the type on the target as the source has it",
                     false, ""});
      continue;
    }
    for (size_t i = 0; i < labels.size(); ++i) {
      const std::string &l = labels[i];
      if (std::find(now.begin(), now.end(), l) != now.end()) continue;
      std::string anchor;
      bool before = true;
      for (size_t j = i + 1; j < labels.size() && anchor.empty(); ++j)
        if (std::find(now.begin(), now.end(), labels[j]) != now.end()) anchor = labels[j];
      if (anchor.empty() && i > 0) {
        anchor = labels[i - 1];
        before = false;
      }
      auto at = anchor.empty() ? now.end() : std::find(now.begin(), now.end(), anchor);
      now.insert(before ? at : at + 1, l);
      out.push_back({type, DriftKind::EnumLabel, l,
                     anchor.empty() ? "added" : std::string("added ") + (before ? "before" : "after") + " '" + anchor + "'",
                     false, sql::drift::add_enum_label(type, l, anchor, before)});
    }
  }
}

struct Object {
  sql::QualifiedName table;
  std::string name;
  std::string definition;
};

// The definition without its own name: an index the target has under another
// name is the same index.
std::string unnamed_index(const std::string &def) {
  size_t a = def.find("INDEX ");
  size_t b = def.find(" ON ", a == std::string::npos ? 0 : a);
  if (a == std::string::npos || b == std::string::npos) return def;
  std::string out = def.substr(0, a + 6) + def.substr(b + 1);
  size_t only = out.find("ON ONLY ");
  if (only != std::string::npos) out.erase(only + 3, 5);
  return out;
}

std::vector<Object> objects(pg::Connection &c, const char *query, const std::vector<std::string> &excluded, int def_col) {
  pg::Result r = c.query(query, {sql::array_literal(excluded)});
  std::vector<Object> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({{std::string(r.get(i, 0)), std::string(r.get(i, 1))}, std::string(r.get(i, 2)), std::string(r.get(i, def_col))});
  return out;
}

// Objects of the source the target lacks (neither by name nor by definition),
// on tables both sides have and this sync touches.
std::vector<Object> missing_objects(const std::vector<Object> &src, const std::vector<Object> &dst,
                                    const std::set<sql::QualifiedName> &tables, bool indexes) {
  std::vector<Object> out;
  for (const Object &o : src) {
    if (!tables.count(o.table)) continue;
    bool present = std::any_of(dst.begin(), dst.end(), [&](const Object &d) {
      if (indexes) return (d.table.schema == o.table.schema && d.name == o.name) ||
                          (d.table == o.table && unnamed_index(d.definition) == unnamed_index(o.definition));
      return d.table == o.table && (d.name == o.name || d.definition == o.definition);
    });
    if (!present) out.push_back(o);
  }
  return out;
}

// The selected leaves at or under `top` (a table, or a partitioned or inheritance parent).
std::vector<sql::QualifiedName> leaves_under(const catalog::Catalog &sc, const std::vector<catalog::TableDef> &selected,
                                             const sql::QualifiedName &top) {
  std::vector<sql::QualifiedName> out;
  for (const catalog::TableDef &t : selected)
    for (const catalog::TableDef *up = &t; up; up = sc.find_oid(up->parent_oid))
      if (up->name == top) {
        out.push_back(t.name);
        break;
      }
  return out;
}

}  // namespace

DriftPlan find_all_drift(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &sc, const catalog::Catalog &dc,
                         const std::vector<catalog::TableDef> &selected, const DriftScope &scope) {
  DriftPlan plan;
  plan.drift = find_drift(sc, dc, selected);
  if (scope.whole_database) {
    std::vector<sql::QualifiedName> copied = watermarked_tables(dst, scope.tool_schema);
    std::erase_if(copied, [&](const sql::QualifiedName &t) {
      return std::find(scope.excluded_schemas.begin(), scope.excluded_schemas.end(), t.schema) != scope.excluded_schemas.end();
    });
    for (Drift &d : find_dropped_tables(sc, dc, copied)) plan.drift.push_back(std::move(d));
  }
  for (const Drift &d : plan.drift)
    if (d.blocking) plan.blocked.insert(d.table);
  // A blocked parent blocks its partitions and children.
  for (const catalog::TableDef &t : selected)
    for (const catalog::TableDef *up = sc.find_oid(t.parent_oid); up; up = sc.find_oid(up->parent_oid))
      if (plan.blocked.count(up->name)) plan.blocked.insert(t.name);

  // The tables this sync touches on both sides: the selected ones and their parents.
  std::set<sql::QualifiedName> both;
  for (const catalog::TableDef &t : selected)
    for (const catalog::TableDef *up = &t; up; up = sc.find_oid(up->parent_oid))
      if (dc.find(up->name) && !plan.blocked.count(up->name)) both.insert(up->name);

  for (Drift &d : plan.drift) {
    if (plan.blocked.count(d.table)) continue;
    const catalog::TableDef *t = sc.find(d.table);
    const catalog::ColumnDef *c = t ? t->find_column(d.column) : nullptr;
    switch (d.kind) {
      case DriftKind::NewTable: plan.new_tables.push_back(d.table); break;
      case DriftKind::AddedColumn:
        for (const sql::QualifiedName &leaf : leaves_under(sc, selected, d.table)) plan.reread.push_back(leaf);
        d.statement = sql::drift::add_bare_column(d.table, c->name, c->type);
        if (!c->default_expr.empty())
          plan.after_data.emplace_back(describe(d) + " (its default)", sql::drift::set_default(d.table, c->name, c->default_expr));
        if (c->not_null) plan.after_data.emplace_back(describe(d) + " (NOT NULL)", sql::drift::set_not_null(d.table, c->name));
        break;
      case DriftKind::NullChanged:
        if (c->not_null)
          for (const sql::QualifiedName &leaf : leaves_under(sc, selected, d.table)) plan.reread.push_back(leaf);
        d.statement = c->not_null ? sql::drift::set_not_null(d.table, c->name) : sql::drift::drop_not_null(d.table, c->name);
        break;
      case DriftKind::DefaultChanged:
        d.statement = c->default_expr.empty() ? sql::drift::drop_default(d.table, c->name)
                                              : sql::drift::set_default(d.table, c->name, c->default_expr);
        break;
      default: break;
    }
  }
  std::sort(plan.reread.begin(), plan.reread.end());
  plan.reread.erase(std::unique(plan.reread.begin(), plan.reread.end()), plan.reread.end());

  enum_drift(enum_labels(src, scope.excluded_schemas), enum_labels(dst, scope.excluded_schemas), plan.drift);
  for (const Object &o : missing_objects(objects(src, sql::drift::plain_indexes(), scope.excluded_schemas, 3),
                                         objects(dst, sql::drift::plain_indexes(), scope.excluded_schemas, 3), both, true))
    plan.drift.push_back({o.table, DriftKind::NewIndex, o.name, "created after the data", false,
                          sql::drift::create_index(o.definition)});
  for (const Object &o : missing_objects(objects(src, sql::drift::local_constraints(), scope.excluded_schemas, 4),
                                         objects(dst, sql::drift::local_constraints(), scope.excluded_schemas, 4), both, false))
    plan.drift.push_back({o.table, DriftKind::NewConstraint, o.name, o.definition + ": created after the data", false,
                          sql::drift::add_constraint(o.table, o.name, o.definition)});
  return plan;
}

void apply_before_data(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &sc, const catalog::Catalog &dc,
                       DriftPlan &plan, const DriftScope &scope) {
  auto run = [&](const Drift &d) {
    log::info("{}: {}", describe(d), d.detail);
    run_step(dst, describe(d) + " could not be applied on the target", d.statement,
             "nothing of this sync's data has moved yet; fix the cause on the target and sync again");
  };
  for (const Drift &d : plan.drift)
    if (d.kind == DriftKind::EnumLabel && !d.statement.empty()) run(d);  // outside a transaction block (before 12)
  for (const Drift &d : plan.drift)
    if (!plan.blocked.count(d.table) && d.kind == DriftKind::NullChanged && d.statement.find("DROP NOT NULL") != std::string::npos) run(d);

  // Columns added bare, and the rows they need read again: one transaction,
  // so a crash cannot leave a column without its reread mark.
  {
    pg::Transaction txn(dst);
    for (const Drift &d : plan.drift)
      if (!plan.blocked.count(d.table) && d.kind == DriftKind::AddedColumn) run(d);
    for (const sql::QualifiedName &t : plan.reread)
      if (std::optional<Watermark> wm = read_watermark(dst, scope.tool_schema, t))
        write_watermark(dst, scope.tool_schema, t, REREAD, {wm->point, wm->xmin}, REREAD);
    txn.commit();
  }

  // New partitions of parents the target has, created as the source has them.
  std::set<sql::QualifiedName> made;
  std::function<bool(const sql::QualifiedName &)> ensure = [&](const sql::QualifiedName &n) -> bool {
    if (dc.find(n) || made.count(n)) return true;
    pg::Result r = src.query(sql::drift::partition_shape(), {n.schema, n.name});
    if (r.rows() == 0) return false;  // not a partition: pg_dump creates it
    std::string bound(r.get(0, 0)), key(r.get(0, 1)), constraint(r.get(0, 2));
    sql::QualifiedName parent{std::string(r.get(0, 4)), std::string(r.get(0, 5))};
    if (!ensure(parent)) return false;
    pg::Transaction txn(dst);
    if (bound != "DEFAULT" && !constraint.empty()) {
      pg::Result def = dst.query(sql::drift::default_partition(), {parent.schema, parent.name});
      if (def.rows() > 0) {
        sql::QualifiedName dflt{std::string(def.get(0, 0)), std::string(def.get(0, 1))};
        i64 moved = dst.exec(sql::drift::delete_where(dflt, constraint)).affected_rows();
        if (moved > 0)
          log::info("{}: {} row(s) of the new partition {} taken out of the DEFAULT partition (the copy brings them from the source)",
                    dflt.display(), moved, n.display());
      }
    }
    log::info("{}: new partition of {}: creating it as the source has it ({})", n.display(), parent.display(), bound);
    dst.exec(sql::drift::create_partition(n, parent, bound, key, r.get(0, 3) == "t"));
    txn.commit();
    made.insert(n);
    return true;
  };
  for (const sql::QualifiedName &t : plan.new_tables) ensure(t);
}

std::vector<std::string> apply_after_data(pg::Connection &dst, const DriftPlan &plan) {
  const std::string hint = "the data is synced; fix the cause on the target and sync again (the step is retried)";
  std::vector<std::string> todo;
  auto step = [&](const std::string &what, const std::string &statement) {
    bool not_null = statement.find("SET NOT NULL") != std::string::npos;
    try {
      run_step(dst, what + " could not be applied after the data", statement, hint);
    } catch (const Error &e) {
      if (!not_null || e.sqlstate != "23502") throw;
      todo.push_back(what + ": NOT NULL not set yet: target rows the source no longer has hold NULL in it; "
                     "sync with --deletes detect (the next sync sets it)");
      log::warn("{}", todo.back());
    }
  };
  for (const Drift &d : plan.drift) {
    if (plan.blocked.count(d.table) || d.statement.empty()) continue;
    bool after = d.kind == DriftKind::DefaultChanged || d.kind == DriftKind::NewIndex || d.kind == DriftKind::NewConstraint ||
                 (d.kind == DriftKind::NullChanged && d.statement.find("SET NOT NULL") != std::string::npos);
    if (!after) continue;
    log::info("{}: {}", describe(d), d.detail);
    step(describe(d), d.statement);
  }
  // The added columns' defaults and NOT NULL, now that every row has the source's value.
  for (const auto &[what, statement] : plan.after_data) step(what, statement);
  return todo;
}

}  // namespace pgcutover::sync
