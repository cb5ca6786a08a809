#include "pgcutover/sync/change_ranges.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "pgcutover/sql/diff.hpp"
#include "pgcutover/sql/misc.hpp"
#include "pgcutover/sql/sync.hpp"
#include "pgcutover/util/error.hpp"

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

std::vector<ChangeCounts> count_changes(pg::Connection &src, const std::vector<sql::sync::ChangeCountItem> &items,
                                        const std::string &point_iso, size_t batch,
                                        const std::function<void()> &after_batch) {
  std::vector<ChangeCounts> out(items.size());
  batch = std::max<size_t>(batch, 1);
  for (size_t from = 0; from < items.size(); from += batch) {
    std::vector<sql::sync::ChangeCountItem> part(items.begin() + static_cast<std::ptrdiff_t>(from),
                                                 items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), from + batch)));
    pg::Result r = src.exec(sql::sync::change_counts(part, point_iso));
    if (static_cast<size_t>(r.rows()) != part.size()) throw_internal("change counts: one row per table expected");
    for (int i = 0; i < r.rows(); ++i) {
      ChangeCounts &c = out.at(from + static_cast<size_t>(r.get_i64(i, 0)));
      c.changed = r.get_i64(i, 1);
      c.null_stamped = r.get_i64(i, 2);
      c.future_stamped = r.get_i64(i, 3);
    }
    if (after_batch) after_batch();
  }
  return out;
}

std::vector<plan::KeyRange> change_ranges(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp,
                                          const ChangeMethod &m, i64 changed, i64 range_bytes, int jobs) {
  const catalog::TableDef &t = tp.table;
  if (m.scans) {
    plan::PlanOptions po;
    po.range_bytes = range_bytes;
    po.source_order = true;  // read by the source only (delete detection cuts its own)
    return plan::plan_ranges(src, t, po);
  }
  // Nothing changed in the snapshot the ranges read: no range at all.
  if (changed == 0) return {};
  double row_bytes = static_cast<double>(t.total_bytes()) / std::max(1.0, t.reltuples);
  i64 est = static_cast<i64>(static_cast<double>(changed) * row_bytes);
  // Past a few MB the merge is worth splitting over the jobs even when the
  // change set is far below one range (perf/RESULTS.md, "sync": one range was
  // 1.19x the hand-made maneuver, three ranges 0.80x).
  bool worth_splitting = est > (4 << 20);
  // Rows inserted on the source since (keys above the target's largest) skip
  // the stage and the upsert; only worth a range of their own in a larger sync.
  std::optional<i64> fresh = worth_splitting ? first_new_key(dst, t) : std::nullopt;
  plan::KeyRange existing{0, std::nullopt, std::nullopt, t.total_bytes()};  // the keys the target may hold: merged
  i64 to_merge = changed;
  if (fresh) {
    existing.upper = plan::KeyBound{{std::to_string(*fresh)}};
    to_merge = src.exec(sql::sync::count_below(t.name, tp.filter, t.key[0], *fresh)).get_i64(0, 0);
  }
  auto bytes = [&](i64 rows) { return static_cast<i64>(static_cast<double>(rows) * row_bytes); };
  i64 n = std::max<i64>(plan::range_count(bytes(to_merge), range_bytes), worth_splitting ? jobs : 1);
  std::vector<plan::KeyRange> out;
  if (!fresh || to_merge > 0) {
    // The merged part cut at its changed rows' key quantiles, so each job
    // gets as many of them.
    // Cut and read in the source's own order of the key, through its index
    // (plan::KeyRange::source_order).
    const bool source_order = t.key_orders_differ();
    std::optional<plan::KeyBound> lower;
    if (n > 1) {
      pg::Result q = src.exec(sql::diff::key_quantiles(t.name, t.key_spec(source_order), existing,
                                                       std::max<i64>(1, to_merge / n), tp.filter));
      for (int i = 0; i < q.rows() && static_cast<i64>(out.size()) < n - 1; ++i) {
        plan::KeyBound b;
        for (int j = 0; j < q.columns() - 1; ++j) b.values.emplace_back(q.get(i, j));
        out.push_back(plan::KeyRange{static_cast<i64>(out.size()), lower, b, 0});
        lower = b;
      }
    }
    out.push_back(plan::KeyRange{static_cast<i64>(out.size()), lower, existing.upper, 0});
    for (plan::KeyRange &r : out) {
      r.planned_bytes = bytes(to_merge) / static_cast<i64>(out.size());
      r.source_order = source_order && n > 1;
    }
  }
  if (fresh && changed > to_merge) {
    plan::KeyRange r{static_cast<i64>(out.size()), existing.upper, std::nullopt, bytes(changed - to_merge)};
    r.new_keys = true;
    out.push_back(std::move(r));
  }
  return out;
}

i64 xid_age(pg::Connection &src, const std::string &txid) {
  return src.query(sql::misc::xid_age(), {txid}).get_i64(0, 0);
}

}  // namespace pgcutover::sync
