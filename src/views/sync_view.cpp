// Views of the sync and sequences results.
#include <fmt/format.h>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

namespace {

nlohmann::json sequence_json(const sequences::SequenceChange &c) {
  return {{"sequence", c.sequence}, {"table", c.table}, {"old_value", c.old_value}, {"new_value", c.new_value}};
}

}  // namespace

View sync(const jobs::SyncResult &r, const report::RunReport &rep) {
  View v;
  nlohmann::json tables = nlohmann::json::array(), drift = nlohmann::json::array(), seqs = nlohmann::json::array();
  for (const jobs::SyncedTable &t : r.tables) {
    std::string deleted = t.deleted ? std::to_string(*t.deleted) + " deleted" : "deletes not detected";
    tables.push_back({{"table", t.table.display()},
                      {"method", sync::to_string(t.method.kind)},
                      {"column", t.method.column},
                      {"reason", t.method.reason},
                      {"warning", t.method.warning},
                      {"since", t.since},
                      {"time_zone", t.method.time_zone.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.method.time_zone)},
                      {"time_zone_from", t.method.time_zone_from},
                      {"widened_seconds", t.widened_s},
                      {"watermark", t.watermark},
                      {"rows_read", t.rows_read},
                      {"rows_written", t.rows_written},
                      {"rows_appended", t.rows_appended},
                      {"deleted", t.deleted ? nlohmann::json(*t.deleted) : nlohmann::json("not detected")},
                      {"null_stamped", t.null_stamped ? nlohmann::json(*t.null_stamped) : nlohmann::json(nullptr)},
                      {"future_stamped", t.future_stamped ? nlohmann::json(*t.future_stamped) : nlohmann::json(nullptr)}});
    v.text += fmt::format("{:<40} {:<10} {:>9} read {:>9} written  {}  since {}{}{}\n", t.table.display(),
                          sync::to_string(t.method.kind), t.rows_read, t.rows_written, deleted, t.since,
                          t.method.time_zone.empty() ? "" : " (local times in " + t.method.time_zone + ", " + t.method.time_zone_from + ")",
                          t.widened_s > 0 ? fmt::format(", moved back {} across a DST fall-back", report::format_duration(t.widened_s)) : "");
  }
  for (const sync::Drift &d : r.drift) {
    drift.push_back(to_json(d));
    v.text += drift_line(d);
  }
  for (const std::string &n : r.not_synced) v.text += "not synced: " + n + "\n";
  for (const auto &c : r.sequences) seqs.push_back(sequence_json(c));
  if (!r.deletes_detected) v.text += "deletes are not seen by a timestamp sync: use --deletes detect\n";
  v.text += fmt::format("synced up to {} (snapshot {}){}\n", r.snapshot.taken_at, r.snapshot.id,
                        r.final_sync ? fmt::format("; {} sequence(s) set", r.sequences.size()) : "");
  if (!r.snapshot.changes_from_holder.empty())
    v.text += fmt::format("next sync reads from {}: {} was open for {} at the snapshot\n", r.snapshot.changes_from,
                          r.snapshot.changes_from_holder, report::format_duration(r.snapshot.changes_from_age_s));
  v.text += r.target_writes.summary() + "\n";
  v.text += "new TOAST values: " + pg::describe_toast_compression(r.toast_compression) + "\n";
  nlohmann::json copied = nlohmann::json::array();
  for (const auto &n : r.copied_tables) copied.push_back(n.display());
  v.json = rep.to_json();
  v.json["command"] = "sync";
  v.json["snapshot"] = to_json(r.snapshot);
  v.json["tables"] = tables;
  v.json["drift"] = drift;
  v.json["not_synced"] = r.not_synced;
  v.json["copied_tables"] = copied;
  v.json["sequences"] = seqs;
  v.json["target_writes"] = {{"replica", r.target_writes.replica}, {"always_triggers", r.target_writes.always_triggers}};
  v.json["toast_compression"] = r.toast_compression.empty() ? "server default" : r.toast_compression;
  v.json["deletes"] = r.deletes_detected ? "detected" : "not detected: a timestamp sync cannot see deleted rows";
  View scans = final_sync_scans(r.scans, r.scan_below, false);
  v.json["final_sync_scans"] = scans.json;
  v.text += scans.text;
  View other = nontables(r.matviews, r.matviews_considered, r.large_objects, r.large_objects_left_out);
  v.json["objects_not_tables"] = other.json;
  v.text += other.text;
  return v;
}

View sequences(const jobs::SequencesResult &r) {
  View v;
  nlohmann::json list = nlohmann::json::array();
  for (const auto &c : r.changes) {
    list.push_back({{"sequence", c.sequence}, {"table", c.table}, {"old_value", c.old_value}, {"old_is_called", c.old_called},
                    {"new_value", c.new_value}, {"new_is_called", c.new_called}});
    v.text += fmt::format("{:<40} {:>20} -> {:<20} {}\n", c.sequence, c.old_value, c.new_value, c.table);
  }
  v.json = {{"sequences", list}};
  return v;
}

}  // namespace pgcutover::views
