#include "pgcutover/schema/post_data.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "child_process.hpp"
#include "pgcutover/schema/tools.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/schema_support.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::schema {

namespace fs = std::filesystem;

namespace {

// "<id>; <catalog oid> <oid> <DESC> <schema> <tag> <owner>"
bool parse_toc_line(const std::string &line, int &id, std::string &catalog, std::string &oid) {
  if (line.empty() || line[0] == ';') return false;
  size_t semi = line.find(';');
  if (semi == std::string::npos) return false;
  auto [p, ec] = std::from_chars(line.data(), line.data() + semi, id);
  if (ec != std::errc() || p != line.data() + semi) return false;
  std::istringstream rest(line.substr(semi + 1));
  return static_cast<bool>(rest >> catalog >> oid);
}

std::string ints(const std::vector<int> &v) {
  std::vector<std::string> s;
  for (int i : v) s.push_back(std::to_string(i));
  return sql::array_literal(s);
}

}  // namespace

std::vector<const PostDataItem *> PostData::of_table(const sql::QualifiedName &table) const {
  std::vector<const PostDataItem *> out;
  for (const PostDataItem &i : items)
    if (i.own() && *i.table == table) out.push_back(&i);
  return out;
}

std::vector<const PostDataItem *> PostData::foreign_keys() const {
  std::vector<const PostDataItem *> out;
  for (const PostDataItem &i : items)
    if (i.table && i.references) out.push_back(&i);
  return out;
}

std::vector<const PostDataItem *> PostData::all() const {
  std::vector<const PostDataItem *> out;
  for (const PostDataItem &i : items) out.push_back(&i);
  return out;
}

PostData list_post_data(const fs::path &archive, pg::Connection &source, const SchemaOptions &opt) {
  PostData post;
  post.archive = archive;
  fs::path toc = archive.parent_path() / "post-data.list";
  detail::run_checked({util::find_pg_program("pg_restore", opt.pg_bin), "--list", "--section=post-data",
                       "--file=" + toc.string(), archive.string()},
                      {}, "pg_restore --list of the schema archive's post-data", "check pg_restore (--pg-bin)");
  std::ifstream in(toc);
  std::string line;
  std::vector<int> ids;
  std::vector<std::string> catalogs, oids;
  while (std::getline(in, line)) {
    PostDataItem item;
    std::string cat, oid;
    if (!parse_toc_line(line, item.id, cat, oid)) continue;
    item.toc_line = line;
    ids.push_back(item.id);
    catalogs.push_back(cat);
    oids.push_back(oid);
    post.items.push_back(std::move(item));
  }
  if (post.items.empty()) return post;
  pg::Result r = source.query(sql::schema_support::post_data_tables(),
                              {ints(ids), sql::array_literal(catalogs), sql::array_literal(oids)});
  for (int row = 0; row < r.rows(); ++row) {
    i64 id = r.get_i64(row, 0);
    for (PostDataItem &item : post.items)
      if (item.id == id) {
        item.kind = r.get(row, 1);
        item.table = sql::QualifiedName{std::string(r.get(row, 2)), std::string(r.get(row, 3))};
        item.name = r.get(row, 4);
        if (!r.is_null(row, 5))
          item.references = sql::QualifiedName{std::string(r.get(row, 5)), std::string(r.get(row, 6))};
      }
  }
  return post;
}

std::vector<const PostDataItem *> missing_on_target(pg::Connection &target, const std::vector<const PostDataItem *> &items) {
  std::vector<int> ids;
  std::vector<std::string> kinds, schemas, tables, names;
  for (const PostDataItem *i : items) {
    if (!i->table) continue;
    ids.push_back(i->id);
    kinds.push_back(i->kind);
    schemas.push_back(i->table->schema);
    tables.push_back(i->table->name);
    names.push_back(i->name);
  }
  std::set<i64> present;
  if (!ids.empty()) {
    pg::Result r = target.query(sql::schema_support::post_data_existing(),
                                {ints(ids), sql::array_literal(kinds), sql::array_literal(schemas),
                                 sql::array_literal(tables), sql::array_literal(names)});
    for (int row = 0; row < r.rows(); ++row) present.insert(r.get_i64(row, 0));
  }
  std::vector<const PostDataItem *> out;
  for (const PostDataItem *i : items)
    if (!i->table || !present.contains(i->id)) out.push_back(i);
  return out;
}

void restore_items(const std::string &target_conninfo, const PostData &post, const std::vector<const PostDataItem *> &items,
                   int jobs, const SchemaOptions &opt, const std::string &what, util::ChildSlot *slot,
                   const std::string &settings) {
  if (items.empty()) return;
  static std::atomic<int> serial{0};
  fs::path use = post.archive.parent_path() / ("use-" + std::to_string(getpid()) + "-" + std::to_string(++serial) + ".list");
  {
    std::ofstream out(use);
    for (const PostDataItem *i : items) out << i->toc_line << "\n";
    if (!out.flush()) throw Error(ErrorKind::Permanent, "cannot write " + use.string(), "check the temporary folder");
  }
  detail::ChildConn dst = detail::child_conn(target_conninfo);
  std::vector<std::string> argv = {util::find_pg_program("pg_restore", opt.pg_bin), "--use-list=" + use.string(),
                                   "--exit-on-error", "--dbname=" + dst.conninfo};
  if (jobs > 1 && items.size() > 1) argv.push_back("--jobs=" + std::to_string(jobs));
  if (opt.no_owner) {
    argv.push_back("--no-owner");
    argv.push_back("--no-privileges");
  }
  argv.push_back(post.archive.string());
  auto env = dst.env;
  env.emplace_back("PGOPTIONS", "-c maintenance_work_mem=" + opt.maintenance_work_mem + (settings.empty() ? "" : " ") + settings);
  try {
    detail::run_checked(argv, env, "pg_restore of " + what + " into the target " + dst.display,
                        "the data is copied; fix the cause and rerun the copy (it builds only what is missing)", slot);
  } catch (...) {
    fs::remove(use);
    throw;
  }
  fs::remove(use);
}

}  // namespace pgcutover::schema
