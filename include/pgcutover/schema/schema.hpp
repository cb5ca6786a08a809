#pragma once
// Table definitions on the target come from pg_dump, never from a DDL
// generator of ours: one custom-format schema archive taken in the copy's
// snapshot, restored in two sections the way pg_restore orders its work:
// pre-data (tables, types, sequences) before the data, post-data (indexes,
// constraints, triggers) after it, several items at a time (pg_restore -j),
// so each index is built once, over the full table.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::schema {

struct SchemaOptions {
  std::string pg_bin;                   // folder of pg_dump / pg_restore ("" = search)
  std::vector<std::string> exclude_schemas;
  bool no_owner = false;                // pg_restore --no-owner: the target role owns what it creates
  bool no_privileges = false;           // pg_restore --no-privileges: no GRANT of the source is restored
  std::string maintenance_work_mem = "512MB";  // for the post-data index builds
  i64 lock_timeout_ms = 0;              // --lock-timeout in pg_restore's sessions (0: none)
  // pg_restore's sessions commit without waiting for the WAL flush (one
  // CREATE and one commit per object: thousands of flushes for thousands of
  // tables). Only for a caller that commits synchronously on the target
  // after the restore and before it records anything built (the copy job's
  // ledger writes): that flush makes the restore's commits durable too.
  bool async_commit = false;
};

// Dumps the schema of `tables` (or the whole database when nullopt, but for
// `exclude_tables`) at the snapshot into dir/schema.dump and returns its path.
std::filesystem::path dump_schema(const std::string &source_conninfo, const pg::SnapshotInfo &snapshot,
                                  const std::optional<std::vector<sql::QualifiedName>> &tables,
                                  const std::filesystem::path &dir, const SchemaOptions &opt,
                                  const std::vector<sql::QualifiedName> &exclude_tables = {});

// Tables of the source the connection's role may not read (pg_dump locks
// every table it dumps, so a whole-database archive leaves these out; the
// plan refuses any of them that is copied). Outside the excluded schemas.
std::vector<sql::QualifiedName> unreadable_tables(pg::Connection &source, const std::vector<std::string> &exclude_schemas);

// Restores one section ("pre-data" or "post-data") of the archive into the target.
void restore_section(const std::string &target_conninfo, const std::filesystem::path &archive,
                     const std::string &section, int jobs, const SchemaOptions &opt);

}  // namespace pgcutover::schema
