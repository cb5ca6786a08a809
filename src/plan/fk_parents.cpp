// Foreign keys whose parent a selection leaves out (see fk_parents.hpp).
#include "pgcutover/plan/fk_parents.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/shape.hpp"

namespace pgcutover::plan {

namespace {

// Whether `parent` is covered by the selected tables: selected itself, or a
// partitioned table all of whose leaves are.
bool covered(const catalog::Catalog &cat, const sql::QualifiedName &parent, const std::set<u32> &selected) {
  const catalog::TableDef *p = cat.find(parent);
  if (!p) return false;
  if (selected.count(p->oid)) return true;
  if (p->relkind != 'p') return false;
  bool any = false;
  for (const catalog::TableDef &leaf : cat.tables) {
    if (leaf.relkind != 'r') continue;
    for (const catalog::TableDef *up = &leaf; up && up->parent_oid; up = cat.find_oid(up->parent_oid))
      if (up->parent_oid == p->oid) {
        if (!selected.count(leaf.oid)) return false;
        any = true;
        break;
      }
  }
  return any;
}

void read_keys(pg::Connection &c, const std::vector<sql::QualifiedName> &tables, bool on_target, std::vector<FkGap> &out) {
  if (tables.empty()) return;
  std::vector<std::string> schemas, names;
  for (const sql::QualifiedName &t : tables) {
    schemas.push_back(t.schema);
    names.push_back(t.name);
  }
  pg::Result r = c.query(sql::shape::foreign_keys(), {sql::array_literal(schemas), sql::array_literal(names)});
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({{std::string(r.get(i, 0)), std::string(r.get(i, 1))},
                   std::string(r.get(i, 2)),
                   {std::string(r.get(i, 3)), std::string(r.get(i, 4))},
                   on_target});
}

}  // namespace

std::vector<FkGap> fk_gaps(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &src_cat,
                           const std::vector<catalog::TableDef> &selected) {
  std::set<u32> oids;
  std::vector<sql::QualifiedName> names;
  for (const catalog::TableDef &t : selected) {
    oids.insert(t.oid);
    names.push_back(t.name);
  }
  std::vector<FkGap> keys;
  read_keys(src, names, false, keys);
  read_keys(dst, names, true, keys);
  std::vector<FkGap> gaps;
  for (FkGap &k : keys)
    if (!covered(src_cat, k.parent, oids)) gaps.push_back(std::move(k));
  return gaps;
}

std::vector<Refusal> resolve_fk_parents(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &src_cat,
                                        const catalog::Catalog &dst_cat, std::vector<catalog::TableDef> &selected,
                                        const BuildOptions &opt) {
  std::vector<FkGap> gaps = fk_gaps(src, dst, src_cat, selected);
  // --with-fk-parents: the parents join the selection, and theirs, until none is left out.
  for (int round = 0; opt.with_fk_parents && !gaps.empty() && round < 100; ++round) {
    std::vector<sql::QualifiedName> more;
    for (const catalog::TableDef &t : selected) more.push_back(t.name);
    size_t before = more.size();
    for (const FkGap &g : gaps)
      if (src_cat.find(g.parent) && std::find(more.begin(), more.end(), g.parent) == more.end()) more.push_back(g.parent);
    if (more.size() == before) break;  // the rest is not on the source: refused below
    selected = catalog::select_tables(src_cat, more);
    gaps = fk_gaps(src, dst, src_cat, selected);
  }
  std::map<std::string, std::string> why;  // child -> reason
  for (const FkGap &g : gaps) {
    if (opt.fk_parents_on_target && dst_cat.find(g.parent)) continue;
    std::string &w = why[g.child.display()];
    w += std::string(w.empty() ? "" : "; ") + "foreign key \"" + g.constraint + "\"" + (g.on_target ? " (on the target)" : "") +
         " references " + g.parent.display() +
         (src_cat.find(g.parent) ? ", which this copy leaves out: its rows could break the key on the target; add --table " +
                                       g.parent.display() + " or pass --with-fk-parents"
                                 : ", which the source lacks: drop the key on the target or leave the table out");
  }
  std::vector<Refusal> out;
  for (const auto &[child, reason] : why) out.push_back({child, reason});
  std::erase_if(selected, [&](const catalog::TableDef &t) { return why.count(t.name.display()) > 0; });
  return out;
}

}  // namespace pgcutover::plan
