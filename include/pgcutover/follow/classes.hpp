#pragma once
// Follow mode (issue 25), decided before anything starts: which tables the
// slot's stream can carry, and what the source must allow.
//
// A table is followed when logical decoding sends, for every update and
// delete, the old row's key the target matches rows by (its replica
// identity covers the key). Publishing updates and deletes of a table
// without a replica identity would make them fail on the source (PostgreSQL
// refuses such writes to a published table), so such a table is never
// published as it is: it is followed only after ALTER TABLE ... REPLICA
// IDENTITY, which the user must allow, else it stays with the watermark sync
// (a change column) or is read whole by the final sync.
#include <string>
#include <vector>

#include "pgcutover/catalog/table.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sync/change_column.hpp"

namespace pgcutover::follow {

enum class FollowClass {
  Follow,          // the stream carries it as it is
  FollowAltered,   // ... after the ALTER TABLE in `alter` (allowed by the user)
  Watermark,       // today's sync, by its change column
  CopyInOutage,    // read whole by the final sync
};
const char *to_string(FollowClass c);

struct TableFollow {
  FollowClass cls = FollowClass::Follow;
  std::string reason;
  // The statement that would make the table followable ("" when none would,
  // or none is needed): REPLICA IDENTITY USING INDEX of its key's index, or
  // FULL for a table without a key.
  std::string alter;
  // Follow / FollowAltered: the table's old rows arrive whole (REPLICA
  // IDENTITY FULL) and, without a key, rows are matched by every column.
  bool full_rows = false;
};

// allow_alter: the user allows the replica identity ALTERs.
TableFollow classify(const catalog::TableDef &table, const sync::ChangeMethod &method, bool allow_alter);

// What the source allows, and what is missing, each named with what to do.
struct Preflight {
  int server_version = 0;
  std::string wal_level;
  i64 free_slots = 0;
  i64 free_wal_senders = 0;
  bool may_replicate = false;          // REPLICATION or superuser
  bool may_create_publication = false; // CREATE on the database
  std::string role;
  std::vector<std::string> missing;    // empty: follow mode can start
  std::vector<std::string> warnings;   // what follow mode cannot see on this source
  bool ok() const { return missing.empty(); }
};

// Reads the source's settings and the role's rights; `followed` are the
// tables the publication would hold (the role must own each, or the ALTERs
// and the publication fail).
Preflight preflight(pg::Connection &src, const std::vector<const catalog::TableDef *> &followed, bool alters);

}  // namespace pgcutover::follow
