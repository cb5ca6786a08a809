// The rehearse job, phase by phase (each timed into one report):
//   sync     drift, changed rows, deletes and sequences, as the cutover runs it
//   verify   the target equals the source at the sync's point
//   analyze  planner statistics are not copied; without them the new server is slow
//   checks   the team's own checks, the ones run before reopening traffic
// then the verdict against the budget and the projection of the final sync.
#include "pgcutover/jobs/rehearse_job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/sequences/sequences.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/sql/misc.hpp"
#include "pgcutover/util/time.hpp"

namespace pgcutover::jobs {

namespace {

// The projection of the final sync. Per table: its change rate (rows the
// sync read over the time from the table's point before it to the sync's
// snapshot) and its merge cost per row (its ranges' seconds in sync_changes
// over their rows). The final sync after `h` hours without a sync takes
//   fixed + h * sum(rate x cost) / jobs
// where `fixed` is every phase but sync_changes as measured (drift, verify,
// ANALYZE, checks: they do not grow with the changes). Linear in h, so the
// latest last sync is where that line crosses budget x safety.
// The timed queries measure the new server against the old; they are not a
// step of the cutover, so neither the total nor the projection counts them.
constexpr const char *MEASURING_PHASE = "queries";

double measuring_seconds(const report::RunReport &rep) {
  double s = 0;
  for (const report::PhaseRecord &p : rep.phases())
    if (p.name == MEASURING_PHASE) s += p.end - p.start;
  return s;
}

struct ProjectionModel {
  std::vector<TableRate> rates;
  double fixed = 0;          // seconds
  double per_hour = 0;       // seconds added per hour without a sync
};

ProjectionModel model_of(const SyncResult &sync, const report::RunReport &rep, int jobs) {
  ProjectionModel m;
  double sync_start = 0, sync_end = -1;
  for (const report::PhaseRecord &p : rep.phases()) {
    if (p.name == "sync_changes") sync_start = p.start, sync_end = p.end;
    else if (p.name != MEASURING_PHASE) m.fixed += p.end - p.start;
  }
  std::map<std::string, std::pair<double, double>> work;  // table -> (range seconds, rows), sync_changes only
  for (const report::RangeRecord &r : rep.ranges()) {
    if (r.start < sync_start || r.start > sync_end) continue;
    auto &w = work[r.table];
    w.first += r.end - r.start;
    w.second += static_cast<double>(r.rows);
  }
  std::optional<util::TimePoint> snap = util::parse_iso(sync.snapshot.taken_at);
  for (const SyncedTable &t : sync.tables) {
    TableRate tr;
    tr.table = t.table.display();
    std::optional<util::TimePoint> since = util::parse_iso(t.watermark);
    double window = snap && since ? util::seconds_between(*since, *snap) : 0;
    if (window > 0) tr.changes_per_hour = static_cast<double>(t.rows_read) / window * 3600;
    auto w = work[tr.table];
    tr.sync_seconds = w.first;
    if (w.second > 0) tr.merge_seconds_per_row = w.first / w.second;
    if (tr.changes_per_hour && tr.merge_seconds_per_row)
      m.per_hour += *tr.changes_per_hour * *tr.merge_seconds_per_row / std::max(1, jobs);
    m.rates.push_back(std::move(tr));
  }
  return m;
}

LatestLastSync latest_last_sync(const ProjectionModel &m, double limit, const std::string &snapshot_at) {
  LatestLastSync out;
  if (m.fixed >= limit) {
    out.reason = "the phases that do not grow with the changes already take budget x safety";
    out.hours = 0;
  } else if (m.per_hour <= 0) {
    out.reason = "no changes measured: the final sync does not grow with time";
    return out;
  } else {
    out.hours = (limit - m.fixed) / m.per_hour;
  }
  if (std::optional<util::TimePoint> snap = util::parse_iso(snapshot_at))
    out.at = util::format_iso(*snap + std::chrono::microseconds(static_cast<i64>(std::min(*out.hours, 1e6) * 3600e6)));
  return out;
}

class RehearseJob {
 public:
  RehearseJob(const RehearseConfig &cfg, report::RunReport &rep, report::Reporter &reporter)
      : cfg_(cfg), rep_(rep), reporter_(reporter) {}

  RehearseResult run() {
    result_.started_at = util::format_iso(util::now());
    try {
      sync();
      verify();
      analyze();
      user_checks();
      release_snapshot();  // read by verify and the same-rows checks; the timed queries run on the live source
      timed_queries();
    } catch (const Error &e) {
      result_.failure = e;
    }
    release_snapshot();
    judge();
    history();
    return std::move(result_);
  }

 private:
  const Scope &scope() const { return cfg_.sync.scope; }

  void sync() {
    SyncConfig s = cfg_.sync;
    s.keep_snapshot = true;  // verify and the same-rows checks read the source as of it
    double t0 = rep_.now();
    try {
      result_.sync = run_sync(s, rep_, reporter_);
    } catch (...) {
      result_.sync_seconds = rep_.now() - t0;
      throw;
    }
    result_.sync_seconds = rep_.now() - t0;
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
    // The source as of the sync's snapshot: traffic after it is for the next
    // sync, never a difference. The target, written only by the sync, reads fresh.
    v.source_snapshot = result_.sync->snapshot;
    result_.verify = run_verify(v, rep_, reporter_);
    if (!result_.verify->ok)
      throw Error(ErrorKind::Usage, "verify found differences after the sync",
                  "see report.md and run `pgcutover verify --mode full`");
  }

  void release_snapshot() {
    if (result_.sync) result_.sync->holder.reset();
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
        if (k.same_rows) {
          same_rows(k, c, res);
        } else {
          pg::Result r = c.exec(k.sql);
          res.ok = r.rows() == 0 || (r.rows() == 1 && r.columns() == 1 && r.get(0, 0) == "t");
          if (!res.ok)
            res.detail = r.rows() == 1 && r.columns() == 1 ? "returned " + std::string(r.get(0, 0))
                                                            : "returned " + std::to_string(r.rows()) + " row(s)";
        }
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

  // The rows of a result as text lines, sorted: a multiset to compare.
  static std::vector<std::string> sorted_rows(const pg::Result &r) {
    std::vector<std::string> rows;
    for (int i = 0; i < r.rows(); ++i) {
      std::string line = "(";
      for (int j = 0; j < r.columns(); ++j)
        line += (j ? ", " : "") + (r.is_null(i, j) ? std::string("NULL") : std::string(r.get(i, j)));
      rows.push_back(line + ")");
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  // The check's query on both sides: the source in the sync's snapshot (its
  // holder is still open), the target as the sync left it.
  void same_rows(const UserCheck &k, pg::Connection &target, CheckResult &res) {
    const pg::Endpoints &ends = scope().ends;
    pg::Connection src = pg::Connection::open(ends.source_conninfo, ends.source_settings);
    pg::import_snapshot(src, result_.sync->snapshot);
    src.exec(sql::misc::reset_search_path());
    std::vector<std::string> a = sorted_rows(src.exec(k.sql));
    std::vector<std::string> b = sorted_rows(target.exec(k.sql));
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size() && a[i] == b[j]) ++i, ++j;
    res.ok = i == a.size() && j == b.size();
    if (res.ok) {
      res.detail = std::to_string(a.size()) + " row(s) on both sides";
      return;
    }
    // The first row of the merge that one side lacks.
    std::string only = j == b.size() || (i < a.size() && a[i] < b[j]) ? "only on the source: " + a[i]
                                                                        : "only on the target: " + b[j];
    res.detail = "the rows differ (source " + std::to_string(a.size()) + ", target " + std::to_string(b.size()) +
                 " row(s)); first difference " + only;
  }

  // The team's representative queries, after ANALYZE, `query_runs` times per
  // side alternately, each in a read-only transaction rolled back; the
  // median latency per side. The source is the live one: latency, not content.
  void timed_queries() {
    if (cfg_.queries.empty()) return;
    report::PhaseTimer t(rep_, MEASURING_PHASE);
    const pg::Endpoints &ends = scope().ends;
    pg::Connection src = pg::Connection::open(ends.source_conninfo, ends.source_settings);
    pg::Connection dst = pg::Connection::open(ends.target_conninfo, ends.target_settings);
    for (pg::Connection *c : {&src, &dst}) c->exec(sql::misc::reset_search_path());
    auto timed = [&](pg::Connection &c, const std::string &text) {
      c.exec(sql::misc::begin_read_only());
      util::TimePoint t0 = util::now();
      try {
        c.exec(text);
      } catch (...) {
        c.exec(sql::misc::rollback());
        throw;
      }
      double ms = util::seconds_between(t0, util::now()) * 1000;
      c.exec(sql::misc::rollback());
      return ms;
    };
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      size_t n = v.size();
      return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    for (const TimedQuery &q : cfg_.queries) {
      QueryTiming qt;
      qt.name = q.name;
      try {
        for (int i = 0; i < cfg_.query_runs; ++i) {
          qt.source_ms.push_back(timed(src, q.sql));
          qt.target_ms.push_back(timed(dst, q.sql));
        }
        qt.source_median_ms = median(qt.source_ms);
        qt.target_median_ms = median(qt.target_ms);
        qt.ratio = qt.target_median_ms / std::max(1e-3, qt.source_median_ms);
        qt.slower = qt.ratio > cfg_.query_tolerance;
      } catch (const Error &e) {
        qt.error = e.what();
      }
      result_.queries.push_back(std::move(qt));
    }
  }

  void judge() {
    Verdict &v = result_.verdict;
    v.total_seconds = rep_.now() - measuring_seconds(rep_);
    v.budget_seconds = cfg_.budget_seconds;
    v.safety = cfg_.safety;
    v.margin_seconds = v.budget_seconds * v.safety - v.total_seconds;
    v.fits = !result_.failure && v.total_seconds <= v.budget_seconds * v.safety;
    result_.query_tolerance = cfg_.query_tolerance;
    result_.queries_must_not_regress = cfg_.queries_must_not_regress;
    reasons();
    if (!result_.sync) return;
    ProjectionModel m = model_of(*result_.sync, rep_, scope().jobs);
    for (double hours : {1.0, 6.0, 24.0}) result_.projection.push_back({hours, m.fixed + hours * m.per_hour});
    result_.latest_last_sync = latest_last_sync(m, v.budget_seconds * v.safety, result_.sync->snapshot.taken_at);
    result_.rates = std::move(m.rates);
  }

  // This run into the history, then the last runs back for the report. A
  // history that cannot be kept (the target unreachable) is said in the
  // report; it never hides the rehearsal's own result.
  void history() {
    const Verdict &v = result_.verdict;
    ledger::RehearsalEntry e;
    e.run_at = result_.started_at;
    e.total_seconds = v.total_seconds;
    e.sync_seconds = result_.sync_seconds;
    e.budget_seconds = v.budget_seconds;
    e.safety = v.safety;
    e.fits = v.fits;
    e.go = v.go;
    for (const report::PhaseRecord &p : rep_.phases()) e.phases.emplace_back(p.name, p.end - p.start);
    const int LAST = 10;
    try {
      if (!cfg_.history_dir.empty()) {
        result_.history_where = cfg_.history_dir;
        ledger::record_rehearsal(std::filesystem::path(cfg_.history_dir), e);
        result_.history = ledger::recent_rehearsals(std::filesystem::path(cfg_.history_dir), LAST);
      } else {
        result_.history_where = scope().tool_schema + ".rehearsals on the target";
        const pg::Endpoints &ends = scope().ends;
        pg::Connection c = pg::Connection::open(ends.target_conninfo, ends.target_settings);
        ledger::record_rehearsal(c, scope().tool_schema, e);
        result_.history = ledger::recent_rehearsals(c, scope().tool_schema, LAST);
      }
    } catch (const Error &err) {
      result_.history_error = err.what();
      result_.history = {e};
    }
  }

  // Why the verdict is what it is: each a reason, blocking or a warning.
  void reasons() {
    Verdict &v = result_.verdict;
    auto add = [&](std::string kind, std::string message, bool blocking) {
      v.reasons.push_back({std::move(kind), std::move(message), blocking});
    };
    if (result_.failure) add("failure", result_.failure->what(), true);
    if (v.total_seconds > v.budget_seconds * v.safety)
      add("over_budget", fmt::format("the rehearsal took {:.1f}s, over the budget x safety ({:.1f}s x {:.2f} = {:.1f}s)",
                                     v.total_seconds, v.budget_seconds, v.safety, v.budget_seconds * v.safety), true);
    if (result_.verify && !result_.verify->ok) add("verify", "verify found differences between target and source", true);
    for (const CheckResult &c : result_.checks)
      if (!c.ok) add("check", "check '" + c.name + "' failed: " + c.detail, true);
    for (const QueryTiming &q : result_.queries) {
      std::string rule = cfg_.queries_must_not_regress ? "" : " (a warning: queries_must_not_regress is off)";
      if (!q.error.empty()) add("query", "query '" + q.name + "' failed: " + q.error + rule, cfg_.queries_must_not_regress);
      else if (q.slower)
        add("query", fmt::format("query '{}' is slower on the target: {:.2f} ms against {:.2f} ms on the source ({:.2f}x, "
                                 "tolerance {:.2f}x){}", q.name, q.target_median_ms, q.source_median_ms, q.ratio,
                                 cfg_.query_tolerance, rule),
            cfg_.queries_must_not_regress);
    }
    v.go = v.fits;
    for (const Reason &r : v.reasons)
      if (r.blocking) v.go = false;
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
