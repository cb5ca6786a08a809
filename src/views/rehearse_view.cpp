// View of a rehearsal: the document report.json holds (report.md and
// report.html are drawn from it), with every key present whatever phase
// stopped the rehearsal.
#include <fmt/format.h>

#include <algorithm>

#include "pgcutover/rehearse/report_files.hpp"
#include "pgcutover/views/views.hpp"
#include "pgcutover/util/time.hpp"

namespace pgcutover::views {

namespace {

// The phase that stopped the rehearsal, from what it left: no (complete) sync,
// no (equal) verify, a failed check; else ANALYZE, the one phase between.
std::string failed_phase(const jobs::RehearseResult &r) {
  if (!r.sync || !r.sync->ok()) return "sync";
  if (!r.verify || !r.verify->ok) return "verify";
  for (const jobs::CheckResult &c : r.checks)
    if (!c.ok) return "user_checks";
  return "analyze";
}

}  // namespace

View rehearse(const jobs::RehearseResult &r, const report::RunReport &rep, const std::string &source, const std::string &target,
              const std::string &config_path) {
  nlohmann::json sync_json = {{"tables", nlohmann::json::array()}};
  if (r.sync) {
    sync_json = views::sync(*r.sync, rep).json;
    for (const char *k : {"ranges", "phases"}) sync_json.erase(k);  // the rehearsal's own are at the top
    // Per table, what the projection uses: the change rate (rows the sync
    // read over the time from the table's point before it to the sync's
    // snapshot) and the merge cost per row measured in this sync.
    for (nlohmann::json &t : sync_json["tables"]) {
      t["changes_per_hour"] = nullptr;
      t["merge_seconds_per_row"] = nullptr;
      t["sync_seconds"] = 0.0;
      for (const jobs::TableRate &tr : r.rates) {
        if (tr.table != t["table"].get<std::string>()) continue;
        if (tr.changes_per_hour) t["changes_per_hour"] = *tr.changes_per_hour;
        if (tr.merge_seconds_per_row) t["merge_seconds_per_row"] = *tr.merge_seconds_per_row;
        t["sync_seconds"] = tr.sync_seconds;
      }
    }
  }
  // The slowest tables of the sync, by their ranges' seconds.
  std::vector<jobs::TableRate> slow = r.rates;
  std::stable_sort(slow.begin(), slow.end(), [](const auto &a, const auto &b) { return a.sync_seconds > b.sync_seconds; });
  if (slow.size() > 5) slow.resize(5);
  nlohmann::json slowest = nlohmann::json::array();
  for (const jobs::TableRate &t : slow) slowest.push_back({{"table", t.table}, {"sync_seconds", t.sync_seconds}});
  nlohmann::json verify_json = nlohmann::json::object();
  if (r.verify) {
    verify_json = views::verify(*r.verify, rep).json;
    verify_json.erase("phases");
  }
  nlohmann::json checks = nlohmann::json::array();
  for (const jobs::CheckResult &c : r.checks)
    checks.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}, {"seconds", c.seconds}});
  const jobs::Verdict &v = r.verdict;
  double limit = v.budget_seconds * v.safety;
  nlohmann::json projection = nlohmann::json::array();
  for (const jobs::Projection &p : r.projection)
    projection.push_back({{"after", fmt::format("{:.0f}h", p.hours)}, {"hours", p.hours}, {"seconds", p.seconds},
                          {"budget_seconds", v.budget_seconds}, {"limit_seconds", limit}, {"fits", p.seconds <= limit}});
  nlohmann::json latest = {{"hours", nullptr}, {"at", nullptr}, {"limit_seconds", limit},
                           {"reason", r.latest_last_sync.reason}};
  if (!r.sync) latest["reason"] = "no projection: the sync did not finish";
  if (r.latest_last_sync.hours) latest["hours"] = *r.latest_last_sync.hours;
  if (!r.latest_last_sync.at.empty()) latest["at"] = r.latest_last_sync.at;
  nlohmann::json queries = nlohmann::json::array();
  for (const jobs::QueryTiming &q : r.queries)
    queries.push_back({{"name", q.name}, {"source_ms", q.source_ms}, {"target_ms", q.target_ms},
                       {"source_median_ms", q.source_median_ms}, {"target_median_ms", q.target_median_ms},
                       {"ratio", q.ratio}, {"slower", q.slower}, {"error", q.error}});
  nlohmann::json reasons = nlohmann::json::array();
  for (const jobs::Reason &x : v.reasons)
    reasons.push_back({{"kind", x.kind}, {"message", x.message}, {"blocking", x.blocking}});
  nlohmann::json history = nlohmann::json::array();
  for (const ledger::RehearsalEntry &e : r.history) history.push_back(e.to_json());
  View out;
  out.json = rep.to_json();
  out.json["command"] = "rehearse";
  out.json["config"] = config_path;
  out.json["source"] = source;
  out.json["target"] = target;
  out.json["sync"] = sync_json;
  out.json["verify"] = verify_json;
  out.json["verify_ok"] = r.verify && r.verify->ok;
  out.json["checks"] = checks;
  out.json["checks_passed"] = r.checks_passed;
  out.json["failure"] = r.failure ? std::string(r.failure->what()) : std::string();
  out.json["failure_detail"] = nullptr;
  if (r.failure) {
    std::string table = r.failure->table;
    for (const jobs::CheckResult &c : r.checks)
      if (!c.ok && table.empty()) table = "check: " + c.name;
    out.json["failure_detail"] = {{"phase", failed_phase(r)},
                                  {"table", table},
                                  {"message", std::string(r.failure->what())},
                                  {"sqlstate", r.failure->sqlstate},
                                  {"hint", r.failure->hint}};
  }
  out.json["verdict"] = {{"total_seconds", v.total_seconds}, {"budget_seconds", v.budget_seconds}, {"safety", v.safety},
                         {"margin_seconds", v.margin_seconds}, {"fits", v.fits},
                         {"go", v.go}, {"reasons", reasons}};
  out.json["projection"] = projection;
  out.json["latest_last_sync"] = latest;
  out.json["slowest_tables"] = slowest;
  out.json["queries"] = queries;
  out.json["query_tolerance"] = r.query_tolerance;
  out.json["queries_must_not_regress"] = r.queries_must_not_regress;
  out.json["started_at"] = r.started_at;
  out.json["sync_seconds"] = r.sync_seconds;
  out.json["history"] = history;
  out.json["history_where"] = r.history_where;
  out.json["history_error"] = r.history_error;
  out.text = rehearse::markdown_report(out.json);
  return out;
}

}  // namespace pgcutover::views
