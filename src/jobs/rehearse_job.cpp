// The rehearse job, phase by phase (each timed into one report):
//   sync     drift, changed rows, deletes and sequences, as the cutover runs it
//   verify   the target equals the source at the sync's point
//   analyze  planner statistics are not copied; without them the new server is slow
//   checks   the team's own checks, the ones run before reopening traffic
// then the verdict against the budget and the projection of the final sync.
#include "pgcutover/jobs/rehearse_job.hpp"

#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/sequences/sequences.hpp"
#include "pgcutover/sql/misc.hpp"

namespace pgcutover::jobs {

namespace {

// Estimated final-sync seconds after `hours` without syncing: per table, the
// rows changed per second since its last point times the horizon, over the
// merge throughput measured now; tables run `jobs` at a time; the phases that
// do not scale with the changes (verify, ANALYZE, checks, drift) are added as
// measured.
std::vector<Projection> project(const SyncResult &sync, const report::RunReport &rep, int jobs) {
  double fixed = 0;
  for (const report::PhaseRecord &p : rep.phases())
    if (p.name != "sync_changes") fixed += p.end - p.start;
  std::map<std::string, std::pair<double, double>> work;  // table -> (range seconds, rows)
  for (const report::RangeRecord &r : rep.ranges()) {
    auto &w = work[r.table];
    w.first += r.end - r.start;
    w.second += static_cast<double>(r.rows);
  }
  std::optional<util::TimePoint> snap = util::parse_iso(sync.snapshot.taken_at);
  std::vector<Projection> out;
  for (double hours : {1.0, 6.0, 24.0}) {
    double seconds = 0;
    for (const SyncedTable &t : sync.tables) {
      std::optional<util::TimePoint> since = util::parse_iso(t.watermark);
      double window = snap && since ? util::seconds_between(*since, *snap) : 0;
      auto w = work[t.table.display()];
      double per_row = w.second > 0 ? w.first / w.second : 0;
      if (window <= 0 || per_row <= 0) continue;
      seconds += static_cast<double>(t.rows_read) / window * hours * 3600 * per_row;
    }
    out.push_back({hours, seconds / std::max(1, jobs) + fixed});
  }
  return out;
}

class RehearseJob {
 public:
  RehearseJob(const RehearseConfig &cfg, report::RunReport &rep, report::Reporter &reporter)
      : cfg_(cfg), rep_(rep), reporter_(reporter) {}

  RehearseResult run() {
    try {
      sync();
      verify();
      analyze();
      user_checks();
    } catch (const Error &e) {
      result_.failure = e;
    }
    judge();
    return std::move(result_);
  }

 private:
  const Scope &scope() const { return cfg_.sync.scope; }

  void sync() {
    result_.sync = run_sync(cfg_.sync, rep_, reporter_);
    if (!result_.sync->ok()) {
      std::string list;
      for (const std::string &n : result_.sync->not_synced) list += (list.empty() ? "" : "; ") + n;
      throw Error(ErrorKind::Usage, "the sync left tables out: " + list, "fix them (see report.md) and rehearse again");
    }
  }

  void verify() {
    VerifyConfig v;
    v.scope = scope();
    v.mode = cfg_.verify_mode;
    // Sequences as of the rehearsal's snapshot. They are not transactional:
    // no snapshot shows where a sequence stood, and under traffic the live
    // source hands out values after the snapshot that the target, rightly,
    // never saw. The rule: the target is compared with the source positions
    // the sync itself read, on the connection holding its snapshot, right
    // after that snapshot's rows were merged (reset_sequences). Every value a
    // row in the snapshot holds was handed out before the snapshot, so those
    // positions cover them all; values handed out later belong to the next
    // sync. A sequence the sync did not set is compared with the live source.
    verify::SequenceBaseline base;
    for (const sequences::SequenceChange &c : result_.sync->sequences)
      base[c.sequence] = {c.source_value, c.source_called};
    v.sequence_baseline = std::move(base);
    v.sequence_baseline_rule = "the source positions the sync read right after its snapshot (" +
                               result_.sync->snapshot.taken_at + ")";
    result_.verify = run_verify(v, rep_, reporter_);
    if (!result_.verify->ok)
      throw Error(ErrorKind::Usage, "verify found differences after the sync",
                  "see report.md and run `pgcutover verify --mode full`");
  }

  void analyze() {
    report::PhaseTimer t(rep_, "analyze");
    std::vector<sql::QualifiedName> tables;
    for (const SyncedTable &st : result_.sync->tables) tables.push_back(st.table);
    const pg::Endpoints &ends = scope().ends;
    pipeline::run_each(tables, scope().jobs, [&](const sql::QualifiedName &name) {
      pg::Connection c = pg::Connection::open(ends.target_conninfo, ends.target_settings);
      c.exec(sql::misc::analyze(name));
    });
  }

  void user_checks() {
    report::PhaseTimer t(rep_, "user_checks");
    const pg::Endpoints &ends = scope().ends;
    pg::Connection c = pg::Connection::open(ends.target_conninfo, ends.target_settings);
    c.exec(sql::misc::reset_search_path());  // checks are written as the application writes SQL
    for (const UserCheck &k : cfg_.checks) {
      CheckResult res;
      res.name = k.name;
      double t0 = rep_.now();
      try {
        pg::Result r = c.exec(k.sql);
        res.ok = r.rows() == 0 || (r.rows() == 1 && r.columns() == 1 && r.get(0, 0) == "t");
        if (!res.ok)
          res.detail = r.rows() == 1 && r.columns() == 1 ? "returned " + std::string(r.get(0, 0))
                                                          : "returned " + std::to_string(r.rows()) + " row(s)";
      } catch (const Error &e) {
        res.detail = e.what();
      }
      res.seconds = rep_.now() - t0;
      result_.checks.push_back(res);
      if (!res.ok)
        throw Error(ErrorKind::Usage, "user check '" + k.name + "' failed: " + res.detail,
                    "the target is not ready; see report.md");
      ++result_.checks_passed;
    }
  }

  void judge() {
    Verdict &v = result_.verdict;
    v.total_seconds = rep_.now();
    v.budget_seconds = cfg_.budget_seconds;
    v.safety = cfg_.safety;
    v.margin_seconds = v.budget_seconds * v.safety - v.total_seconds;
    v.fits = !result_.failure && v.total_seconds <= v.budget_seconds * v.safety;
    if (result_.sync) result_.projection = project(*result_.sync, rep_, scope().jobs);
  }

  const RehearseConfig &cfg_;
  report::RunReport &rep_;
  report::Reporter &reporter_;
  RehearseResult result_;
};

}  // namespace

RehearseResult run_rehearse(const RehearseConfig &config, report::RunReport &report, report::Reporter &reporter) {
  return RehearseJob(config, report, reporter).run();
}

}  // namespace pgcutover::jobs
