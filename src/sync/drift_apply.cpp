#include "pgcutover/sync/drift_apply.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/drift.hpp"
#include "pgcutover/sql/write_guard.hpp"
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
    // Renamed labels (ALTER TYPE ... RENAME VALUE): a label only the target
    // has, between the same neighbours as a label only the source has.
    auto has = [](const std::vector<std::string> &v, const std::string &l) {
      return std::find(v.begin(), v.end(), l) != v.end();
    };
    auto neighbours = [](const std::vector<std::string> &v, size_t i) {
      return std::pair(i > 0 ? v[i - 1] : std::string("\x01"), i + 1 < v.size() ? v[i + 1] : std::string("\x01"));
    };
    for (size_t t = 0; t < now.size(); ++t) {
      if (has(labels, now[t])) continue;
      std::string match;
      int candidates = 0;
      for (size_t s = 0; s < labels.size(); ++s)
        if (!has(now, labels[s]) && neighbours(labels, s) == neighbours(now, t)) {
          match = labels[s];
          ++candidates;
        }
      if (candidates != 1) continue;
      out.push_back({type, DriftKind::EnumRenamed, match, "'" + now[t] + "' renamed '" + match + "' (rows keep their value)",
                     false, sql::drift::rename_enum_label(type, now[t], match)});
      now[t] = match;
    }
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
  // The target's objects by name and by definition, looked up per source
  // object: linear in the objects, at tens of thousands of indexes too.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::set<Key> by_name, by_definition;
  for (const Object &d : dst) {
    by_name.insert(indexes ? Key{d.table.schema, "", d.name} : Key{d.table.schema, d.table.name, d.name});
    by_definition.insert({d.table.schema, d.table.name, indexes ? unnamed_index(d.definition) : d.definition});
  }
  std::vector<Object> out;
  for (const Object &o : src) {
    if (!tables.count(o.table)) continue;
    // An index's name is unique in its schema; a constraint's on its table.
    bool present = by_name.count(indexes ? Key{o.table.schema, "", o.name} : Key{o.table.schema, o.table.name, o.name}) ||
                   by_definition.count({o.table.schema, o.table.name, indexes ? unnamed_index(o.definition) : o.definition});
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

struct Bound {
  std::string bound, constraint;
  sql::QualifiedName parent;
};

std::map<sql::QualifiedName, Bound> partition_bounds(pg::Connection &c, const std::vector<std::string> &excluded) {
  pg::Result r = c.query(sql::drift::partition_bounds(), {sql::array_literal(excluded)});
  std::map<sql::QualifiedName, Bound> out;
  for (int i = 0; i < r.rows(); ++i)
    out[{std::string(r.get(i, 0)), std::string(r.get(i, 1))}] = {std::string(r.get(i, 2)), std::string(r.get(i, 3)),
                                                                 {std::string(r.get(i, 4)), std::string(r.get(i, 5))}};
  return out;
}

// Partitions both sides have under the same parent with different bounds:
// the target's is made the source's before the data, and the rows that moved
// are read again (they move between partitions without touching a change
// column): the changed partitions' and, when there is one, the parent's
// DEFAULT partition's (its implicit range grows when another shrinks).
void bound_drift(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &sc,
                 const std::vector<catalog::TableDef> &selected, const std::set<sql::QualifiedName> &both,
                 const std::vector<std::string> &excluded, DriftPlan &plan) {
  std::map<sql::QualifiedName, Bound> a = partition_bounds(src, excluded), b = partition_bounds(dst, excluded);
  std::set<sql::QualifiedName> parents;
  for (const auto &[part, sb] : a) {
    auto tb = b.find(part);
    if (tb == b.end() || !both.count(part) || tb->second.parent != sb.parent || tb->second.bound == sb.bound) continue;
    plan.drift.push_back({part, DriftKind::BoundChanged, "",
                          "FOR VALUES on the target: " + tb->second.bound + "; on the source: " + sb.bound +
                              ": detached, the rows outside the new bound taken out (the partitions that hold them "
                              "now bring them), attached with the source's bound",
                          false, sql::drift::attach_partition(sb.parent, part, sb.bound)});
    plan.bound_changes.push_back({part, sb.parent, sb.bound, sb.constraint});
    for (const sql::QualifiedName &leaf : leaves_under(sc, selected, part)) plan.reread.push_back(leaf);
    parents.insert(sb.parent);
  }
  for (const auto &[part, sb] : a)
    if (sb.bound == "DEFAULT" && parents.count(sb.parent) && both.count(part))
      for (const sql::QualifiedName &leaf : leaves_under(sc, selected, part)) plan.reread.push_back(leaf);
}

using Keyed = std::map<std::vector<std::string>, std::string>;

Keyed keyed(pg::Connection &c, const char *query, const std::vector<std::string> &excluded, int key_columns) {
  pg::Result r = c.query(query, {sql::array_literal(excluded)});
  Keyed out;
  for (int i = 0; i < r.rows(); ++i) {
    std::vector<std::string> k;
    for (int j = 0; j < key_columns; ++j) k.emplace_back(r.get(i, j));
    out[k] = std::string(r.get(i, key_columns));
  }
  return out;
}

// A domain's CHECK constraints by (schema, domain, name): the definition and
// whether the server has validated it.
struct DomainCheck {
  std::string def;
  bool validated = true;
};
std::map<std::vector<std::string>, DomainCheck> domain_checks(pg::Connection &c, const std::vector<std::string> &excluded) {
  pg::Result r = c.query(sql::drift::domain_constraints(), {sql::array_literal(excluded)});
  std::map<std::vector<std::string>, DomainCheck> out;
  for (int i = 0; i < r.rows(); ++i)
    out[{std::string(r.get(i, 0)), std::string(r.get(i, 1)), std::string(r.get(i, 2))}] = {std::string(r.get(i, 3)),
                                                                                           r.get_bool(i, 4)};
  return out;
}

// Domains both sides have: default and CHECK constraints made the source's
// before the data (checks NOT VALID; VALIDATE after the data when the
// source's is validated).
void domain_drift(pg::Connection &src, pg::Connection &dst, const std::vector<std::string> &excluded, DriftPlan &plan) {
  Keyed sd = keyed(src, sql::drift::domain_defaults(), excluded, 2), td = keyed(dst, sql::drift::domain_defaults(), excluded, 2);
  for (const auto &[k, def] : sd) {
    auto t = td.find(k);
    if (t == td.end() || t->second == def) continue;
    sql::QualifiedName d{k[0], k[1]};
    plan.drift.push_back({d, DriftKind::DomainChanged, "default",
                          "default on the target: " + (t->second.empty() ? "none" : t->second) +
                              "; on the source: " + (def.empty() ? "none" : def),
                          false, sql::drift::domain_default(d, def)});
  }
  auto sc = domain_checks(src, excluded), tc = domain_checks(dst, excluded);
  for (const auto &[k, check] : sc) {
    if (!td.count({k[0], k[1]})) continue;  // a new domain comes with what uses it
    const std::string &def = check.def;
    auto t = tc.find(k);
    if (t != tc.end() && t->second.def == def) continue;
    sql::QualifiedName d{k[0], k[1]};
    if (t != tc.end())
      plan.drift.push_back({d, DriftKind::DomainChanged, k[2], "constraint on the target: " + t->second.def + "; dropped",
                            false, sql::write_guard::drop_domain_constraint(d, k[2])});
    bool validated = check.validated;
    plan.drift.push_back({d, DriftKind::DomainChanged, k[2],
                          "constraint on the source: " + def + "; added NOT VALID" +
                              (validated ? ", validated after the data" : ""),
                          false, sql::write_guard::add_domain_constraint(d, k[2], def, validated)});
    if (validated)
      plan.after_data.push_back({d.display() + ": domain_changed \"" + k[2] + "\" (VALIDATE)",
                                   sql::drift::domain_validate(d, k[2])});
  }
  for (const auto &[k, check] : tc)
    if (sd.count({k[0], k[1]}) && !sc.count(k)) {
      sql::QualifiedName d{k[0], k[1]};
      plan.drift.push_back({d, DriftKind::DomainChanged, k[2], "constraint on the target only: " + check.def + "; dropped", false,
                            sql::write_guard::drop_domain_constraint(d, k[2])});
    }
}

// Constraints of the same name with another definition, indexes and
// constraints under another name, comments: on the tables this sync touches.
// Constraints and plain indexes of both sides, read once per sync.
struct Objects {
  std::vector<Object> source_constraints, target_constraints, source_indexes, target_indexes;
};

Objects read_objects(pg::Connection &src, pg::Connection &dst, const std::vector<std::string> &excluded) {
  return {objects(src, sql::drift::local_constraints(), excluded, 4), objects(dst, sql::drift::local_constraints(), excluded, 4),
          objects(src, sql::drift::plain_indexes(), excluded, 3), objects(dst, sql::drift::plain_indexes(), excluded, 3)};
}

// Lookups are by name and by definition through ordered maps (a scan of the
// other side per object would be quadratic in the objects: tens of thousands
// of indexes at thousands of tables). For equal keys a multimap keeps the
// order of insertion, so the first match is the one a scan would find.
void object_changes(pg::Connection &src, pg::Connection &dst, const std::set<sql::QualifiedName> &both,
                    const std::vector<std::string> &excluded, const Objects &objs, DriftPlan &plan) {
  using Key = std::tuple<std::string, std::string, std::string>;
  const std::vector<Object> &sk = objs.source_constraints, &tk = objs.target_constraints;
  std::map<Key, const Object *> tk_by_name;
  std::multimap<Key, const Object *> tk_by_def;
  std::set<Key> sk_names;
  for (const Object &t : tk) {
    tk_by_name.emplace(Key{t.table.schema, t.table.name, t.name}, &t);
    tk_by_def.emplace(Key{t.table.schema, t.table.name, t.definition}, &t);
  }
  for (const Object &s : sk) sk_names.insert({s.table.schema, s.table.name, s.name});
  for (const Object &o : sk) {
    if (!both.count(o.table)) continue;
    if (auto same_name = tk_by_name.find({o.table.schema, o.table.name, o.name}); same_name != tk_by_name.end()) {
      const Object &t = *same_name->second;
      if (t.definition == o.definition) continue;
      plan.drift.push_back({o.table, DriftKind::ConstraintChanged, o.name,
                            "on the target: " + t.definition + "; on the source: " + o.definition +
                                ": dropped before the data, created as the source has it after",
                            false, sql::write_guard::drop_constraint(o.table, o.name)});
      plan.after_data.push_back({o.table.display() + ": constraint_changed \"" + o.name + "\"",
                                   sql::drift::add_constraint(o.table, o.name, o.definition)});
      continue;
    }
    auto [from, to] = tk_by_def.equal_range({o.table.schema, o.table.name, o.definition});
    for (auto it = from; it != to; ++it) {
      const Object &t = *it->second;
      if (sk_names.count({t.table.schema, t.table.name, t.name})) continue;
      plan.drift.push_back({o.table, DriftKind::Renamed, o.name, "constraint \"" + t.name + "\" renamed", false,
                            sql::drift::rename_constraint(o.table, t.name, o.name)});
      break;
    }
  }
  const std::vector<Object> &si = objs.source_indexes, &ti = objs.target_indexes;
  std::set<std::pair<std::string, std::string>> ti_names, si_names;  // an index's name is unique in its schema
  std::multimap<Key, const Object *> ti_by_def;
  for (const Object &t : ti) {
    ti_names.insert({t.table.schema, t.name});
    ti_by_def.emplace(Key{t.table.schema, t.table.name, unnamed_index(t.definition)}, &t);
  }
  for (const Object &s : si) si_names.insert({s.table.schema, s.name});
  for (const Object &o : si) {
    if (!both.count(o.table)) continue;
    if (ti_names.count({o.table.schema, o.name})) continue;
    auto [from, to] = ti_by_def.equal_range({o.table.schema, o.table.name, unnamed_index(o.definition)});
    for (auto it = from; it != to; ++it) {
      const Object &t = *it->second;
      if (si_names.count({t.table.schema, t.name})) continue;
      plan.drift.push_back({o.table, DriftKind::Renamed, o.name, "index \"" + t.name + "\" renamed", false,
                            sql::drift::rename_index(o.table.schema, t.name, o.name)});
      break;
    }
  }
  Keyed sm = keyed(src, sql::drift::relation_comments(), excluded, 3), tm = keyed(dst, sql::drift::relation_comments(), excluded, 3);
  auto comment = [&](const std::vector<std::string> &k, const std::string &text) {
    sql::QualifiedName t{k[0], k[1]};
    if (!both.count(t)) return;
    plan.drift.push_back({t, DriftKind::CommentChanged, k[2], text.empty() ? "removed" : "set as the source has it", false,
                          sql::drift::comment_on(t, k[2], text)});
  };
  for (const auto &[k, text] : sm)
    if (auto t = tm.find(k); t == tm.end() || t->second != text) comment(k, text);
  for (const auto &[k, text] : tm)
    if (!sm.count(k)) comment(k, "");
}

// A partition the sync creates gets the source's owner, GRANTs and comments
// (--no-owner / --no-privileges leave those out); a role the target lacks is
// named and left out.
void carry_owner_grants_comments(pg::Connection &src, pg::Connection &dst, const sql::QualifiedName &t,
                                 const DriftScope &scope, const std::string &hint) {
  std::set<std::string> roles;
  pg::Result rn = dst.exec("SELECT rolname FROM pg_catalog.pg_roles");
  for (int i = 0; i < rn.rows(); ++i) roles.emplace(rn.get(i, 0));
  pg::Result g = src.query(sql::drift::relation_grants(), {t.schema, t.name});
  const std::string what = t.display() + ": new_table (its owner, GRANTs and comments)";
  for (int i = 0; i < g.rows(); ++i) {
    if (i == 0 && !scope.no_owner) {
      std::string owner(g.get(0, 0));
      if (roles.count(owner)) run_step(dst, what, sql::drift::set_owner(t, owner), hint);
      else log::warn("{}: its owner {} does not exist on the target: the target role owns it", t.display(), owner);
    }
    if (scope.no_privileges || g.is_null(i, 2)) continue;
    std::string grantee(g.get(i, 1));
    if (!grantee.empty() && !roles.count(grantee)) {
      log::warn("{}: GRANT {} to {} left out: the role does not exist on the target", t.display(), g.get(i, 2), grantee);
      continue;
    }
    run_step(dst, what, sql::drift::grant_on(t, std::string(g.get(i, 2)), grantee, g.get_bool(i, 3)), hint);
  }
  pg::Result c = src.query(sql::drift::comments_of(), {t.schema, t.name});
  for (int i = 0; i < c.rows(); ++i)
    run_step(dst, what, sql::drift::comment_on(t, std::string(c.get(i, 0)), std::string(c.get(i, 1))), hint);
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
          plan.after_data.push_back({describe(d) + " (its default)", sql::drift::set_default(d.table, c->name, c->default_expr)});
        if (c->not_null) plan.after_data.push_back({describe(d) + " (NOT NULL)", sql::drift::set_not_null(d.table, c->name), true});
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
  bound_drift(src, dst, sc, selected, both, scope.excluded_schemas, plan);
  domain_drift(src, dst, scope.excluded_schemas, plan);
  const Objects objs = read_objects(src, dst, scope.excluded_schemas);
  object_changes(src, dst, both, scope.excluded_schemas, objs, plan);
  std::sort(plan.reread.begin(), plan.reread.end());
  plan.reread.erase(std::unique(plan.reread.begin(), plan.reread.end()), plan.reread.end());

  enum_drift(enum_labels(src, scope.excluded_schemas), enum_labels(dst, scope.excluded_schemas), plan.drift);
  for (const Object &o : missing_objects(objs.source_indexes, objs.target_indexes, both, true))
    plan.drift.push_back({o.table, DriftKind::NewIndex, o.name, "created after the data", false,
                          sql::drift::create_index(o.definition)});
  for (const Object &o : missing_objects(objs.source_constraints, objs.target_constraints, both, false))
    plan.drift.push_back({o.table, DriftKind::NewConstraint, o.name, o.definition + ": created after the data", false,
                          sql::drift::add_constraint(o.table, o.name, o.definition)});
  return plan;
}

void apply_before_data(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &sc, const catalog::Catalog &dc,
                       DriftPlan &plan, const DriftScope &scope) {
  const std::string hint = "nothing of this sync's schema changes or data was applied; fix the cause on the target and "
                           "sync again";
  auto run = [&](const Drift &d) {
    log::info("{}: {}", describe(d), d.detail);
    run_step(dst, describe(d) + " could not be applied on the target", d.statement, hint);
  };
  // Before 12, ALTER TYPE ... ADD VALUE cannot run in a transaction block:
  // the labels go first, on their own (adding a label changes no row).
  bool labels_inside = dst.server_version() >= 120000;
  if (!labels_inside)
    for (const Drift &d : plan.drift)
      if (d.kind == DriftKind::EnumLabel && !d.statement.empty()) run(d);

  pg::Transaction txn(dst);
  if (labels_inside)
    for (const Drift &d : plan.drift)
      if (d.kind == DriftKind::EnumLabel && !d.statement.empty()) run(d);
  for (const Drift &d : plan.drift)
    if (!plan.blocked.count(d.table) && d.kind == DriftKind::NullChanged && !d.sets_not_null) run(d);
  // Columns added bare, and the rows they need read again (a crash cannot
  // leave a column without its reread mark).
  for (const Drift &d : plan.drift)
    if (!plan.blocked.count(d.table) && d.kind == DriftKind::AddedColumn) run(d);
  for (const sql::QualifiedName &t : plan.reread)
    if (std::optional<Watermark> wm = read_watermark(dst, scope.tool_schema, t))
      write_watermark(dst, scope.tool_schema, t, REREAD, {wm->point, wm->xmin}, REREAD);

  // Renames, domains, comments, constraints whose definition changed (dropped
  // now, created after the data).
  for (const Drift &d : plan.drift)
    if (!plan.blocked.count(d.table) && !d.statement.empty() &&
        (d.kind == DriftKind::EnumRenamed || d.kind == DriftKind::Renamed || d.kind == DriftKind::DomainChanged ||
         d.kind == DriftKind::CommentChanged || d.kind == DriftKind::ConstraintChanged))
      run(d);

  // Partitions whose bound changed: detached and cut to their new bound now;
  // attached again once the new partitions that take their rows exist.
  for (const DriftPlan::BoundChange &c : plan.bound_changes) {
    if (plan.blocked.count(c.partition) || plan.blocked.count(c.parent)) continue;
    std::string what = c.partition.display() + ": bound_changed could not be applied on the target";
    run_step(dst, what, sql::drift::detach_partition(c.parent, c.partition), hint);
    if (!c.constraint.empty()) {
      i64 moved = 0;
      try {
        moved = dst.exec(sql::drift::delete_outside(c.partition, c.constraint)).affected_rows();
      } catch (const Error &e) {
        throw Error(e.kind, what + ": " + e.what(), hint);
      }
      if (moved > 0)
        log::info("{}: {} row(s) outside its new bound taken out (the partitions that hold them on the source bring them)",
                  c.partition.display(), moved);
    }
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
    std::string what = n.display() + ": new_table could not be created on the target";
    if (bound != "DEFAULT" && !constraint.empty()) {
      pg::Result def = dst.query(sql::drift::default_partition(), {parent.schema, parent.name});
      if (def.rows() > 0) {
        sql::QualifiedName dflt{std::string(def.get(0, 0)), std::string(def.get(0, 1))};
        i64 moved = 0;
        try {
          moved = dst.exec(sql::drift::delete_where(dflt, constraint)).affected_rows();
        } catch (const Error &e) {
          throw Error(e.kind, what + ": " + e.what(), hint);
        }
        if (moved > 0)
          log::info("{}: {} row(s) of the new partition {} taken out of the DEFAULT partition (the copy brings them from the source)",
                    dflt.display(), moved, n.display());
      }
    }
    log::info("{}: new partition of {}: creating it as the source has it ({})", n.display(), parent.display(), bound);
    run_step(dst, what, sql::drift::create_partition(n, parent, bound, key, r.get(0, 3) == "t"), hint);
    carry_owner_grants_comments(src, dst, n, scope, hint);
    made.insert(n);
    return true;
  };
  for (const sql::QualifiedName &t : plan.new_tables) ensure(t);

  for (const DriftPlan::BoundChange &c : plan.bound_changes) {
    if (plan.blocked.count(c.partition) || plan.blocked.count(c.parent)) continue;
    log::info("{}: bound_changed: attached to {} {}", c.partition.display(), c.parent.display(), c.bound);
    run_step(dst, c.partition.display() + ": bound_changed could not be applied on the target",
             sql::drift::attach_partition(c.parent, c.partition, c.bound), hint);
  }
  txn.commit();
}

std::vector<std::string> apply_after_data(pg::Connection &dst, const DriftPlan &plan) {
  const std::string hint = "the data is synced; fix the cause on the target and sync again (the step is retried)";
  std::vector<std::string> todo;
  auto step = [&](const std::string &what, const std::string &statement, bool not_null) {
    try {
      run_step(dst, what + " could not be applied after the data", statement, hint);
    } catch (const Error &e) {
      if (not_null && e.sqlstate == "23502") {
        todo.push_back(what + ": NOT NULL not set yet: target rows the source no longer has hold NULL in it; "
                       "sync with --deletes detect (the next sync sets it)");
      } else if (e.sqlstate == "23514" || e.sqlstate == "23505" || e.sqlstate == "23503") {
        todo.push_back(what + ": not in place yet: target rows the source no longer has break it (" + e.what() +
                       "); sync with --deletes detect (the next sync applies it)");
      } else {
        throw;
      }
      log::warn("{}", todo.back());
    }
  };
  for (const Drift &d : plan.drift) {
    if (plan.blocked.count(d.table) || d.statement.empty()) continue;
    bool after = d.kind == DriftKind::DefaultChanged || d.kind == DriftKind::NewIndex || d.kind == DriftKind::NewConstraint ||
                 (d.kind == DriftKind::NullChanged && d.sets_not_null);
    if (!after) continue;
    log::info("{}: {}", describe(d), d.detail);
    step(describe(d), d.statement, d.kind == DriftKind::NullChanged);
  }
  // The added columns' defaults and NOT NULL, now that every row has the source's value.
  for (const DriftPlan::AfterDataStep &a : plan.after_data) step(a.what, a.statement, a.sets_not_null);
  return todo;
}

}  // namespace pgcutover::sync
