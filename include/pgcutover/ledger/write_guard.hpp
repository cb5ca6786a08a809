#pragma once
// Target writers apply rows as the source has them: no user trigger fires, no
// foreign key check or cascade acts, on copy, sync and repair.
//   replica:  session_replication_role = replica on every writer, when the
//             role may set it (superuser, or GRANT SET ON PARAMETER on 15+)
//   set aside: otherwise, when the role owns every table involved (a database
//             owner on a managed service): each firing user trigger is
//             disabled and each foreign key on or referencing the written
//             tables dropped, every one recorded in the ledger in the same
//             transaction; restore() re-enables the triggers as they were and
//             re-creates the foreign keys NOT VALID, then VALIDATE.
//   refusal:  otherwise, one message naming the tables and the privilege.
// Whatever a run set aside is restored at its end (success or failure), and
// what a killed run left is restored first by the next one.
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/pg/target_checks.hpp"

namespace pgcutover::ledger {

class TargetWriteGuard {
 public:
  TargetWriteGuard(pg::Endpoints ends, std::string tool_schema);
  ~TargetWriteGuard();  // restores what prepare() set aside if restore() did not run; logs a failure
  TargetWriteGuard(const TargetWriteGuard &) = delete;
  TargetWriteGuard &operator=(const TargetWriteGuard &) = delete;

  // Restores what an earlier run left set aside, then decides (see above).
  // In replica mode dst itself is switched; the caller sets replica_writes on
  // the target settings of every other writer.
  pg::TargetWrites prepare(pg::Connection &dst, const std::vector<sql::QualifiedName> &tables);
  // After schema changes made since prepare() (a sync's drift): the NOT VALID
  // checks of the tables and their domains not set aside yet are, now.
  void set_aside_new_checks(pg::Connection &dst, const std::vector<sql::QualifiedName> &tables, pg::TargetWrites &w);
  // Re-enables and re-creates everything recorded; throws naming the object.
  void restore(pg::Connection &dst);

 private:
  pg::Endpoints ends_;
  std::string schema_;
  bool armed_ = false;  // this run set something aside that is not restored yet
};

}  // namespace pgcutover::ledger
