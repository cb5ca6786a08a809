#include "pgcutover/schema/post_data.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "child_process.hpp"
#include "pgcutover/schema/objects.hpp"
#include "pgcutover/schema/tools.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/schema_support.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::schema {

namespace fs = std::filesystem;

namespace {

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

PostData list_post_data(const ArchiveObjects &objects, const std::vector<int> &ids, pg::Connection &source) {
  PostData post;
  post.archive = objects.archive().path;
  post.objects = &objects;
  std::vector<int> item_ids;
  std::vector<std::string> catalogs, oids;
  for (int id : ids) {
    const ArchiveEntry *e = objects.archive().find(id);
    if (!e) continue;
    PostDataItem item;
    item.id = e->id;
    item.toc_line = e->line;
    item_ids.push_back(e->id);
    catalogs.push_back(std::to_string(e->catalog));
    oids.push_back(std::to_string(e->oid));
    post.items.push_back(std::move(item));
  }
  if (post.items.empty()) return post;
  pg::Result r = source.query(sql::schema_support::post_data_tables(),
                              {ints(item_ids), sql::array_literal(catalogs), sql::array_literal(oids)});
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

std::vector<const PostDataItem *> PostData::missing_on_target(pg::Connection &target,
                                                              const std::vector<const PostDataItem *> &items) const {
  std::vector<int> ids;
  for (const PostDataItem *i : items) ids.push_back(i->id);
  std::vector<int> missing = objects->missing_on_target(target, ids);
  std::set<int> todo(missing.begin(), missing.end());
  std::vector<const PostDataItem *> out;
  for (const PostDataItem *i : items)
    if (todo.count(i->id)) out.push_back(i);
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
  if (opt.no_owner) argv.push_back("--no-owner");
  if (opt.no_privileges) argv.push_back("--no-privileges");
  argv.push_back(post.archive.string());
  auto env = dst.env;
  env.emplace_back("PGOPTIONS", detail::restore_options(opt, settings));
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
