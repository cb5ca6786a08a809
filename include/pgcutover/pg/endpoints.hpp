#pragma once
// Both ends of a command: source and target conninfo with their session
// settings. Whoever holds Endpoints can open fresh connections (pools,
// retries, diagnostics); the conninfo is never printed.
#include <string>

#include "pgcutover/pg/session.hpp"

namespace pgcutover::pg {

class Connection;

struct Endpoints {
  std::string source_conninfo;
  std::string target_conninfo;
  SessionSettings source_settings;
  SessionSettings target_settings;
};

// Refuses (Usage error, before anything is written anywhere) a source and a
// target that are one database, whatever host names, addresses or ports reach
// it: same cluster (system identifier) and same database (oid and name). When
// a role may not read the system identifier, a snapshot exported on the
// source and imported on the target decides (that works only within one
// database of one cluster). Both sessions only read, and must not be inside
// a transaction.
void refuse_same_database(Connection &source, Connection &target);
// The same, through a short-lived source connection of its own.
void refuse_same_database(const Endpoints &ends, Connection &target);
// The same, through short-lived connections to both.
void refuse_same_database(const Endpoints &ends);

}  // namespace pgcutover::pg
