// Catalog introspection (the queries are in sql/catalog.cpp). Names come back
// raw; sizes come from
// pg_relation_size (heap) and the TOAST relation's total size, so a table with
// a small heap and a huge TOAST still counts as large.
#include "pgcutover/catalog/catalog.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/catalog.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::catalog {

namespace {

std::string oid_array(const std::vector<TableDef> &tables) {
  std::vector<std::string> oids;
  for (const TableDef &t : tables) oids.push_back(std::to_string(t.oid));
  return sql::array_literal(oids);
}

}  // namespace

void Catalog::index() {
  by_name.clear();
  by_oid.clear();
  for (size_t i = 0; i < tables.size(); ++i) {
    by_name[tables[i].name] = i;
    by_oid[tables[i].oid] = i;
  }
}

const TableDef *Catalog::find(const sql::QualifiedName &name) const {
  if (by_name.size() == tables.size()) {
    auto it = by_name.find(name);
    if (it == by_name.end()) return nullptr;
    if (tables[it->second].name == name) return &tables[it->second];
  }
  for (const TableDef &t : tables)
    if (t.name == name) return &t;
  return nullptr;
}

const TableDef *Catalog::find_oid(u32 oid) const {
  if (by_oid.size() == tables.size()) {
    auto it = by_oid.find(oid);
    if (it == by_oid.end()) return nullptr;
    if (tables[it->second].oid == oid) return &tables[it->second];
  }
  for (const TableDef &t : tables)
    if (t.oid == oid) return &t;
  return nullptr;
}

Catalog load_catalog(pg::Connection &conn, const std::vector<std::string> &exclude_schemas) {
  Catalog cat;
  cat.server_version = conn.server_version();
  pg::Result r = conn.query(sql::catalog::tables(), {sql::array_literal(exclude_schemas)});
  std::map<u32, size_t> by_oid;
  for (int i = 0; i < r.rows(); ++i) {
    TableDef t;
    t.oid = static_cast<u32>(r.get_i64(i, 0));
    t.name = {std::string(r.get(i, 1)), std::string(r.get(i, 2))};
    t.relkind = r.get(i, 3)[0];
    t.is_partition = r.get_bool(i, 4);
    t.heap_bytes = r.get_i64(i, 5);
    t.toast_bytes = r.get_i64(i, 6);
    t.reltuples = r.get_double(i, 7);
    t.relpages = r.get_i64(i, 8);
    t.has_children = r.get_bool(i, 9);
    t.parent_oid = r.is_null(i, 10) ? 0 : static_cast<u32>(r.get_i64(i, 10));
    t.replica_identity = r.get(i, 11)[0];
    t.unlogged = r.get(i, 12) == "u";
    t.identity_index = std::string(r.get(i, 13));
    t.owned = r.get_bool(i, 14);
    by_oid[t.oid] = cat.tables.size();
    cat.tables.push_back(std::move(t));
  }
  cat.index();
  cat.default_collation_c = conn.exec(sql::catalog::default_collation_is_c()).get_bool(0, 0);
  cat.default_collation_order = conn.exec(sql::catalog::default_collation_order()).get(0, 0);
  if (cat.tables.empty()) return cat;

  std::string oids = oid_array(cat.tables);
  pg::Result cols = conn.query(sql::catalog::columns(cat.server_version), {oids});
  for (int i = 0; i < cols.rows(); ++i) {
    TableDef &t = cat.tables[by_oid.at(static_cast<u32>(cols.get_i64(i, 0)))];
    ColumnDef c;
    c.name = cols.get(i, 1);
    c.type = cols.get(i, 2);
    c.type_oid = static_cast<u32>(cols.get_i64(i, 3));
    c.not_null = cols.get_bool(i, 4);
    c.has_default = cols.get_bool(i, 5);
    c.needs_text = cols.get_bool(i, 6);
    c.default_expr = cols.get(i, 7);
    c.collatable = cols.get_bool(i, 8);
    c.c_order = cols.get_bool(i, 9);
    c.default_collation = cols.get_bool(i, 10);
    c.base_type_oid = static_cast<u32>(cols.get_i64(i, 11));
    c.base_typtype = cols.get(i, 12).empty() ? 'b' : cols.get(i, 12)[0];
    c.elem_type_oid = static_cast<u32>(cols.get_i64(i, 13));
    c.elem_typtype = cols.get(i, 14).empty() ? '\0' : cols.get(i, 14)[0];
    c.no_binary_io = cols.get(i, 15);
    c.collation_order = cols.get(i, 16);
    t.columns.push_back(std::move(c));
  }
  pg::Result leads = conn.query(sql::catalog::index_leads(), {oids});
  for (int i = 0; i < leads.rows(); ++i)
    cat.tables[by_oid.at(static_cast<u32>(leads.get_i64(i, 0)))].index_leads.emplace_back(leads.get(i, 1));
  pg::Result keys = conn.query(sql::catalog::primary_keys(cat.server_version), {oids});
  for (int i = 0; i < keys.rows(); ++i) {
    TableDef &t = cat.tables[by_oid.at(static_cast<u32>(keys.get_i64(i, 0)))];
    t.key.emplace_back(keys.get(i, 1));
    t.key_types.emplace_back(keys.get(i, 2));
    t.key_index = keys.get(i, 3);
    t.key_is_primary = keys.get_bool(i, 4);
    t.key_deferrable = keys.get_bool(i, 5);
  }
  return cat;
}

std::vector<TableDef> select_tables(const Catalog &cat, const std::vector<sql::QualifiedName> &names) {
  std::vector<TableDef> out;
  std::set<u32> seen;
  auto add = [&](const TableDef &t) {
    if (seen.insert(t.oid).second) out.push_back(t);
  };
  if (names.empty()) {
    for (const TableDef &t : cat.tables)
      if (t.relkind == 'r') add(t);
    return out;
  }
  std::vector<std::string> missing;
  for (const sql::QualifiedName &n : names) {
    const TableDef *t = cat.find(n);
    if (!t) {
      missing.push_back(n.display());
      continue;
    }
    if (t->relkind == 'p') {
      // A partitioned parent has no rows of its own: copy its leaf partitions.
      for (const TableDef &leaf : cat.tables) {
        if (leaf.relkind != 'r') continue;
        for (const TableDef *up = &leaf; up && up->parent_oid;) {
          if (up->parent_oid == t->oid) {
            add(leaf);
            break;
          }
          up = cat.find_oid(up->parent_oid);
        }
      }
      continue;
    }
    add(*t);
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string &m : missing) list += (list.empty() ? "" : ", ") + m;
    throw_usage("no such table on the source: " + list, "check the --table names (schema.table; quote mixed-case names)");
  }
  return out;
}

bool SequenceDef::feeds_any(const std::set<sql::QualifiedName> &tables) const {
  return std::any_of(feeds.begin(), feeds.end(), [&](const FedColumn &f) { return tables.count(f.table) > 0; });
}

const FedColumn *SequenceDef::owner() const {
  for (const FedColumn &f : feeds)
    if (f.owns) return &f;
  return nullptr;
}

std::string SequenceDef::fed_list() const {
  std::string out;
  for (const FedColumn &f : feeds) out += (out.empty() ? "" : ", ") + f.table.display() + "." + f.column;
  return out;
}

std::vector<SequenceDef> load_sequences(pg::Connection &conn, const std::vector<std::string> &exclude_schemas) {
  std::vector<SequenceDef> out;
  pg::Result r = conn.query(sql::catalog::sequences(), {sql::array_literal(exclude_schemas)});
  for (int i = 0; i < r.rows(); ++i) {
    sql::QualifiedName name{std::string(r.get(i, 0)), std::string(r.get(i, 1))};
    if (out.empty() || !(out.back().name == name)) {
      SequenceDef s;
      s.name = name;
      s.type = r.get(i, 5);
      s.increment = r.get_i64(i, 6);
      s.min = r.get_i64(i, 7);
      s.max = r.get_i64(i, 8);
      s.cycle = r.get_bool(i, 9);
      out.push_back(std::move(s));
    }
    if (r.is_null(i, 2) || r.is_null(i, 4)) continue;
    FedColumn f{{std::string(r.get(i, 2)), std::string(r.get(i, 3))}, std::string(r.get(i, 4)), r.get_bool(i, 10)};
    std::vector<FedColumn> &feeds = out.back().feeds;
    // A serial column is both owned and defaulted: one entry, owned.
    auto same = std::find_if(feeds.begin(), feeds.end(),
                             [&](const FedColumn &x) { return x.table == f.table && x.column == f.column; });
    if (same == feeds.end())
      feeds.push_back(std::move(f));
    else
      same->owns = same->owns || f.owns;
  }
  return out;
}

std::optional<SequenceState> read_sequence(pg::Connection &conn, const sql::QualifiedName &seq) {
  pg::Result r = conn.exec(sql::catalog::read_sequence(seq));
  if (r.rows() != 1) return std::nullopt;
  return SequenceState{r.get_i64(0, 0), r.get_bool(0, 1)};
}

bool table_is_empty(pg::Connection &conn, const TableDef &table) {
  pg::Result r = conn.exec(sql::catalog::any_row(table.name));
  return r.rows() == 0;
}

}  // namespace pgcutover::catalog
