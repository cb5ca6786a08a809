#pragma once
// The objects behind a schema archive's entries, as the source's catalogs
// and the target's see them:
//
//   * identity: pg_identify_object()'s type and identity of each entry's
//     object ("table" / "app.c", "trigger" / "t on app.c"), read on the
//     source in the archive's snapshot. The same object on the target has the
//     same identity, so "the target has it" is one generic question for every
//     kind pg_dump knows (tables, types, functions, constraints incl. NOT
//     VALID checks, triggers, rules, policies, publications, ...), asked per
//     catalog with one statement;
//   * the relation an entry belongs to (a table's indexes, constraints,
//     triggers, rules, policies, defaults, statistics, owned sequences, and
//     the COMMENT / ACL / ATTACH statements about them), so the entries of a
//     set of tables can be picked from a whole-database archive;
//   * the roles each object needs on the target: its owner, the roles its
//     privileges name, the roles its policies apply to.
//
// Statement entries without an object of their own (COMMENT, ACL, SECURITY
// LABEL, SEQUENCE OWNED BY, INDEX ATTACH, ROW SECURITY) are idempotent: they
// are restored again whenever they are wanted. TABLE ATTACH is present when
// the partition is attached to that parent on the target.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/schema/archive.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::schema {

struct EntryFacts {
  std::string type;      // pg_identify_object's type; "" for statement entries or an object gone
  std::string identity;  // pg_identify_object's identity
  std::string name;      // the object's name column in its catalog, for the lookup on the target
  u32 relation = 0;      // the relation the entry belongs to (itself for a relation), 0 for none
  std::string relation_name;  // its qualified display name, for messages
  char relkind = 0;           // the entry's own relkind when it is a relation
  std::string owner;          // the object's owner, "" for none
  std::set<std::string> grantees;     // roles its privileges name (pg_shdepend 'a'), owner excluded
  std::set<std::string> policy_roles; // roles its policies apply to (pg_shdepend 'r')
  std::vector<int> attach;            // TABLE ATTACH: the two relations' entries
};

class ArchiveObjects {
 public:
  // Reads the facts of every entry from the source, which must read in the
  // snapshot the archive was dumped in (a handful of statements, whatever
  // the number of entries).
  static ArchiveObjects read(const Archive &archive, pg::Connection &source);

  const Archive &archive() const { return *archive_; }
  const EntryFacts &facts(int id) const;

  // The entries of these relations (by source OID): their own definitions and
  // everything that belongs to them, plus every entry those need
  // (Archive::closure), in archive order.
  std::vector<int> for_relations(const std::set<u32> &relations) const;
  // The same for relations named (schema.name) as the source has them.
  std::vector<int> for_tables(const std::vector<sql::QualifiedName> &tables) const;
  // Every entry of the archive that is a schema object (no data, no
  // database-level settings), in archive order.
  std::vector<int> all() const;

  // Of `ids`, those the target lacks (and the idempotent statements), in the
  // order given. One statement per catalog involved.
  std::vector<int> missing_on_target(pg::Connection &target, const std::vector<int> &ids) const;

  // Entries of `ids` in one section.
  std::vector<int> in_section(const std::vector<int> &ids, Section s) const;

 private:
  const Archive *archive_ = nullptr;
  std::map<int, EntryFacts> facts_;
};

// Whether an entry is a statement about another entry that may run again.
bool idempotent(const ArchiveEntry &e);

// Roles the objects of `ids` need on the target and it lacks.
struct MissingRoles {
  std::map<std::string, std::vector<std::string>> owners;     // role -> objects it owns (a few named)
  std::map<std::string, std::vector<std::string>> grantees;   // role -> objects that grant it privileges
  std::map<std::string, std::vector<std::string>> policies;   // role -> policies that apply to it
  bool empty() const { return owners.empty() && grantees.empty() && policies.empty(); }
};
MissingRoles missing_roles(const ArchiveObjects &objects, const std::vector<int> &ids, pg::Connection &target);

// Refuses (Usage) when the restore of `ids` would need roles the target lacks
// and the options do not leave them out (--no-owner for owners,
// --no-privileges for GRANTs): names every role, what needs it, and the ways
// on. Policies' roles must exist whatever the options.
void check_roles(const MissingRoles &missing, const SchemaOptions &opt);

// Restores the entries (pg_restore --use-list, in archive order), `jobs` at a
// time, or in one transaction when `single_transaction`.
void restore_entries(const std::string &target_conninfo, const Archive &archive, const std::vector<int> &ids, int jobs,
                     bool single_transaction, const SchemaOptions &opt, const std::string &what);

// The same in one transaction per batch of at most `batch` entries, batches
// in archive order (each entry's dependencies come before it): a restore
// that creates thousands of relations in one transaction would hold a lock
// on each until it commits, more than the target's lock table has room for
// on default settings. Returns the number of batches; a failure names the
// batch, the earlier ones committed.
int restore_entries_in_batches(const std::string &target_conninfo, const Archive &archive, const std::vector<int> &ids,
                               size_t batch, const SchemaOptions &opt, const std::string &what);

// Writes the entries' lines (archive order) as a pg_restore --use-list file.
void write_use_list(const Archive &archive, const std::vector<int> &ids, const std::filesystem::path &file);

// Restores what a --use-list file lists from the archive.
void restore_use_list(const std::string &target_conninfo, const std::filesystem::path &archive,
                      const std::filesystem::path &list, int jobs, bool single_transaction, const SchemaOptions &opt,
                      const std::string &what);

}  // namespace pgcutover::schema
