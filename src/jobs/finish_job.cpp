// The finish job, phase by phase:
//   connect     the target must take writes
//   look        the tool schema, what it holds, the ledger's jobs
//   refuse      other pgcutover sessions on the target database, a job whose
//               lock another process holds, unfinished jobs (unless --force)
//   restore     triggers and foreign keys a killed run left set aside
//   remove      one transaction: the ledger's tables locked NOWAIT (a range
//               transaction in flight anywhere refuses), DROP SCHEMA ... CASCADE
#include "pgcutover/jobs/finish_job.hpp"

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/ledger/run_lock.hpp"
#include "pgcutover/ledger/write_guard.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/target_checks.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/ident.hpp"
#include "pgcutover/sql/ledger.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::jobs {

namespace {

std::string list(const std::vector<std::string> &items) {
  std::string out;
  for (const std::string &i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

FinishResult run_finish(const FinishConfig &cfg) {
  FinishResult out;
  out.tool_schema = cfg.tool_schema;
  pg::Connection dst = pg::Connection::open(cfg.target_conninfo, cfg.target_settings);
  out.target = dst.display_name();
  pg::check_target_writable(dst);
  sql::Ident schema{cfg.tool_schema};

  pg::Result objects = dst.query(sql::ledger::schema_objects(), {cfg.tool_schema});
  if (objects.rows() == 0) {
    log::info("no schema \"{}\" on the {}: nothing to remove", cfg.tool_schema, out.target);
    return out;
  }

  // A run writing to the target holds its run lock: named, with its command.
  ledger::RunLock run_lock(cfg.target_conninfo, cfg.target_settings, cfg.tool_schema, "finish", ledger::RunMode::Exclusive, false);
  // Other pgcutover sessions on this database: a copy, sync or verify at work.
  pg::Result others = dst.query(sql::ledger::other_tool_sessions(), {std::to_string(run_lock.backend_pid())});
  if (others.rows() > 0) {
    std::vector<std::string> who;
    for (int i = 0; i < others.rows(); ++i) who.push_back("pid " + std::string(others.get(i, 0)) + " (" + std::string(others.get(i, 1)) + ")");
    throw_usage("a pgcutover job is running on the " + out.target + ": sessions " + list(who),
                "let it finish (or stop it), then run finish again");
  }

  bool has_ledger = dst.query(sql::ledger::tables_exist(), {cfg.tool_schema}).get_bool(0, 0);
  std::vector<std::string> unfinished;
  if (has_ledger) {
    pg::Result jobs = dst.exec(sql::ledger::list_jobs(schema));
    for (int i = 0; i < jobs.rows(); ++i) {
      std::string name(jobs.get(i, 0)), state(jobs.get(i, 1));
      out.jobs.push_back(name + " (" + state + ")");
      if (state != "finished") unfinished.push_back(name);
      // The job's lock: held by a process setting it up or finishing it.
      if (!dst.query(sql::ledger::try_job_lock(), {"pgcutover job " + name}).get_bool(0, 0))
        throw_usage("job " + name + " is running on the " + out.target + " (another process holds its lock)",
                    "let it finish (or stop it), then run finish again");
    }
  }
  if (!unfinished.empty() && !cfg.force)
    throw_usage("unfinished job(s) in the ledger: " + list(unfinished) +
                    "; removing the ledger forgets which of their ranges are done",
                "finish them (rerun their copy), or pass --force to remove the ledger anyway");

  if (has_ledger) {
    // Triggers and foreign keys a run set aside (and was killed before it
    // restored them) come back before their record goes with the schema.
    ledger::Ledger(cfg.tool_schema, "").ensure_tables(dst);
    pg::Endpoints ends;
    ends.target_conninfo = cfg.target_conninfo;
    ends.target_settings = cfg.target_settings;
    ledger::TargetWriteGuard(ends, cfg.tool_schema).restore(dst);
  }

  {
    pg::Transaction txn(dst);
    if (has_ledger) {
      try {
        dst.exec(sql::ledger::lock_ledger_nowait(schema));
      } catch (const Error &e) {
        if (e.sqlstate != "55P03") throw;
        throw Error(ErrorKind::Usage, "a pgcutover job is writing to the ledger on the " + out.target + " right now",
                    "let it finish (or stop it), then run finish again");
      }
    }
    for (int i = 0; i < objects.rows(); ++i)
      if (!objects.is_null(i, 0)) out.objects.push_back(std::string(objects.get(i, 0)));
    dst.exec(sql::ledger::drop_schema(schema));
    txn.commit();
  }
  out.removed = true;
  log::info("removed schema \"{}\" from the {}", cfg.tool_schema, out.target);
  return out;
}

}  // namespace pgcutover::jobs
