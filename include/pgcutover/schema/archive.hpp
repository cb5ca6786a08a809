#pragma once
// A schema archive's table of contents, as pg_restore lists it: one entry per
// object pg_dump wrote, with the catalog and OID of the object on the source
// (0 0 for entries that are statements about another entry: COMMENT, ACL,
// TABLE ATTACH ...), its section, and the entries it depends on. pg_dump
// builds those dependencies from the source's pg_depend (an object owned by
// an extension stands for its extension), so the archive is the one place
// that says what an object needs before it can be created.
//
// Every decision about which items to restore works on these entries; the
// statements themselves are always pg_restore's (--use-list), never ours.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "pgcutover/schema/schema.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::schema {

enum class Section { None, PreData, Data, PostData };

struct ArchiveEntry {
  int id = 0;            // the archive's dump id
  u32 catalog = 0;       // pg_class OID of the object's catalog on the source, 0 for statement entries
  u32 oid = 0;           // the object's OID on the source, 0 likewise
  std::string desc;      // "TABLE", "FK CONSTRAINT", "INDEX ATTACH", ... (pg_dump's word for the kind)
  std::string rest;      // what follows desc on the line: namespace ("-" for none), tag, owner
  std::string line;      // the line as pg_restore --list prints it (what --use-list takes)
  std::vector<int> deps; // ids of the entries it depends on
  Section section = Section::None;

  // "TABLE app.c": desc and the rest of the line without the owner, for messages.
  std::string describe() const;
};

struct Archive {
  std::filesystem::path path;
  std::vector<ArchiveEntry> entries;  // in the archive's (restore) order

  const ArchiveEntry *find(int id) const;
  const ArchiveEntry *find_object(u32 catalog, u32 oid) const;
  // Every entry that `ids` need, transitively, `ids` included, in archive order.
  std::vector<int> closure(const std::vector<int> &ids) const;

 private:
  friend Archive list_archive(const std::filesystem::path &, const SchemaOptions &);
  std::map<int, size_t> by_id_;
  std::map<std::pair<u32, u32>, size_t> by_object_;
};

// Lists the archive (pg_restore --list --verbose for the dependencies, and
// once per section to know which entry belongs to which).
Archive list_archive(const std::filesystem::path &archive, const SchemaOptions &opt);

// Parses one line of pg_restore --list ("<id>; <catalog> <oid> <DESC> <rest>");
// false for comments and anything else. Exposed for the unit tests.
bool parse_archive_line(const std::string &line, ArchiveEntry &out);

}  // namespace pgcutover::schema
