#pragma once
// Checks on the target before a command writes to it.
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::pg {

// Refuses a target that cannot take writes (a standby, or read-only by
// default): throws a Usage error naming the server and what to do.
void check_target_writable(Connection &dst);

// How the writers of a command apply rows on the target.
struct TargetWrites {
  bool replica = false;                      // session_replication_role = replica on every writer
  std::vector<std::string> always_triggers;  // "table: trigger, ..." that fire even so (ENABLE ALWAYS)
  std::vector<std::string> acting;           // "table (n user trigger(s), m foreign key(s))"
  std::vector<std::string> set_aside;        // without replica: triggers disabled and foreign keys dropped, then restored
  std::string summary() const;               // one line for the log and the report
};

// What prepare_target_writes decides on, without side effects.
TargetWrites probe_target_writes(Connection &dst, const std::vector<sql::QualifiedName> &tables);
// Switches dst to replica (w.replica must be true) and logs the summary.
void use_replica_writes(Connection &dst, const TargetWrites &w);
// The refusal when neither replica nor another way is possible; `why` says what else was tried.
[[noreturn]] void refuse_target_writes(Connection &dst, const TargetWrites &w, const std::string &why);

// Writers must apply rows as the source has them: no user trigger fires, no
// foreign key check or cascade acts. When the role may set
// session_replication_role (superuser, or GRANT SET ON PARAMETER on 15+), dst
// is switched to replica now and the caller sets replica_writes on the
// target's session settings for every other writer. When it may not and one
// of `tables` (empty: every user table) has user triggers or foreign keys,
// throws one Usage error naming them and the privilege to grant, before any
// data moves.
TargetWrites prepare_target_writes(Connection &dst, const std::vector<sql::QualifiedName> &tables);

// TOAST compression of the writers' sessions (default_toast_compression,
// 14+): it applies to columns without a compression of their own. Values
// read back are the same whatever compressed them; lz4 costs the target a
// fraction of pglz's CPU on large values (perf/RESULTS.md).
enum class ToastCompression { Auto, Lz4, Pglz, Server };
ToastCompression parse_toast_compression(const std::string &text);  // throws Usage
// The setting for the writers: "lz4", "pglz" or "" (the server's). Auto takes
// lz4 when the target has it; Lz4 on a target without it is refused.
std::string writer_toast_compression(Connection &dst, ToastCompression want);
// One line for the summary: what compresses new TOAST values on the target.
std::string describe_toast_compression(const std::string &chosen);

// Whether two servers run on one machine, as their connections show: both
// reached over a Unix socket or a loopback address (the machine pgcutover
// runs on), or both at the same address. Then they share its CPUs.
bool share_one_machine(Connection &a, Connection &b);
bool same_machine_addresses(const std::string &a, const std::string &b);  // "" = Unix socket

// Inside the caller's transaction: removes every row of the table (ONLY),
// before it is filled again from the source. DELETE, or TRUNCATE when the
// table may not take a DELETE (in a publication that publishes deletes, with
// no replica identity: SQLSTATE 55000), through a savepoint.
void empty_for_reload(Connection &dst, const sql::QualifiedName &table);

}  // namespace pgcutover::pg
