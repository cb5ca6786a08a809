// The history of rehearsals (see rehearsals.hpp).
#include "pgcutover/ledger/rehearsals.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/ledger.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::ledger {

nlohmann::json RehearsalEntry::to_json() const {
  nlohmann::json ph = nlohmann::json::array();
  for (const auto &[name, seconds] : phases) ph.push_back({{"phase", name}, {"seconds", seconds}});
  return {{"run_at", run_at}, {"total_seconds", total_seconds}, {"sync_seconds", sync_seconds},
          {"budget_seconds", budget_seconds}, {"safety", safety}, {"fits", fits}, {"go", go}, {"phases", ph}};
}

RehearsalEntry RehearsalEntry::from_json(const nlohmann::json &j) {
  RehearsalEntry e;
  e.run_at = j.value("run_at", "");
  e.total_seconds = j.value("total_seconds", 0.0);
  e.sync_seconds = j.value("sync_seconds", 0.0);
  e.budget_seconds = j.value("budget_seconds", 0.0);
  e.safety = j.value("safety", 1.0);
  e.fits = j.value("fits", false);
  e.go = j.value("go", false);
  if (auto p = j.find("phases"); p != j.end() && p->is_array())
    for (const auto &x : *p) e.phases.emplace_back(x.value("phase", ""), x.value("seconds", 0.0));
  return e;
}

void record_rehearsal(pg::Connection &target, const std::string &tool_schema, const RehearsalEntry &e) {
  sql::Ident s{tool_schema};
  pg::Transaction txn(target);
  target.exec(sql::ledger::setup_lock());  // CREATE ... IF NOT EXISTS can still collide
  target.exec(sql::ledger::create_rehearsals(s));
  target.query(sql::ledger::insert_rehearsal(s),
               {e.run_at, std::to_string(e.total_seconds), std::to_string(e.sync_seconds), std::to_string(e.budget_seconds),
                std::to_string(e.safety), e.fits ? "true" : "false", e.go ? "true" : "false", e.to_json().dump()});
  txn.commit();
}

std::vector<RehearsalEntry> recent_rehearsals(pg::Connection &target, const std::string &tool_schema, int count) {
  pg::Result r = target.query(sql::ledger::recent_rehearsals(sql::Ident{tool_schema}), {std::to_string(count)});
  std::vector<RehearsalEntry> out;
  for (int i = r.rows() - 1; i >= 0; --i) out.push_back(RehearsalEntry::from_json(nlohmann::json::parse(r.get(i, 0))));
  return out;
}

void record_rehearsal(const std::filesystem::path &dir, const RehearsalEntry &e) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw_usage("cannot create the history folder " + dir.string() + ": " + ec.message());
  std::string stamp = e.run_at;
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  std::filesystem::path file = dir / ("rehearsal-" + stamp + "-" + std::to_string(::getpid()) + ".json");
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream f(tmp);
    f << e.to_json().dump(2) << "\n";
    if (!f) throw_usage("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, file, ec);  // whole or not at all
  if (ec) throw_usage("cannot write " + file.string() + ": " + ec.message());
}

std::vector<RehearsalEntry> recent_rehearsals(const std::filesystem::path &dir, int count) {
  std::vector<RehearsalEntry> all;
  std::error_code ec;
  for (const auto &f : std::filesystem::directory_iterator(dir, ec)) {
    if (f.path().extension() != ".json" || f.path().filename().string().rfind("rehearsal-", 0) != 0) continue;
    std::ifstream in(f.path());
    try {
      all.push_back(RehearsalEntry::from_json(nlohmann::json::parse(in)));
    } catch (const nlohmann::json::exception &) {
      // not one of ours, or cut short: skipped
    }
  }
  std::sort(all.begin(), all.end(), [](const RehearsalEntry &a, const RehearsalEntry &b) { return a.run_at < b.run_at; });
  if (static_cast<int>(all.size()) > count) all.erase(all.begin(), all.end() - count);
  return all;
}

}  // namespace pgcutover::ledger
