#include "pgcutover/sync/change_ranges.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "pgcutover/sql/diff.hpp"
#include "pgcutover/sql/misc.hpp"
#include "pgcutover/sql/sync.hpp"

namespace pgcutover::sync {

namespace {

// The smallest and largest value of an integer key type, by its base type oid.
std::optional<std::pair<i64, i64>> integer_limits(u32 base_type_oid) {
  switch (base_type_oid) {
    case 21: return std::pair<i64, i64>{std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max()};
    case 23: return std::pair<i64, i64>{std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    case 20: return std::pair<i64, i64>{std::numeric_limits<i64>::min(), std::numeric_limits<i64>::max()};
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<i64> first_new_key(pg::Connection &dst, const catalog::TableDef &t) {
  if (t.key.size() != 1 || t.relkind != 'r') return std::nullopt;
  const catalog::ColumnDef *c = t.find_column(t.key[0]);
  std::optional<std::pair<i64, i64>> limits = c ? integer_limits(c->base_type_oid) : std::nullopt;
  if (!limits) return std::nullopt;
  pg::Result r = dst.exec(sql::sync::largest_key(t.name, t.key[0]));
  if (r.rows() != 1 || r.get(0, 1) != "r") return std::nullopt;  // partitioned or otherwise shaped on the target
  if (r.is_null(0, 0)) return limits->first;                       // empty: every key is new
  i64 largest = std::stoll(std::string(r.get(0, 0)));
  if (largest >= limits->second) return std::nullopt;
  return largest + 1;
}

std::vector<plan::KeyRange> split_at_new_keys(const std::vector<plan::KeyRange> &ranges, i64 from) {
  auto value = [](const std::optional<plan::KeyBound> &b) { return std::stoll(b->values.at(0)); };
  plan::KeyBound cut{{std::to_string(from)}};
  std::vector<plan::KeyRange> out;
  auto add = [&](std::optional<plan::KeyBound> lo, std::optional<plan::KeyBound> hi, bool fresh) {
    plan::KeyRange r{static_cast<i64>(out.size()), std::move(lo), std::move(hi), 0};
    r.new_keys = fresh;
    out.push_back(std::move(r));
  };
  for (const plan::KeyRange &r : ranges) {
    bool below = r.upper && value(r.upper) <= from;  // [lo, hi) with hi <= from: existing keys only
    bool above = r.lower && value(r.lower) >= from;
    if (below) add(r.lower, r.upper, false);
    else if (above) add(r.lower, r.upper, true);
    else {
      add(r.lower, cut, false);
      add(cut, r.upper, true);
    }
  }
  return out;
}

std::vector<plan::KeyRange> change_ranges(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp,
                                          const ChangeMethod &m, i64 range_bytes, int jobs) {
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
  bool worth_splitting = est > (4 << 20);
  i64 n = std::max<i64>(plan::range_count(est, range_bytes), worth_splitting ? jobs : 1);
  // Rows inserted on the source since (keys above the target's largest) skip
  // the stage and the upsert; only worth a range of their own in a larger sync.
  std::optional<i64> fresh = worth_splitting ? first_new_key(dst, t) : std::nullopt;
  if (n <= 1) return fresh ? split_at_new_keys(whole, *fresh) : whole;
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
  return fresh ? split_at_new_keys(out, *fresh) : out;
}

i64 xid_age(pg::Connection &src, const std::string &txid) {
  return src.query(sql::misc::xid_age(), {txid}).get_i64(0, 0);
}

}  // namespace pgcutover::sync
