// pgcutover rehearse, phase by phase: the cutover's steps against a rehearsal
// target, each timed into one report: schema drift and the incremental sync
// (with delete detection and sequences), verify, ANALYZE of the synced tables
// several at a time, then the team's own checks. Then the verdict against the
// budget, a projection of the final sync for later start times, and the report
// files. Any failure stops the rehearsal and still writes the report of what ran.
#include <cstdio>
#include <ctime>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/rehearse/config.hpp"
#include "pgcutover/sql/statements.hpp"
#include "pgcutover/rehearse/report_files.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/util/units.hpp"

namespace pgcutover::cli {

namespace {

// "2026-11-24T13:22:26.774815Z" -> seconds since the epoch.
double epoch(const std::string &iso) {
  std::tm tm{};
  double frac = 0;
  int y, mo, d, h, mi;
  double s;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%lfZ", &y, &mo, &d, &h, &mi, &s) != 6) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = static_cast<int>(s);
  frac = s - static_cast<int>(s);
  return static_cast<double>(timegm(&tm)) + frac;
}

// Estimated final-sync seconds after `hours` without syncing: per table, the
// rows changed per second since its last point times the horizon, over the
// merge throughput measured now; tables run `jobs` at a time; the phases that
// do not scale with the changes (verify, ANALYZE, checks, drift) are added as
// measured.
nlohmann::json projection(const nlohmann::json &sync, const nlohmann::json &report, int jobs, double fixed_seconds) {
  std::map<std::string, std::pair<double, double>> work;  // table -> (range seconds, rows)
  for (const auto &r : report["ranges"]) {
    auto &w = work[r["table"].get<std::string>()];
    w.first += r["end"].get<double>() - r["start"].get<double>();
    w.second += r["rows"].get<double>();
  }
  double snap = epoch(sync.value("snapshot", nlohmann::json::object()).value("taken_at", ""));
  nlohmann::json out = nlohmann::json::array();
  for (double hours : {1.0, 6.0, 24.0}) {
    double seconds = 0;
    for (const auto &t : sync["tables"]) {
      std::string name = t["table"];
      double rows = t["rows_read"].get<double>();
      double since = epoch(t.value("watermark", ""));
      double window = snap > since && since > 0 ? snap - since : 0;
      auto w = work[name];
      double per_row = w.second > 0 ? w.first / w.second : 0;
      if (window <= 0 || per_row <= 0) continue;
      seconds += rows / window * hours * 3600 * per_row;
    }
    out.push_back({{"after", fmt::format("{:.0f}h", hours)}, {"seconds", seconds / std::max(1, jobs) + fixed_seconds}});
  }
  return out;
}

}  // namespace

int run_rehearse(const RehearseOptions &o, const CommonOptions &common) {
  rehearse::RehearsalConfig cfg = rehearse::load_rehearsal_config(o.config);
  if (!o.budget.empty()) cfg.budget = o.budget;
  double budget = static_cast<double>(util::parse_duration_ms(cfg.budget)) / 1000.0;
  report::Reporter reporter(!common.json, common.quiet);
  report::RunReport rep;
  rep.set("source", pg::display_name(pg::parse_conninfo(cfg.source)));
  rep.set("target", pg::display_name(pg::parse_conninfo(cfg.target)));
  CommonOptions inner = common;
  inner.json = false;
  inner.quiet = true;

  CopyOptions scope;
  scope.source = cfg.source;
  scope.target = cfg.target;
  scope.tables = cfg.tables;
  scope.jobs = cfg.jobs;
  scope.tool_schema = cfg.tool_schema;

  nlohmann::json sync_json = nlohmann::json::object(), verify_json = nlohmann::json::object();
  nlohmann::json checks = nlohmann::json::array();
  bool verify_ok = false;
  int checks_passed = 0;
  // Assembles and writes the report; called at the end and when a phase fails.
  auto write = [&](const std::string &failure) {
    nlohmann::json j = rep.to_json();
    double total = rep.now();
    double fixed = 0;
    for (const auto &p : j["phases"])
      if (p["phase"] != "sync_changes") fixed += p["seconds"].get<double>();
    j["command"] = "rehearse";
    j["config"] = cfg.path;
    j["sync"] = sync_json;
    j["verify"] = verify_json;
    j["verify_ok"] = verify_ok;
    j["checks"] = checks;
    j["checks_passed"] = checks_passed;
    j["failure"] = failure;
    j["verdict"] = {{"total_seconds", total}, {"budget_seconds", budget}, {"safety", cfg.safety},
                    {"margin_seconds", budget * cfg.safety - total}, {"fits", failure.empty() && total <= budget * cfg.safety}};
    j["projection"] = sync_json.contains("tables") ? projection(sync_json, j, cfg.jobs, fixed) : nlohmann::json::array();
    rehearse::write_reports(o.report_dir, j);
    return j;
  };

  try {
    // Schema drift, changed rows, deletes, sequences: the sync as the cutover runs it.
    SyncOptions s;
    s.scope = scope;
    s.overlap = cfg.overlap;
    s.allow_scan = cfg.allow_scan;
    s.deletes = cfg.deletes;
    s.final_sync = true;
    s.config = cfg.path;
    CommandOutcome so = sync_into(s, inner, rep, reporter);
    sync_json = so.json;
    if (so.exit_code != 0)
      throw Error(ErrorKind::Usage, "the sync left tables out: " + so.json["not_synced"].dump(),
                  "fix them (see report.md) and rehearse again");

    // Verify: the target equals the source at the sync's point.
    VerifyOptions v;
    v.scope = scope;
    v.mode = cfg.verify;
    CommandOutcome vo = verify_into(v, inner, rep, reporter);
    verify_json = vo.json;
    verify_ok = vo.exit_code == 0;
    if (!verify_ok) throw Error(ErrorKind::Usage, "verify found differences after the sync", "see report.md and run `pgcutover verify --mode full`");

    // ANALYZE: planner statistics are not copied; without them the new server is slow.
    {
      report::PhaseTimer t(rep, "analyze");
      std::vector<std::string> tables;
      for (const auto &tb : sync_json["tables"]) tables.push_back(tb["table"]);
      pg::SessionSettings ts = session_settings("target", scope);
      pipeline::run_each(tables, cfg.jobs, [&](const std::string &name) {
        pg::Connection c = pg::Connection::open(cfg.target, ts);
        c.exec(sql::misc::analyze(sql::parse_qualified_name(name)));
      });
    }

    // The team's own checks, the ones run before reopening traffic.
    {
      report::PhaseTimer t(rep, "user_checks");
      pg::Connection c = pg::Connection::open(cfg.target, session_settings("target", scope));
      c.exec(sql::misc::reset_search_path());  // checks are written as the application writes SQL
      for (const rehearse::Check &k : cfg.checks) {
        double t0 = rep.now();
        bool ok = false;
        std::string detail;
        try {
          pg::Result r = c.exec(k.sql);
          ok = r.rows() == 0 || (r.rows() == 1 && r.columns() == 1 && r.get(0, 0) == "t");
          if (!ok) detail = r.rows() == 1 && r.columns() == 1 ? "returned " + std::string(r.get(0, 0)) : "returned " + std::to_string(r.rows()) + " row(s)";
        } catch (const Error &e) {
          detail = e.what();
        }
        checks.push_back({{"name", k.name}, {"ok", ok}, {"detail", detail}, {"seconds", rep.now() - t0}});
        if (!ok) throw Error(ErrorKind::Usage, "user check '" + k.name + "' failed: " + detail, "the target is not ready; see report.md");
        ++checks_passed;
      }
    }
  } catch (Error &e) {
    write(e.what());
    log::error("rehearsal stopped; the report of what ran is in {}", o.report_dir);
    throw;
  }

  nlohmann::json j = write("");
  bool fits = j["verdict"]["fits"];
  if (common.json) std::printf("%s\n", j.dump(2).c_str());
  else if (!common.quiet) {
    std::printf("%s", rehearse::markdown_report(j).c_str());
    std::printf("\nreport: %s/report.html (also report.md, report.json)\n", o.report_dir.c_str());
  }
  return fits ? 0 : 3;
}

}  // namespace pgcutover::cli
