// View of a traffic run: totals, then per table what the writer did.
#include <fmt/format.h>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

View traffic(const jobs::TrafficResult &r, const std::string &source) {
  View v;
  v.text = fmt::format("traffic on {}: {} transaction(s) in {:.1f}s ({:.1f}/s of {:.1f}/s asked), {} skipped{}\n", source,
                       r.transactions, r.seconds, r.achieved, r.rate, r.skipped,
                       r.stopped_early ? "; interrupted" : "");
  v.text += fmt::format("{:<32} {:>6} {:>8} {:>7} {:>7} {:>7} {:>12}  {}\n", "table", "share", "updates", "inserts",
                        "deletes", "skipped", "rows changed", "change column");
  nlohmann::json tables = nlohmann::json::array();
  for (const traffic::TableCounts &t : r.tables) {
    v.text += fmt::format("{:<32} {:>5.0f}% {:>8} {:>7} {:>7} {:>7} {:>12}  {}\n", t.table, t.weight * 100, t.updates,
                          t.inserts_possible || t.inserts ? std::to_string(t.inserts) : std::string("-"), t.deletes,
                          t.skipped, t.rows_changed, t.change_column.empty() ? "(none)" : t.change_column);
    if (!t.skip_reason.empty()) v.text += fmt::format("  skipped {}: {}\n", t.table, t.skip_reason);
    tables.push_back({{"table", t.table}, {"weight", t.weight}, {"change_column", t.change_column},
                      {"inserts_possible", t.inserts_possible}, {"updates", t.updates}, {"inserts", t.inserts},
                      {"deletes", t.deletes}, {"skipped", t.skipped}, {"skip_reason", t.skip_reason},
                      {"rows_changed", t.rows_changed}});
  }
  for (const std::string &l : r.left_out) v.text += fmt::format("left out {}\n", l);
  v.json = {{"command", "traffic"},   {"source", source},         {"transactions", r.transactions},
            {"skipped", r.skipped},   {"seconds", r.seconds},     {"rate", r.rate},
            {"achieved", r.achieved}, {"stopped_early", r.stopped_early}, {"tables", tables},
            {"left_out", r.left_out}};
  return v;
}

}  // namespace pgcutover::views
