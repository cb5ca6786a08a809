// The target's run lock (see run_lock.hpp).
#include "pgcutover/ledger/run_lock.hpp"

#include <libpq-fe.h>

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/sql/ledger.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::ledger {

namespace {

// "pgcutover sync (host:4711, since 2026-12-07T10:00:00Z; server session 812 from 10.0.0.5 as app)"
std::string describe_holders(pg::Connection &c, const std::string &tool_schema) {
  pg::Result h = c.query(sql::ledger::run_lock_holders(), {tool_schema});
  bool recorded = c.query(sql::ledger::runs_table_exists(), {tool_schema}).get_bool(0, 0);
  std::string out;
  for (int i = 0; i < h.rows(); ++i) {
    std::string pid(h.get(i, 0)), who;
    if (recorded) {
      pg::Result r = c.query(sql::ledger::run_record(sql::Ident{tool_schema}), {pid});
      if (r.rows() > 0)
        who = "pgcutover " + std::string(r.get(0, 0)) + " (" + std::string(r.get(0, 1)) + ", since " +
              std::string(r.get(0, 2)) + "; ";
    }
    if (who.empty()) who = "a pgcutover run (";
    who += "server session " + pid + " from " + std::string(h.get(i, 2)) + " as " + std::string(h.get(i, 3)) +
           ", connected " + std::string(h.get(i, 4)) + ")";
    out += (out.empty() ? "" : "; ") + who;
  }
  return out.empty() ? "another pgcutover run (it ended meanwhile)" : out;
}

}  // namespace

RunLock::RunLock(const std::string &conninfo, const pg::SessionSettings &settings, const std::string &tool_schema,
                 const std::string &command, RunMode mode, bool record)
    : conninfo_(conninfo), settings_(settings), tool_schema_(tool_schema), command_(command), mode_(mode),
      record_(record) {
  take();
}

void RunLock::take() {
  conn_.reset();
  pg::Connection c = pg::Connection::open(conninfo_, settings_);
  const bool shared = mode_ == RunMode::Shared;
  if (!c.query(sql::ledger::try_run_lock(shared), {tool_schema_}).get_bool(0, 0)) {
    std::string holders = describe_holders(c, tool_schema_);
    throw Error(ErrorKind::Permanent,
                command_ + " cannot run on the " + c.display_name() + " now: it is in use by " + holders,
                shared ? "a copy shares the target only with other copies; wait for that run to end (or stop it), "
                         "then rerun; nothing was written"
                       : "one sync, repair, load, sequence reset or finish at a time, and none beside a copy; wait "
                         "for that run to end (or stop it), then rerun; nothing was written");
  }
  if (record_) c.query(sql::ledger::record_run(sql::Ident{tool_schema_}), {command_, worker_name()});
  conn_.emplace(std::move(c));  // a failure above closes c, and the lock with it
}

int RunLock::backend_pid() const { return conn_ && !conn_->broken() ? PQbackendPID(conn_->raw()) : 0; }

int RunLock::others() {
  if (!conn_ || conn_->broken()) return 0;
  return conn_->query(sql::ledger::run_lock_holders(), {tool_schema_}).rows();
}

bool RunLock::last_out() {
  if (mode_ == RunMode::Exclusive) return true;
  if (!conn_ || conn_->broken()) return true;  // the lock is gone: nobody to ask (the caller restores)
  conn_->query(sql::ledger::run_unlock(true), {tool_schema_});
  if (conn_->query(sql::ledger::try_run_lock(false), {tool_schema_}).get_bool(0, 0)) {
    mode_ = RunMode::Exclusive;
    return true;
  }
  conn_.reset();  // holds nothing any more
  return false;
}

void RunLock::share_again() {
  if (mode_ != RunMode::Exclusive || !conn_ || conn_->broken()) return;
  conn_->query(sql::ledger::run_unlock(false), {tool_schema_});
  mode_ = RunMode::Shared;
  if (!conn_->query(sql::ledger::try_run_lock(true), {tool_schema_}).get_bool(0, 0)) conn_.reset();
}

void RunLock::hold() {
  if (conn_ && !conn_->broken()) {
    try {
      conn_->exec("SELECT 1");
      return;
    } catch (const Error &) {
      // its session is gone, and the lock with it
    }
  }
  log::warn("the target's run lock was lost with its connection (a target restart?): taking it again");
  take();
}

RunLock::~RunLock() {
  if (!conn_ || conn_->broken()) return;  // the lock ended with the session
  try {
    conn_->query(sql::ledger::run_unlock(mode_ == RunMode::Shared), {tool_schema_});
  } catch (const Error &) {
    conn_->mark_broken();
  }
}

}  // namespace pgcutover::ledger
