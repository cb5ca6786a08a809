// View of the verify result: a verdict per table, the differing keys (the
// first few in the text, all in the JSON), sequences, totals.
#include <fmt/format.h>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

namespace {

std::string key_text(const plan::KeyBound &k) {
  std::string out;
  for (size_t i = 0; i < k.values.size(); ++i) out += (i ? ", " : "") + k.values[i];
  return k.values.size() == 1 ? out : "(" + out + ")";
}

nlohmann::json mismatch_json(const verify::RangeVerdict &v) {
  nlohmann::json keys = nlohmann::json::array();
  for (const verify::KeyDiff &d : v.diffs) {
    nlohmann::json k = {{"key", d.key.values}, {"kind", verify::to_string(d.kind)}};
    if (!d.columns.empty()) k["columns"] = d.columns;
    keys.push_back(k);
  }
  return {{"range", v.range.id}, {"bounds", v.range.describe()}, {"source_rows", v.source.rows},
          {"target_rows", v.target.rows}, {"source_hash", v.source.hash}, {"target_hash", v.target.hash},
          {"keys", keys}, {"keys_truncated", v.diffs_truncated}, {"repaired", v.repaired},
          {"equal_after_repair", v.equal_after_repair}};
}

std::string table_text(const jobs::TableVerdict &t, bool named_keys) {
  std::string text = fmt::format("{:<40} {:<8} rows {} / {}", t.table.display(), jobs::to_string(t.status),
                                 t.source_rows, t.target_rows);
  if (t.mismatched_ranges) {
    text += fmt::format("  ranges {}/{} differ", t.mismatched_ranges, t.ranges);
    if (named_keys) text += fmt::format(": {} missing, {} extra, {} different", t.missing, t.extra, t.different);
    for (const verify::RangeVerdict &m : t.mismatches)
      for (size_t i = 0; i < m.diffs.size() && i < 5; ++i) {
        const verify::KeyDiff &d = m.diffs[i];
        text += std::string("\n    ") + verify::to_string(d.kind) + " key " + key_text(d.key);
        if (!d.columns.empty()) {
          std::string cols;
          for (const std::string &c : d.columns) cols += (cols.empty() ? "" : ", ") + c;
          text += " (columns: " + cols + ")";
        }
      }
  }
  return text + "\n";
}

}  // namespace

View verify(const jobs::VerifyResult &r, const report::RunReport &rep) {
  View v;
  bool named_keys = r.mode == verify::Mode::Full || r.repair;
  nlohmann::json tables = nlohmann::json::array(), seqs = nlohmann::json::array(), missing = nlohmann::json::array();
  for (const jobs::TableVerdict &t : r.tables) {
    nlohmann::json mism = nlohmann::json::array();
    for (const verify::RangeVerdict &m : t.mismatches) mism.push_back(mismatch_json(m));
    tables.push_back({{"table", t.table.display()}, {"status", jobs::to_string(t.status)}, {"source_rows", t.source_rows},
                      {"target_rows", t.target_rows}, {"ranges", t.ranges}, {"mismatched_ranges", t.mismatched_ranges},
                      {"missing", t.missing}, {"extra", t.extra}, {"different", t.different}, {"mismatches", mism}});
    v.text += table_text(t, named_keys);
  }
  for (const sql::QualifiedName &m : r.missing_tables) {
    missing.push_back(m.display());
    v.text += fmt::format("{:<40} {:<8} missing on the target\n", m.display(), "DIFF");
  }
  for (const verify::SequenceVerdict &s : r.sequences) {
    seqs.push_back({{"sequence", s.sequence}, {"feeds", s.table}, {"source_value", s.source_value},
                    {"target_value", s.target_value}, {"column_max", s.column_max}, {"ok", s.ok}, {"problem", s.problem}});
    if (!s.ok)
      v.text += fmt::format("sequence {:<31} DIFF     source {} target {}: {}\n", s.sequence, s.source_value,
                            s.target_value, s.problem);
  }
  double mbps = r.seconds > 0 ? static_cast<double>(r.table_bytes) / 1e6 / r.seconds : 0.0;
  v.text += fmt::format("{}: {} table(s), {} rows, {} of table data in {:.2f}s ({:.1f} MB/s), {} sequence(s) checked\n",
                        r.ok ? "OK" : "DIFFERENCES", r.tables.size(), r.rows, report::format_bytes(r.table_bytes), r.seconds,
                        mbps, r.sequences.size());
  v.json = rep.to_json();
  v.json.erase("ranges");
  v.json["command"] = "verify";
  v.json["mode"] = verify::to_string(r.mode);
  v.json["hash"] = verify::to_string(r.method);
  v.json["snapshots"] = {{"source", {{"id", r.snapshots.source.id}, {"taken_at", r.snapshots.source.taken_at}}},
                         {"target", {{"id", r.snapshots.target.id}, {"taken_at", r.snapshots.target.taken_at}}}};
  v.json["missing_tables"] = missing;
  v.json["sequences"] = seqs;
  v.json["sequences_as_of"] = r.sequences_as_of;
  v.json["source_as_of"] = r.source_as_of;
  v.json["ok"] = r.ok;
  if (r.repair) v.json["target_writes"] = {{"replica", r.target_writes.replica}, {"always_triggers", r.target_writes.always_triggers}};
  v.json["tables"] = tables;  // the verdicts, not the copy-shaped table records
  v.json["totals"] = {{"rows", r.rows}, {"bytes_hashed", r.bytes_hashed}, {"table_bytes", r.table_bytes},
                      {"seconds", r.seconds}, {"mb_per_s", mbps}};
  return v;
}

}  // namespace pgcutover::views
