// Shape checks (see shape_checks.hpp). Both catalogs are asked for the plan's
// tables and their source partition parents in two statements per side, so
// the cost does not grow with the number of tables beyond the rows read.
#include "pgcutover/plan/shape_checks.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/shape.hpp"

namespace pgcutover::plan {

namespace {

struct Shape {
  char relkind = 'r';
  bool is_partition = false;
  std::optional<sql::QualifiedName> parent;  // the partition parent
  std::map<std::string, bool> columns;  // name -> generated
};

using Shapes = std::map<std::string, Shape>;  // key() -> shape

// Raw names may hold dots: a separator no catalog name can hold.
std::string key(std::string_view schema, std::string_view name) {
  return std::string(schema) + '\0' + std::string(name);
}
std::string key(const sql::QualifiedName &n) { return key(n.schema, n.name); }
std::string display(const std::optional<sql::QualifiedName> &n) { return n ? n->display() : "(none)"; }

Shapes shapes_of(pg::Connection &c, const std::vector<sql::QualifiedName> &tables) {
  std::vector<std::string> schemas, names;
  for (const sql::QualifiedName &t : tables) {
    schemas.push_back(t.schema);
    names.push_back(t.name);
  }
  std::vector<pg::Param> params = {sql::array_literal(schemas), sql::array_literal(names)};
  Shapes out;
  pg::Result r = c.query(sql::shape::table_shapes(), params);
  for (int i = 0; i < r.rows(); ++i) {
    Shape &s = out[key(r.get(i, 0), r.get(i, 1))];
    s.relkind = r.get(i, 2).empty() ? 'r' : r.get(i, 2)[0];
    s.is_partition = r.get_bool(i, 3);
    if (!r.is_null(i, 4)) s.parent = sql::QualifiedName{std::string(r.get(i, 4)), std::string(r.get(i, 5))};
  }
  pg::Result cols = c.query(sql::shape::column_kinds(c.server_version()), params);
  for (int i = 0; i < cols.rows(); ++i) {
    auto it = out.find(key(cols.get(i, 0), cols.get(i, 1)));
    if (it != out.end()) it->second.columns[std::string(cols.get(i, 2))] = cols.get_bool(i, 3);
  }
  return out;
}

std::string shape_problems(const std::string &name, const Shapes &src, const Shapes &dst) {
  std::string problems;
  auto add = [&](const std::string &p) { problems += (problems.empty() ? "" : "; ") + p; };
  const Shape &s = src.at(name);
  auto d = dst.find(name);
  if (s.is_partition && s.parent) {
    std::string parent = s.parent->display();
    auto dp = dst.find(key(*s.parent));
    if (d != dst.end() && !d->second.is_partition)
      add("a partition of " + parent + " on the source but not a partition on the target: its rows would land in a "
          "table outside " + parent);
    else if (d != dst.end() && !(d->second.parent && *d->second.parent == *s.parent))
      add("a partition of " + parent + " on the source but of " + display(d->second.parent) + " on the target");
    else if (d == dst.end() && dp != dst.end() && dp->second.relkind != 'p')
      add("its parent " + parent + " is partitioned on the source but a plain table on the target: the partition "
          "would be created outside it");
  } else if (d != dst.end() && d->second.is_partition) {
    add("a plain table on the source but a partition of " + display(d->second.parent) + " on the target");
  }
  if (d != dst.end() && s.relkind == 'r' && d->second.relkind == 'p')
    add("a plain table on the source but partitioned on the target");
  if (d != dst.end() && d->second.relkind != 'r' && d->second.relkind != 'p')
    add("not a table on the target");
  if (d == dst.end()) return problems;
  for (const auto &[col, generated] : s.columns) {
    auto t = d->second.columns.find(col);
    if (generated && t == d->second.columns.end())
      add("generated column \"" + col + "\" is missing on the target");
    else if (generated && !t->second)
      add("column \"" + col + "\" is generated on the source but a plain column on the target (it would stay empty)");
  }
  for (const auto &[col, generated] : d->second.columns) {
    if (!generated) continue;
    auto t = s.columns.find(col);
    if (t == s.columns.end()) add("generated column \"" + col + "\" exists only on the target");
    else if (!t->second) add("column \"" + col + "\" is generated on the target but a plain column on the source");
  }
  return problems;
}

}  // namespace

void check_shapes(pg::Connection &src, pg::Connection &dst, Plan &plan) {
  if (plan.tables.empty()) return;
  std::vector<sql::QualifiedName> names;
  for (const TablePlan &tp : plan.tables) names.push_back(tp.table.name);
  Shapes src_shapes = shapes_of(src, names);
  // The target is asked for the tables and for their source partition parents.
  std::vector<sql::QualifiedName> dst_names = names;
  std::set<std::string> seen;
  for (const auto &[k, s] : src_shapes)
    if (s.parent && seen.insert(key(*s.parent)).second) dst_names.push_back(*s.parent);
  Shapes dst_shapes = shapes_of(dst, dst_names);

  std::erase_if(plan.tables, [&](const TablePlan &tp) {
    std::string k = key(tp.table.name.schema, tp.table.name.name);
    if (!src_shapes.count(k)) return false;
    std::string problems = shape_problems(k, src_shapes, dst_shapes);
    if (problems.empty()) return false;
    plan.refused.push_back({tp.table.name.display(), problems});
    return true;
  });
}

}  // namespace pgcutover::plan
