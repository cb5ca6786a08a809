// Range planning. Why sampling, not min..max: keys can be sparse, skewed,
// negative, text or uuid, and a table with a small heap and a large TOAST must
// still split by its bytes. So the server samples rows (TABLESAMPLE), returns
// their keys in key order (its operators decide order, never ours; text-like
// keys under COLLATE "C" when the two servers could disagree, see
// sql::KeySpec) with each row's stored size, and we cut where the cumulative sampled
// bytes cross k/n of the total. Each range then holds about the same bytes, as
// far as the sample tells. Range predicates compare the key with >= and <,
// which the primary-key index serves on every PostgreSQL version (a ctid range
// scans the whole table before PostgreSQL 14).
#include "pgcutover/plan/range_planner.hpp"

#include <algorithm>
#include <cmath>

#include "pgcutover/sql/plan.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::plan {

std::string KeyRange::describe() const {
  auto show = [](const std::optional<KeyBound> &b, const char *open) {
    if (!b) return std::string(open);
    std::string out;
    for (size_t i = 0; i < b->values.size(); ++i) out += (i ? ", " : "") + b->values[i];
    return b->values.size() == 1 ? out : "(" + out + ")";
  };
  return "[" + show(lower, "-inf") + ", " + show(upper, "+inf") + ")" + (new_keys ? " new keys" : "");
}

i64 range_count(i64 total_bytes, i64 range_bytes) {
  if (range_bytes <= 0) return 1;
  return std::max<i64>(1, (total_bytes + range_bytes - 1) / range_bytes);
}

std::vector<KeyRange> cut_ranges(const std::vector<Sample> &samples, i64 n_ranges, i64 table_bytes) {
  std::vector<KeyRange> out;
  if (n_ranges <= 1 || samples.size() < 2) {
    out.push_back(KeyRange{0, std::nullopt, std::nullopt, table_bytes});
    return out;
  }
  long double total = 0;
  for (const Sample &s : samples) total += static_cast<long double>(std::max<i64>(s.bytes, 1));
  std::vector<size_t> cuts;  // sample index whose key starts a new range
  long double acc = 0;
  i64 next = 1;
  for (size_t i = 0; i < samples.size() && next < n_ranges; ++i) {
    // The boundary is the first sample past k/n of the weight, so the range
    // before it holds at most its share plus one sampled row.
    if (acc >= total * next / n_ranges && i > 0 && (cuts.empty() || cuts.back() != i)) {
      cuts.push_back(i);
      ++next;
    }
    acc += static_cast<long double>(std::max<i64>(samples[i].bytes, 1));
  }
  std::optional<KeyBound> lower;
  i64 id = 0;
  size_t prev = 0;
  for (size_t c : cuts) {
    if (lower && samples[c].key == *lower) continue;
    long double w = 0;
    for (size_t i = prev; i < c; ++i) w += std::max<i64>(samples[i].bytes, 1);
    out.push_back(KeyRange{id++, lower, samples[c].key, static_cast<i64>(table_bytes * (w / total))});
    lower = samples[c].key;
    prev = c;
  }
  long double w = 0;
  for (size_t i = prev; i < samples.size(); ++i) w += std::max<i64>(samples[i].bytes, 1);
  out.push_back(KeyRange{id++, lower, std::nullopt, static_cast<i64>(table_bytes * (w / total))});
  return out;
}

std::vector<KeyRange> plan_ranges(pg::Connection &conn, const catalog::TableDef &table, const PlanOptions &opt) {
  i64 n = range_count(table.total_bytes(), opt.range_bytes);
  if (n <= 1 || !table.has_key()) return cut_ranges({}, 1, table.total_bytes());
  const bool source_order = opt.source_order && table.key_orders_differ();

  double rows = table.reltuples;
  if (rows <= 0) {
    // Never analyzed: count the heap once (TOAST is not read by count(*)).
    pg::Result r = conn.exec(sql::count_rows(table.name));
    rows = static_cast<double>(r.get_i64(0, 0));
  }
  i64 want = std::clamp<i64>(n * 1000, 20000, opt.max_sample_rows);
  double pct = rows <= 0 ? 100.0 : std::min(100.0, 100.0 * static_cast<double>(want) / rows);
  // BERNOULLI reads every heap page but samples rows evenly; SYSTEM picks
  // whole pages and is the only affordable choice for a very large heap.
  std::string sample_clause = sql::tablesample(table.heap_bytes > (1ll << 30) && pct < 50, pct);
  pg::Result r = conn.exec(sql::sample_keys(table.name, table.key_spec(source_order),
                                            table.column_names(), sample_clause));
  std::vector<Sample> samples;
  samples.reserve(static_cast<size_t>(r.rows()));
  int nkey = static_cast<int>(table.key.size());
  for (int i = 0; i < r.rows(); ++i) {
    Sample s;
    for (int k = 0; k < nkey; ++k) s.key.values.emplace_back(r.get(i, k));
    s.bytes = r.get_i64(i, nkey);
    samples.push_back(std::move(s));
  }
  log::debug("{}: {} sampled rows for {} ranges", table.name.display(), samples.size(), n);
  std::vector<KeyRange> out = cut_ranges(samples, n, table.total_bytes());
  for (KeyRange &k : out) k.source_order = source_order;
  return out;
}

}  // namespace pgcutover::plan
