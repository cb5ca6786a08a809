// Views of the copy and load results.
#include <fmt/format.h>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

View copy(const jobs::CopyResult &r, const report::RunReport &rep) {
  nlohmann::json seqs = nlohmann::json::array();
  for (const auto &c : r.sequences)
    seqs.push_back({{"sequence", c.sequence}, {"table", c.table}, {"old_value", c.old_value},
                    {"new_value", c.new_value}, {"is_called", c.new_called}});
  nlohmann::json points = nlohmann::json::array();
  for (const ledger::TablePoint &p : r.table_points)
    points.push_back({{"table", p.table.display()}, {"taken_at", p.taken_at}, {"xmin", p.xmin}});
  View v;
  v.json = rep.to_json();
  v.json["command"] = "copy";
  v.json["job"] = r.job;
  v.json["source"] = r.source;
  v.json["target"] = r.target;
  v.json["snapshot"] = to_json(r.snapshot);
  v.json["snapshot"]["txid_snapshot"] = r.snapshot.xip;
  v.json["sequences"] = seqs;
  v.json["table_points"] = points;
  v.json["resumed"] = r.resumed;
  v.json["already_finished"] = r.already_finished;
  if (r.already_finished) {
    v.json["finished_at"] = r.finished_at;
    v.text = fmt::format("job {} already finished at {}: nothing copied; rerun with --restart to copy again\n", r.job,
                         r.finished_at);
    return v;
  }
  v.json["target_writes"] = {{"replica", r.target_writes.replica}, {"always_triggers", r.target_writes.always_triggers}};
  v.text = rep.summary_text() + fmt::format("consistent point: {} (snapshot {}); {} sequence(s) set; job {}\n",
                                            r.snapshot.taken_at, r.snapshot.id, r.sequences.size(), r.job) +
           r.target_writes.summary() + "\n" +
           fmt::format("new TOAST values: {}; range commits {}; {} table(s) loaded with COPY FREEZE\n",
                       pg::describe_toast_compression(r.toast_compression),
                       r.async_commit ? "asynchronous, made durable before the job finished" : "synchronous",
                       r.frozen_tables.size());
  nlohmann::json frozen = nlohmann::json::array();
  for (const auto &n : r.frozen_tables) frozen.push_back(n.display());
  v.json["loading"] = {{"toast_compression", r.toast_compression.empty() ? "server default" : r.toast_compression},
                       {"async_commit", r.async_commit},
                       {"frozen_tables", frozen}};
  nlohmann::json early = nlohmann::json::array();
  int early_items = 0;
  for (const jobs::EarlyBuild &b : r.early_indexes) {
    early.push_back({{"table", b.table.display()}, {"items", b.items}, {"seconds", b.seconds}});
    early_items += b.items;
  }
  v.json["post_data"] = {{"index_builds", r.index_builds}, {"during_data", early}, {"after_data_items", r.post_data_after}};
  if (!r.created_tables.empty())
    v.text += fmt::format("post-data: indexes of created tables {}; {} index(es)/key(s) of {} table(s) built while "
                          "other data loaded, {} item(s) after the data\n",
                          r.index_builds, early_items, r.early_indexes.size(), r.post_data_after);
  View other = nontables(r.matviews, r.matviews_considered, r.large_objects, r.large_objects_left_out);
  v.json["objects_not_tables"] = other.json;
  v.text += other.text;
  View scans = final_sync_scans(r.final_sync_scans, sync::DEFAULT_SCAN_BELOW);
  v.json["final_sync_scans"] = scans.json;
  v.text += scans.text;
  return v;
}

View nontables(const schema::MatviewResult &matviews, bool matviews_considered,
               const std::optional<schema::LargeObjectResult> &large_objects, i64 large_objects_left_out) {
  View v;
  nlohmann::json mv = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (const schema::MatviewRefresh &m : matviews.refreshed)
    mv.push_back({{"view", m.name.display()}, {"concurrently", m.concurrently}, {"seconds", m.seconds}});
  for (const schema::MatviewSkip &m : matviews.skipped) skipped.push_back({{"view", m.name.display()}, {"why", m.why}});
  v.json["materialized_views"] = {{"considered", matviews_considered}, {"refreshed", mv}, {"not_refreshed", skipped},
                                  {"seconds", matviews.seconds}};
  if (matviews_considered && (!matviews.refreshed.empty() || !matviews.skipped.empty())) {
    int conc = 0;
    for (const schema::MatviewRefresh &m : matviews.refreshed) conc += m.concurrently;
    v.text += fmt::format("materialized views: {} refreshed ({} concurrently) in {:.2f} s", matviews.refreshed.size(), conc,
                          matviews.seconds);
    for (const schema::MatviewSkip &m : matviews.skipped) v.text += fmt::format("; {}: {}", m.name.display(), m.why);
    v.text += "\n";
  }
  if (large_objects) {
    const schema::LargeObjectResult &l = *large_objects;
    v.json["large_objects"] = {{"source", l.source_count}, {"created", l.created}, {"rewritten", l.rewritten},
                               {"unlinked", l.unlinked}, {"bytes", l.bytes}, {"seconds", l.seconds}};
    if (l.source_count > 0 || l.unlinked > 0)
      v.text += fmt::format("large objects: {} on the source; {} created, {} written again, {} removed on the target, "
                            "{} in {:.2f} s\n",
                            l.source_count, l.created, l.rewritten, l.unlinked, report::format_bytes(l.bytes), l.seconds);
  } else {
    v.json["large_objects"] = {{"left_out", large_objects_left_out}};
    if (large_objects_left_out > 0)
      v.text += fmt::format("large objects: {} on the source not taken (--table names a subset; --large-objects takes "
                            "them)\n",
                            large_objects_left_out);
  }
  return v;
}

View load(const jobs::LoadResult &r, const report::RunReport &rep) {
  View v;
  v.json = rep.to_json();
  v.json["command"] = "load";
  v.json["snapshot"] = {{"id", r.snapshot.id}, {"taken_at", r.snapshot.taken_at}, {"xmin", r.snapshot.xmin}};
  v.text = rep.summary_text();
  return v;
}

}  // namespace pgcutover::views
