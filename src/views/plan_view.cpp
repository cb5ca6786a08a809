// View of the plan: per table what copy would do and why, what a sync would
// do, and the drift between the catalogs.
#include <fmt/format.h>

#include <map>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

namespace {

nlohmann::json table_json(const plan::TablePlan &t, const sync::ChangeMethod &m) {
  nlohmann::json ranges = nlohmann::json::array();
  for (const plan::KeyRange &r : t.ranges)
    ranges.push_back({{"range", r.id}, {"bounds", r.describe()}, {"planned_bytes", r.planned_bytes}});
  return {{"table", t.table.name.display()},
          {"schema", t.table.name.schema},
          {"name", t.table.name.name},
          {"heap_bytes", t.table.heap_bytes},
          {"toast_bytes", t.table.toast_bytes},
          {"estimated_rows", t.table.reltuples < 0 ? nlohmann::json(nullptr) : nlohmann::json(static_cast<i64>(t.table.reltuples))},
          {"key", t.table.key},
          {"key_index", t.table.key_index.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.table.key_index)},
          {"key_is_primary", t.table.key_is_primary},
          {"key_rule", plan::describe_key(t.table)},
          {"key_order", t.key_order.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.key_order)},
          {"ranges", ranges.size()},
          {"range_list", ranges},
          {"strategy", merge::to_string(t.strategy)},
          {"strategy_reason", t.strategy_reason},
          {"format", copybin::to_string(t.format)},
          {"format_reason", t.format_reason},
          {"target_exists", t.target_exists},
          {"sync", {{"method", sync::to_string(m.kind)}, {"column", m.column}, {"scans", m.scans}, {"reason", m.reason},
                    {"warning", m.warning}, {"deletes", "not seen by a timestamp sync: use sync --deletes detect"},
                    {"time_zone", m.time_zone.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.time_zone)},
                    {"time_zone_from", m.time_zone_from}}}};
}

// 170002 -> "17.2", 100023 -> "10.23", 90624 -> "9.6.24".
std::string server_version_text(int v) {
  if (v >= 100000) return fmt::format("{}.{}", v / 10000, v % 10000);
  return fmt::format("{}.{}.{}", v / 10000, v / 100 % 100, v % 100);
}

std::string table_text(const plan::TablePlan &t, size_t w) {
  std::string key;
  for (const std::string &k : t.table.key) key += (key.empty() ? "" : ",") + k;
  if (!key.empty() && !t.table.key_is_primary) key += " by unique index " + t.table.key_index + ", no primary key";
  return fmt::format("{:<{}}  {:>10}  {:>10}  {:>12}  {:>6}  {:<6}  {:<6}  key ({}); {}; {}\n", t.table.name.display(), w,
                     report::format_bytes(t.table.heap_bytes), report::format_bytes(t.table.toast_bytes),
                     t.table.reltuples < 0 ? std::string("?") : std::to_string(static_cast<i64>(t.table.reltuples)),
                     t.ranges.size(), copybin::to_string(t.format), merge::to_string(t.strategy),
                     key.empty() ? "none" : key, t.strategy_reason, t.format_reason) +
         (t.key_order.empty() ? "" : fmt::format("{:<{}}  {}\n", "", w, t.key_order));
}

// Follow mode: whether the source allows it, what it lacks, each table's class.
View follow_view(const jobs::PlanResult &r) {
  const follow::Preflight &p = r.follow_preflight;
  View v;
  std::map<std::string, int> counts;
  for (const auto &[name, f] : r.follow_classes) ++counts[follow::to_string(f.cls)];
  v.json = {{"available", p.ok()},
            {"missing", p.missing},
            {"warnings", p.warnings},
            {"wal_level", p.wal_level},
            {"free_replication_slots", p.free_slots},
            {"free_wal_senders", p.free_wal_senders},
            {"role_may_replicate", p.may_replicate},
            {"role_may_create_publication", p.may_create_publication},
            {"replica_identity_alters_allowed", r.allow_replica_identity},
            {"classes", counts}};
  v.text = std::string("follow mode (logical decoding): ") + (p.ok() ? "the source allows it" : "NOT available now") + "\n";
  for (const std::string &m : p.missing) v.text += "  missing: " + m + "\n";
  for (const std::string &w : p.warnings) v.text += "  warning: " + w + "\n";
  std::string c;
  for (const auto &[k, n] : counts) c += (c.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  if (!c.empty()) v.text += "  classes: " + c + (r.allow_replica_identity ? " (REPLICA IDENTITY ALTERs allowed)" : "") + "\n";
  for (const plan::TablePlan &t : r.plan.tables) {
    auto f = r.follow_classes.find(t.table.name.display());
    if (f == r.follow_classes.end()) continue;
    v.text += fmt::format("  {:<38} {:<18} {}\n", t.table.name.display(), follow::to_string(f->second.cls), f->second.reason);
  }
  return v;
}

}  // namespace

View final_sync_scans(const std::vector<sync::FinalSyncScan> &scans, i64 scan_below, bool ahead) {
  View v;
  v.json = nlohmann::json::array();
  if (scans.empty()) return v;
  i64 scanned = 0, refused = 0;
  double seconds = 0;
  std::string lines;
  for (const sync::FinalSyncScan &s : scans) {
    v.json.push_back({{"table", s.table}, {"method", sync::to_string(s.method.kind)}, {"bytes", s.cost.bytes},
                      {"estimated_seconds", s.cost.seconds}, {"refused_without_allow_scan", s.cost.too_big},
                      {"choices", s.choices}});
    if (s.cost.too_big) ++refused; else { ++scanned; seconds += s.cost.seconds; }
    lines += fmt::format("  {:<38} {:>10}  est. {:>6.1f} s  {}\n", s.table, report::format_bytes(s.cost.bytes), s.cost.seconds,
                         s.cost.too_big ? "REFUSED by the final sync unless --allow-scan (above --scan-below)"
                                        : "scanned (below --scan-below)");
    if (s.cost.too_big && !s.choices.empty()) lines += fmt::format("    choices: {}\n", s.choices);
  }
  v.text = fmt::format("{} {} table(s) whole (--scan-below {}): {} scanned (est. {:.1f} s in all at "
                       "{:.0f} MB/s), {} refused unless --allow-scan:\n",
                       ahead ? "the final sync reads" : "this sync's change detection read", scans.size(), report::format_bytes(scan_below), scanned, seconds, sync::SCAN_BYTES_PER_SECOND / 1e6, refused) +
           lines;
  return v;
}

View plan(const jobs::PlanResult &r) {
  const plan::Plan &p = r.plan;
  View v;
  nlohmann::json tables = nlohmann::json::array(), refused = nlohmann::json::array(), drift = nlohmann::json::array();
  size_t w = 5;
  for (const plan::TablePlan &t : p.tables) w = std::max(w, t.table.name.display().size());
  w = std::min<size_t>(w, 60);
  v.text = fmt::format("source: PostgreSQL {}, target: PostgreSQL {}\n", server_version_text(p.source_version),
                       server_version_text(p.target_version));
  v.text += fmt::format("{:<{}}  {:>10}  {:>10}  {:>12}  {:>6}  {:<6}  {:<6}  {}\n", "table", w, "heap", "toast", "est. rows",
                       "ranges", "format", "strat.", "key / why");
  std::string sync_text = "sync (change detection per table):\n";
  for (const plan::TablePlan &t : p.tables) {
    const sync::ChangeMethod &m = r.change_methods.at(t.table.name.display());
    tables.push_back(table_json(t, m));
    if (auto f = r.follow_classes.find(t.table.name.display()); f != r.follow_classes.end())
      tables.back()["follow"] = {{"class", follow::to_string(f->second.cls)},
                                 {"reason", f->second.reason},
                                 {"alter", f->second.alter.empty() ? nlohmann::json(nullptr) : nlohmann::json(f->second.alter)}};
    v.text += table_text(t, w);
    sync_text += fmt::format("  {:<38} {:<10} {}{}{}\n", t.table.name.display(), sync::to_string(m.kind), m.reason,
                             m.time_zone.empty() ? "" : "; local times read in " + m.time_zone + " (" + m.time_zone_from + ")",
                             m.warning.empty() ? "" : "; warning: " + m.warning);
  }
  v.text += fmt::format("{} table(s), {} range(s), {}\n", p.tables.size(), p.total_ranges(), report::format_bytes(p.total_bytes()));
  for (const plan::Refusal &x : p.refused) {
    refused.push_back({{"table", x.table}, {"reason", x.reason}});
    v.text += "refused: " + x.table + ": " + x.reason + "\n";
  }
  if (r.schema_objects > 0) v.text += fmt::format("the copy creates {} schema object(s) from pg_dump's archive\n", r.schema_objects);
  if (!r.schema_problem.empty()) v.text += "refused: " + r.schema_problem + "\n";
  v.text += sync_text;
  View scans = final_sync_scans(r.final_sync_scans, r.scan_below);
  v.text += scans.text;
  View follow = follow_view(r);
  v.text += follow.text;
  for (const sync::Drift &d : r.drift) {
    drift.push_back(to_json(d));
    v.text += drift_line(d);
  }
  v.json = {{"source_version", server_version_text(p.source_version)},
            {"target_version", server_version_text(p.target_version)},
            {"source_version_num", p.source_version},
            {"target_version_num", p.target_version},
            {"tables", tables},
            {"refused", refused},
            {"whole_database", p.whole_database},
            {"total_bytes", p.total_bytes()},
            {"total_ranges", p.total_ranges()},
            {"drift", drift},
            {"schema_objects", r.schema_objects},
            {"schema_problem", r.schema_problem},
            {"final_sync_scans", scans.json},
            {"follow", follow.json}};
  return v;
}

}  // namespace pgcutover::views
