// The ledger (see ledger.hpp). Why the done mark commits with the data: a
// separate bookkeeping transaction would leave a window in which the data is
// committed and the mark is not (copied twice on resume, harmless only for
// merge) or the mark is and the data is not (a hole). One transaction has
// neither, for every strategy.
#include "pgcutover/ledger/ledger.hpp"

#include <unistd.h>
#include <xxhash.h>

#include <algorithm>

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/ledger.hpp"

namespace pgcutover::ledger {

namespace {

std::optional<plan::KeyBound> bound_from_json(std::string_view text) {
  if (text.empty()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(text);
  if (j.is_null()) return std::nullopt;
  return plan::KeyBound{j.get<std::vector<std::string>>()};
}

}  // namespace

Ledger::Ledger(std::string schema, std::string job) : schema_(std::move(schema)), job_(std::move(job)) {}

void Ledger::ensure_tables(pg::Connection &c) const {
  // Concurrent CREATE ... IF NOT EXISTS can still collide: serialize it.
  pg::Transaction txn(c);
  c.exec(sql::ledger::setup_lock());
  c.exec(sql::ledger::create_tables(ident()));
  txn.commit();
}

void Ledger::lock(pg::Connection &c) const {
  c.query(sql::ledger::job_lock(), {"pgcutover job " + job_});
}

void Ledger::unlock(pg::Connection &c) const {
  c.query(sql::ledger::job_unlock(), {"pgcutover job " + job_});
}

JobLock::JobLock(const Ledger &ledger, pg::Connection &conn) : ledger_(ledger), conn_(conn) { ledger_.lock(conn_); }

JobLock::~JobLock() {
  if (conn_.broken()) return;  // the lock ended with the session
  try {
    ledger_.unlock(conn_);
  } catch (const Error &) {
    conn_.mark_broken();
  }
}

std::optional<Job> Ledger::load_if_exists(pg::Connection &c) const {
  if (!c.query(sql::ledger::tables_exist(), {schema_}).get_bool(0, 0)) return std::nullopt;
  return load(c);
}

std::optional<Job> Ledger::load(pg::Connection &c) const {
  pg::Result j = c.query(sql::ledger::select_job(ident()), {job_});
  if (j.rows() == 0) return std::nullopt;
  Job job;
  job.state = j.get(0, 0);
  job.created_tables.whole = j.get_bool(0, 1);
  pg::Result created = c.query(sql::ledger::select_created(ident()), {job_});
  for (int i = 0; i < created.rows(); ++i)
    job.created_tables.tables.push_back({std::string(created.get(i, 0)), std::string(created.get(i, 1))});
  job.schema_state = j.get(0, 2);
  job.finished_at = j.get(0, 3);
  job.generation = j.get_i64(0, 4);
  // Bounds come back as JSON arrays, which parse exactly.
  pg::Result r = c.query(sql::ledger::select_ranges(ident()), {job_});
  for (int i = 0; i < r.rows(); ++i) {
    StoredRange s;
    s.table = {std::string(r.get(i, 0)), std::string(r.get(i, 1))};
    s.range.id = r.get_i64(i, 2);
    s.range.lower = bound_from_json(r.get(i, 3));
    s.range.upper = bound_from_json(r.get(i, 4));
    s.range.planned_bytes = r.get_i64(i, 5);
    s.strategy = r.get(i, 6);
    s.format = r.get(i, 7);
    s.done = r.get(i, 8) == "done";
    s.range.source_order = r.get_bool(i, 9);
    job.ranges.push_back(std::move(s));
  }
  return job;
}

void Ledger::create(pg::Connection &c, const plan::Plan &plan, const CreatedTables &created_tables,
                    const std::string &command, const std::string &source, const std::string &state,
                    const std::function<void()> &in_transaction) {
  pg::Transaction txn(c);
  if (in_transaction) in_transaction();
  i64 generation = c.query(sql::ledger::next_generation(ident()), {job_}).get_i64(0, 0);
  c.query(sql::ledger::reset_job(ident()), {job_});
  nlohmann::json pj = nlohmann::json::array();
  for (const plan::TablePlan &tp : plan.tables) pj.push_back(tp.table.name.display());
  c.query(sql::ledger::insert_job(ident()), {job_, command, source, pj.dump(), created_tables.whole ? "true" : "false",
                                             std::to_string(generation), worker_name(), state});
  if (!created_tables.tables.empty()) {
    std::vector<std::string> schemas, names;
    for (const sql::QualifiedName &n : created_tables.tables) {
      schemas.push_back(n.schema);
      names.push_back(n.name);
    }
    c.query(sql::ledger::insert_created(ident()), {job_, sql::array_literal(schemas), sql::array_literal(names)});
  }
  // The ranges go in batches (one statement per few thousand ranges, not
  // one per range: a plan of 10,000 tables has at least as many ranges).
  constexpr size_t BATCH = 5000;
  std::string ins = sql::ledger::insert_ranges(ident());
  std::vector<std::string> cols[9];
  auto flush = [&] {
    if (cols[0].empty()) return;
    std::vector<pg::Param> params{job_, std::to_string(generation)};
    for (std::vector<std::string> &col : cols) {
      params.push_back(sql::array_literal(col));
      col.clear();
    }
    c.query(ins, params);
  };
  auto bound = [](const std::optional<plan::KeyBound> &b) { return b ? sql::array_literal(b->values) : std::string(); };
  for (const plan::TablePlan &tp : plan.tables)
    for (const plan::KeyRange &r : tp.ranges) {
      std::string row[9] = {tp.table.name.schema,       tp.table.name.name,
                            std::to_string(r.id),        bound(r.lower),
                            bound(r.upper),              std::to_string(r.planned_bytes),
                            merge::to_string(tp.strategy), copybin::to_string(tp.format),
                            r.source_order ? "true" : "false"};
      for (int i = 0; i < 9; ++i) cols[i].push_back(std::move(row[i]));
      if (cols[0].size() >= BATCH) flush();
    }
  flush();
  txn.commit();
  generation_ = generation;
}

void Ledger::fence(pg::Connection &c) {
  pg::Transaction txn(c);
  i64 generation = c.query(sql::ledger::next_generation(ident()), {job_}).get_i64(0, 0);
  c.query(sql::ledger::fence_job(ident()), {job_, std::to_string(generation), worker_name()});
  txn.commit();
  generation_ = generation;
}

void Ledger::check_generation(pg::Connection &c, bool lock) const {
  pg::Result r = c.query(sql::ledger::job_generation(ident(), lock), {job_});
  if (r.rows() == 1 && r.get_i64(0, 0) == generation_) return;
  // A row the restart deleted is not seen FOR SHARE; read the new one.
  if (lock && r.rows() == 0) r = c.query(sql::ledger::job_generation(ident(), false), {job_});
  if (r.rows() == 0)
    throw Error(ErrorKind::Permanent,
                "job " + job_ + " is no longer in the ledger (" + schema_ + ".jobs): another process removed it; "
                "this process stops (the range in flight, if any, was rolled back)",
                "see what the other process did (pgcutover finish removes the ledger); rerun the command to copy again");
  throw Error(ErrorKind::Permanent,
              "job " + job_ + ": the job was restarted by " + std::string(r.get(0, 1)) + " at " +
                  std::string(r.get(0, 2)) + " (generation " + std::string(r.get(0, 0)) + ", this process ran " +
                  std::to_string(generation_) + "); this process stops (the range in flight, if any, was rolled back)",
              "the restarted job goes on in the process that restarted it; nothing to do here");
}

void Ledger::set_state(pg::Connection &c, const std::string &state, const std::string &schema_state) const {
  i64 n = c.query(sql::ledger::update_job(ident()), {job_, state, schema_state, std::to_string(generation_)})
              .affected_rows();
  if (n != 1) check_generation(c);
  if (n != 1)
    throw Error(ErrorKind::Permanent, "job " + job_ + " is no longer in the ledger (" + schema_ + ".jobs)",
                "another process restarted or removed the job; rerun the same command");
}

bool Ledger::claim(pg::Connection &c, const sql::QualifiedName &table, i64 range_id) const {
  check_generation(c, true);
  pg::Result r = c.query(sql::ledger::claim_range(ident()),
                         {job_, table.schema, table.name, std::to_string(range_id), std::to_string(generation_)});
  return r.rows() == 1 && r.get(0, 0) != "done";
}

void Ledger::mark_done(pg::Connection &c, const sql::QualifiedName &table, i64 range_id, i64 rows, i64 bytes,
                       const pg::SnapshotInfo &snap, const std::string &started_at) const {
  i64 n = c.query(sql::ledger::mark_done(ident()),
                  {job_, table.schema, table.name, std::to_string(range_id), std::to_string(rows), std::to_string(bytes),
                   snap.id, snap.changes_from, snap.xmin, worker_name(), started_at, std::to_string(generation_)})
              .affected_rows();
  if (n != 1) check_generation(c);
  if (n != 1)
    throw Error(ErrorKind::Permanent,
                "the ledger has no pending range " + std::to_string(range_id) + " of " + table.display() + " in job " +
                    job_ + " to mark done (it marked " + std::to_string(n) + "); the range was rolled back",
                "another process restarted the job or finished this range; rerun the same command");
}

void Ledger::set_pending_choice(pg::Connection &c, const sql::QualifiedName &table, const std::string &strategy,
                                const std::string &format) const {
  c.query(sql::ledger::set_pending_choice(ident()), {job_, table.schema, table.name, strategy, format});
}

i64 Ledger::pending(pg::Connection &c) const {
  return c.query(sql::ledger::count_pending(ident()), {job_}).get_i64(0, 0);
}

std::vector<sql::QualifiedName> Ledger::tables_done(pg::Connection &c) const {
  pg::Result r = c.query(sql::ledger::tables_done(ident()), {job_});
  std::vector<sql::QualifiedName> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({std::string(r.get(i, 0)), std::string(r.get(i, 1))});
  return out;
}

bool Ledger::try_lock_post_data(pg::Connection &c) const {
  return c.query(sql::ledger::try_job_lock(), {"pgcutover job " + job_ + " post-data"}).get_bool(0, 0);
}

void Ledger::lock_post_data(pg::Connection &c) const {
  c.query(sql::ledger::job_lock(), {"pgcutover job " + job_ + " post-data"});
}

void Ledger::unlock_post_data(pg::Connection &c) const {
  c.query(sql::ledger::job_unlock(), {"pgcutover job " + job_ + " post-data"});
}

std::vector<TablePoint> Ledger::table_points(pg::Connection &c) const {
  pg::Result r = c.query(sql::ledger::table_points(ident()), {job_});
  std::vector<TablePoint> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({{std::string(r.get(i, 0)), std::string(r.get(i, 1))}, std::string(r.get(i, 2)), std::string(r.get(i, 3))});
  return out;
}

std::string default_job_name(const std::string &source_display, const std::vector<std::string> &tables) {
  std::vector<std::string> sorted = tables;
  std::sort(sorted.begin(), sorted.end());
  std::string key = source_display;
  for (const std::string &t : sorted) key += "\n" + t;
  char buf[32];
  std::snprintf(buf, sizeof buf, "copy-%016llx", static_cast<unsigned long long>(XXH3_64bits(key.data(), key.size())));
  return buf;
}

std::string worker_name() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace pgcutover::ledger
