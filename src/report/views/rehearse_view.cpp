// View of a rehearsal: the document report.json holds (report.md and
// report.html are drawn from it), with every key present whatever phase
// stopped the rehearsal.
#include <fmt/format.h>

#include "pgcutover/rehearse/report_files.hpp"
#include "pgcutover/report/views.hpp"
#include "pgcutover/util/time.hpp"

namespace pgcutover::report::views {

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

View rehearse(const jobs::RehearseResult &r, const RunReport &rep, const std::string &source, const std::string &target,
              const std::string &config_path) {
  nlohmann::json sync_json = {{"tables", nlohmann::json::array()}};
  if (r.sync) {
    sync_json = views::sync(*r.sync, rep).json;
    for (const char *k : {"ranges", "phases"}) sync_json.erase(k);  // the rehearsal's own are at the top
    // Per table, the change rate the projection uses: rows the sync read over
    // the time from the table's point before it to the sync's snapshot.
    std::optional<util::TimePoint> snap = util::parse_iso(r.sync->snapshot.taken_at);
    for (size_t i = 0; i < r.sync->tables.size() && i < sync_json["tables"].size(); ++i) {
      const jobs::SyncedTable &t = r.sync->tables[i];
      std::optional<util::TimePoint> since = util::parse_iso(t.watermark);
      double window = snap && since ? util::seconds_between(*since, *snap) : 0;
      sync_json["tables"][i]["changes_per_hour"] =
          window > 0 ? nlohmann::json(static_cast<double>(t.rows_read) / window * 3600) : nlohmann::json(nullptr);
    }
  }
  nlohmann::json verify_json = nlohmann::json::object();
  if (r.verify) {
    verify_json = views::verify(*r.verify, rep).json;
    verify_json.erase("phases");
  }
  nlohmann::json checks = nlohmann::json::array();
  for (const jobs::CheckResult &c : r.checks)
    checks.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}, {"seconds", c.seconds}});
  nlohmann::json projection = nlohmann::json::array();
  for (const jobs::Projection &p : r.projection)
    projection.push_back({{"after", fmt::format("{:.0f}h", p.hours)}, {"seconds", p.seconds}});
  const jobs::Verdict &v = r.verdict;
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
                         {"margin_seconds", v.margin_seconds}, {"fits", v.fits}};
  out.json["projection"] = projection;
  out.text = rehearse::markdown_report(out.json);
  return out;
}

}  // namespace pgcutover::report::views
