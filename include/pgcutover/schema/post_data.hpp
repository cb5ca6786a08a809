#pragma once
// The post-data section of a schema archive as a list of items, so that a
// table's own indexes and key constraints can be built as soon as its data is
// in (overlapped with other tables' data), and the rest after all the data.
//
// An item "builds on one table" when it is an index of a plain table (a leaf
// partition included), or its primary key, unique or exclusion constraint:
// it needs that table's rows and nothing else. A foreign key between two
// plain tables needs both tables' rows and the referenced key. Partitioned
// parents' indexes and their ATTACH items, foreign keys to or from them,
// triggers, rules, policies, comments and everything else wait for the end. Items are restored by
// pg_restore --use-list, never by SQL of ours; whether an item that builds
// on a table is already on the target is read from the target's catalog, so
// a rerun after a crash restores only what is missing.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/sql/ident.hpp"
#include "pgcutover/util/subprocess.hpp"

namespace pgcutover::schema {

struct PostDataItem {
  std::string toc_line;  // as pg_restore --list prints it
  int id = 0;            // the archive's TOC id
  // Set for items that build on one table alone (see above), and for foreign
  // keys between two plain tables (with `references`).
  std::optional<sql::QualifiedName> table;
  std::optional<sql::QualifiedName> references;
  std::string kind;  // "index" | "constraint" | "foreign key" with a table, else ""
  std::string name;  // the index or constraint, with a table
  bool own() const { return table && kind != "foreign key"; }
};

class ArchiveObjects;

struct PostData {
  std::filesystem::path archive;
  const ArchiveObjects *objects = nullptr;  // the archive's entries and what the source says of them
  std::vector<PostDataItem> items;  // in the archive's order
  // The items that build on `table` alone (own()), in the archive's order.
  std::vector<const PostDataItem *> of_table(const sql::QualifiedName &table) const;
  // The foreign keys between two plain tables.
  std::vector<const PostDataItem *> foreign_keys() const;
  std::vector<const PostDataItem *> all() const;
  // Those of `items` still to restore: whatever the target lacks, by the
  // object's identity (every kind: indexes, constraints incl. NOT VALID
  // checks, triggers, rules, policies, partitioned indexes, publications,
  // statistics ...), plus the idempotent statements (comments, privileges,
  // index attach). See objects.hpp.
  std::vector<const PostDataItem *> missing_on_target(pg::Connection &target,
                                                      const std::vector<const PostDataItem *> &items) const;
};

// The post-data items among `ids` (entries of objects' archive), each tied to
// its table through the source's catalog; `source` must read in the snapshot
// the archive was dumped in.
PostData list_post_data(const ArchiveObjects &objects, const std::vector<int> &ids, pg::Connection &source);

// Restores the items (pg_restore --use-list, `jobs` at a time, with the
// post-data maintenance_work_mem, plus `settings`, "-c name=value ..." for
// the sessions). `what` names them in an error. With a slot, another thread
// can stop the pg_restore.
void restore_items(const std::string &target_conninfo, const PostData &post, const std::vector<const PostDataItem *> &items,
                   int jobs, const SchemaOptions &opt, const std::string &what, util::ChildSlot *slot = nullptr,
                   const std::string &settings = "");

}  // namespace pgcutover::schema
