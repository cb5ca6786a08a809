#include "pgcutover/sync/change_ranges.hpp"

#include <algorithm>

#include "pgcutover/sql/diff.hpp"
#include "pgcutover/sql/misc.hpp"
#include "pgcutover/sql/sync.hpp"

namespace pgcutover::sync {

std::vector<plan::KeyRange> change_ranges(pg::Connection &src, const plan::TablePlan &tp, const ChangeMethod &m,
                                          i64 range_bytes, int jobs) {
  const catalog::TableDef &t = tp.table;
  std::vector<plan::KeyRange> whole = {plan::KeyRange{0, std::nullopt, std::nullopt, t.total_bytes()}};
  if (m.scans) {
    plan::PlanOptions po;
    po.range_bytes = range_bytes;
    return plan::plan_ranges(src, t, po);
  }
  i64 changed = src.exec(sql::sync::count_where(t.name, tp.filter)).get_i64(0, 0);
  double row_bytes = static_cast<double>(t.total_bytes()) / std::max(1.0, t.reltuples);
  i64 est = static_cast<i64>(static_cast<double>(changed) * row_bytes);
  // Past a few MB the merge is worth splitting over the jobs even when the
  // change set is far below one range (perf/RESULTS.md, "sync": one range was
  // 1.19x the hand-made maneuver, three ranges 0.80x).
  i64 n = std::max<i64>(plan::range_count(est, range_bytes), est > (4 << 20) ? jobs : 1);
  if (n <= 1) return whole;
  pg::Result q = src.exec(
      sql::diff::key_quantiles(t.name, t.key_spec(), whole[0], std::max<i64>(1, changed / n), tp.filter));
  std::vector<plan::KeyRange> out;
  std::optional<plan::KeyBound> lower;
  for (int i = 0; i < q.rows() && static_cast<i64>(out.size()) < n - 1; ++i) {
    plan::KeyBound b;
    for (int j = 0; j < q.columns() - 1; ++j) b.values.emplace_back(q.get(i, j));
    out.push_back(plan::KeyRange{static_cast<i64>(out.size()), lower, b, 0});
    lower = b;
  }
  out.push_back(plan::KeyRange{static_cast<i64>(out.size()), lower, std::nullopt, 0});
  return out;
}

i64 xid_age(pg::Connection &src, const std::string &txid) {
  return src.query(sql::misc::xid_age(), {txid}).get_i64(0, 0);
}

}  // namespace pgcutover::sync
