#pragma once
// Session settings: the one list of settings pinned in every session, so that
// what COPY produces or accepts does not depend on either database's defaults,
// plus what readers of key ranges add on top. These SETs are the only
// statement text outside sql/.
#include <string>

#include "pgcutover/util/types.hpp"

namespace pgcutover::pg {

class Connection;

struct SessionSettings {
  std::string application_name = "pgcutover";
  std::string role;                 // "source" / "target" / "ledger": shown in messages
  i64 lock_timeout_ms = 0;          // 0 = server default is overridden with "no limit"
  i64 statement_timeout_ms = 0;
  // Writers on the target apply rows as the source has them: with
  // session_replication_role = replica no user trigger fires (except those
  // ENABLE ALWAYS) and no foreign key check or cascade acts. Set by the jobs
  // once pg::prepare_target_writes() found the role may set it.
  bool replica_writes = false;
  // Every transaction of the session is READ ONLY (default_transaction_read_only):
  // set on the source's sessions, which pgcutover never writes.
  bool read_only = false;
  // Writer sessions of the pipeline only (never the ledger's control
  // connection): COMMIT without waiting for the WAL flush. A target crash
  // loses a suffix of commits, each range together with its done mark, so a
  // rerun copies those ranges again; the pipeline ends with one synchronous
  // commit (pg::make_durable) that flushes every range before it.
  bool async_commit = false;
  // default_toast_compression in the session ("" = the server's): applies to
  // columns without a compression of their own.
  std::string toast_compression;
  // A logical replication session (replication=database): it runs
  // replication commands (CREATE_REPLICATION_SLOT, START_REPLICATION) as
  // well as SQL. Only pg::ReplicationSession opens one.
  bool replication = false;
};

// Every session, reader or writer: encoding, output formats, time zone, an
// empty search_path, row security off, the timeouts.
std::string session_setup(const SessionSettings &settings);

// SET session_replication_role = replica (see SessionSettings::replica_writes).
std::string replica_setup();

// Waits until every commit made so far on the server is flushed to its WAL:
// one synchronous commit of a transaction that has an xid (WAL is flushed in
// order, so the commits before it are durable once it is).
void make_durable(Connection &conn);

// Readers of key ranges (the copy's source side, both sides of verify): range
// predicates must use the key index, never a full scan per range.
std::string reader_setup();
void pin_reader(Connection &conn);

}  // namespace pgcutover::pg
