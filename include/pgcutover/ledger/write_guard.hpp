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
#include "pgcutover/ledger/run_lock.hpp"
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
  // A foreign key that was valid is re-created NOT VALID and validated; its
  // record stays (state recreated) until the VALIDATE succeeded, so a kill
  // or a failed validation is finished by the next run or finish. On a
  // partitioned table before PostgreSQL 18 (no NOT VALID there) it is
  // re-created validated at once, timed. With a shared run lock, only the
  // last process of the job out restores (the others' rows must not meet
  // the triggers and keys meanwhile).
  void restore(pg::Connection &dst);
  // The processes of one job share what is set aside: with the job's
  // shared run lock, prepare() leaves what is recorded alone while another
  // process holds the lock, and restore() restores only when this one is last.
  void share_with(RunLock *lock) { lock_ = lock; }

 private:
  pg::Endpoints ends_;
  std::string schema_;
  bool armed_ = false;  // this run set something aside that is not restored yet
  RunLock *lock_ = nullptr;
  void restore_recorded(pg::Connection &dst);
};

}  // namespace pgcutover::ledger
