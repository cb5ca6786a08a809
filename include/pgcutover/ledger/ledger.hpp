#pragma once
// The ledger: a job's plan and every range's state, on the target, in the
// tool's own schema. A range's data and its "done" mark commit in one
// transaction (the range's), so after any crash a rerun redoes exactly the
// unfinished ranges: nothing copied twice, nothing skipped. Several processes
// on one job share it by claiming ranges with FOR UPDATE SKIP LOCKED inside
// the range's transaction; a process that dies releases its claims with its
// transactions.
#include <nlohmann/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::ledger {

struct StoredRange {
  sql::QualifiedName table;
  plan::KeyRange range;
  std::string strategy;
  std::string format;
  bool done = false;
};

// The tables pg_dump created on the target for a job (their post-data is
// built when the data is in).
struct CreatedTables {
  bool whole = false;  // the whole database was dumped (an empty target)
  std::vector<sql::QualifiedName> tables;
};

struct Job {
  std::string state;          // running | finished
  std::string schema_state;   // pre_data_done | post_data_done
  std::string finished_at;    // ISO 8601 UTC when state is finished, else ""
  i64 generation = 0;         // changes with every --restart (see Ledger::fence)
  CreatedTables created_tables;
  std::vector<StoredRange> ranges;
};

struct TablePoint {
  sql::QualifiedName table;
  std::string taken_at;  // earliest snapshot time any of its ranges used
  std::string xmin;
};

class Ledger {
 public:
  Ledger(std::string schema, std::string job);

  const std::string &schema() const { return schema_; }
  const std::string &job() const { return job_; }

  void ensure_tables(pg::Connection &c) const;
  // Session-level advisory lock on the job: one process at a time sets it up
  // and finishes it. Blocks until granted.
  void lock(pg::Connection &c) const;
  void unlock(pg::Connection &c) const;

  // The job, or nullopt when there is none (the ledger's tables must exist).
  std::optional<Job> load(pg::Connection &c) const;
  // The same, but also nullopt when the ledger's tables do not exist yet
  // (nothing was ever copied into this target with this tool schema).
  std::optional<Job> load_if_exists(pg::Connection &c) const;
  // Replaces any earlier job of this name with the plan, all ranges pending,
  // under a new generation, which this ledger works in from then on. The job
  // starts in `state`: "running", or "creating" while the tables it records
  // as created are being created (set "running" after they are: a job found
  // "creating" is planned anew, its created tables still its own).
  // in_transaction runs first in the same transaction (what must commit
  // together with the new job, or not at all).
  void create(pg::Connection &c, const plan::Plan &plan, const CreatedTables &created_tables,
              const std::string &command, const std::string &source, const std::string &state = "running",
              const std::function<void()> &in_transaction = {});
  // --restart, before planning: gives the existing job a new generation and
  // commits it, so processes still running the old plan fail their next
  // claim. Waits for their ranges in flight (they hold the job row FOR SHARE).
  void fence(pg::Connection &c);
  // Works in the generation of a job loaded to resume it.
  void join(const Job &job) { generation_ = job.generation; }
  i64 generation() const { return generation_; }
  // Throws (Permanent, "the job was restarted by ...; this process stops")
  // when the job's generation is no longer this ledger's. With lock, inside a
  // transaction, holds the job row FOR SHARE until it ends, so no restart can
  // fence the job meanwhile.
  void check_generation(pg::Connection &c, bool lock = false) const;
  // Throws when the job is not there or was restarted by another process.
  void set_state(pg::Connection &c, const std::string &state, const std::string &schema_state) const;

  // Inside the range's transaction on the target: true when this process now
  // holds the range and it is not done yet; false when it is done or another
  // process holds it. Throws when the job was restarted (check_generation).
  bool claim(pg::Connection &c, const sql::QualifiedName &table, i64 range_id) const;
  // Marks exactly one pending range done, or throws (nothing may commit then):
  // the range is gone or done already (the job was restarted meanwhile).
  void mark_done(pg::Connection &c, const sql::QualifiedName &table, i64 range_id, i64 rows, i64 bytes,
                 const pg::SnapshotInfo &snapshot, const std::string &started_at) const;
  i64 pending(pg::Connection &c) const;
  // A resumed job's pending ranges of a table go with another strategy and
  // format from now on (every process of the job reads them from here).
  void set_pending_choice(pg::Connection &c, const sql::QualifiedName &table, const std::string &strategy,
                          const std::string &format) const;
  // Tables whose ranges are all done (their data is in), earliest first.
  std::vector<sql::QualifiedName> tables_done(pg::Connection &c) const;
  // The job's post-data lock (session-level): whoever builds indexes of the
  // job's tables holds it, so two processes never build the same one.
  bool try_lock_post_data(pg::Connection &c) const;
  void lock_post_data(pg::Connection &c) const;
  void unlock_post_data(pg::Connection &c) const;
  std::vector<TablePoint> table_points(pg::Connection &c) const;

 private:
  sql::Ident ident() const { return sql::Ident{schema_}; }

  std::string schema_;  // raw name
  std::string job_;
  i64 generation_ = 0;  // the job's generation this process works in
};

// Holds the job's advisory lock (Ledger::lock) for its lifetime, on a
// connection that outlives it. The destructor never throws.
class JobLock {
 public:
  JobLock(const Ledger &ledger, pg::Connection &conn);
  JobLock(const JobLock &) = delete;
  JobLock &operator=(const JobLock &) = delete;
  ~JobLock();

 private:
  const Ledger &ledger_;
  pg::Connection &conn_;
};

// The default job name of a copy: derived from the source endpoint and the
// table selection, so rerunning the same command finds the same job.
std::string default_job_name(const std::string &source_display, const std::vector<std::string> &tables);

// "host:pid" of this process, recorded with each range it finished.
std::string worker_name();

}  // namespace pgcutover::ledger
