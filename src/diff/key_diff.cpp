// Key-set comparison and bisection (see key_diff.hpp).
#include "pgcutover/diff/key_diff.hpp"

#include "pgcutover/pg/probe.hpp"

#include <algorithm>
#include <map>

#include "pgcutover/sql/diff.hpp"

namespace pgcutover::diff {

namespace {

constexpr i64 KEY_BY_KEY_ROWS = 5000;  // below this, compare keys one by one
constexpr i64 BISECT_WAYS = 16;
constexpr int MAX_DEPTH = 12;
constexpr size_t KEYS_PER_STATEMENT = 500;

sql::KeySpec key_spec(const catalog::TableDef &t) { return t.key_spec(); }

// The key-set parameters of a batch of keys.
std::vector<pg::Param> key_params(const catalog::TableDef &t, const std::vector<plan::KeyBound> &keys) {
  std::vector<pg::Param> out;
  for (std::string &a : sql::key_set_params(key_spec(t), keys)) out.emplace_back(std::move(a));
  return out;
}

// Calls f on consecutive batches of at most KEYS_PER_STATEMENT keys.
template <typename F>
void in_batches(const std::vector<plan::KeyBound> &keys, F &&f) {
  for (size_t at = 0; at < keys.size(); at += KEYS_PER_STATEMENT) {
    std::vector<plan::KeyBound> batch(keys.begin() + static_cast<long>(at),
                                      keys.begin() + static_cast<long>(std::min(keys.size(), at + KEYS_PER_STATEMENT)));
    f(batch);
  }
}

using KeyMap = std::map<std::vector<std::string>, std::string>;

KeyMap key_hashes(pg::Connection &c, const catalog::TableDef &t, const plan::KeyRange &range, sql::RowHash hash) {
  pg::Result r = c.exec(sql::diff::key_hashes(t.name, t.compared_columns(), key_spec(t), range, hash));
  KeyMap out;
  int nk = static_cast<int>(t.key.size());
  for (int i = 0; i < r.rows(); ++i) {
    std::vector<std::string> k;
    for (int j = 0; j < nk; ++j) k.emplace_back(r.get(i, j));
    out.emplace(std::move(k), std::string(r.get(i, nk)));
  }
  return out;
}

// Column values (as text, nullopt for NULL) of rows by key.
std::map<std::vector<std::string>, std::vector<std::optional<std::string>>> rows_by_keys(
    pg::Connection &c, const catalog::TableDef &t, const std::vector<plan::KeyBound> &keys) {
  std::map<std::vector<std::string>, std::vector<std::optional<std::string>>> out;
  int nk = static_cast<int>(t.key.size());
  std::string query = sql::diff::rows_by_keys(t.name, t.compared_columns(), key_spec(t));
  in_batches(keys, [&](const std::vector<plan::KeyBound> &batch) {
    pg::Result r = c.query(query, key_params(t, batch));
    for (int i = 0; i < r.rows(); ++i) {
      std::vector<std::string> k;
      for (int j = 0; j < nk; ++j) k.emplace_back(r.get(i, j));
      std::vector<std::optional<std::string>> vals;
      for (int j = nk; j < r.columns(); ++j) vals.push_back(r.get_opt(i, j));
      out.emplace(std::move(k), std::move(vals));
    }
  });
  return out;
}

void compare_keys(pg::Connection &src, pg::Connection &dst, const catalog::TableDef &t, const plan::KeyRange &range,
                  i64 max_keys, std::vector<KeyDiff> &out, bool *truncated, sql::RowHash hash) {
  KeyMap a = key_hashes(src, t, range, hash), b = key_hashes(dst, t, range, hash);
  std::vector<plan::KeyBound> different;
  auto add = [&](const std::vector<std::string> &k, DiffKind kind) {
    if (static_cast<i64>(out.size()) >= max_keys) {
      if (truncated) *truncated = true;
      return;
    }
    out.push_back({plan::KeyBound{k}, kind, {}});
    if (kind == DiffKind::Different) different.push_back(plan::KeyBound{k});
  };
  for (const auto &[k, h] : a) {
    auto it = b.find(k);
    if (it == b.end()) add(k, DiffKind::Missing);
    else if (it->second != h) add(k, DiffKind::Different);
  }
  for (const auto &[k, h] : b)
    if (!a.count(k)) add(k, DiffKind::Extra);
  if (different.empty()) return;
  // Name the columns that differ.
  auto sv = rows_by_keys(src, t, different), tv = rows_by_keys(dst, t, different);
  for (KeyDiff &d : out) {
    if (d.kind != DiffKind::Different) continue;
    auto s = sv.find(d.key.values), v = tv.find(d.key.values);
    if (s == sv.end() || v == tv.end()) continue;
    for (size_t c = 0; c < t.columns.size() && c < s->second.size(); ++c)
      if (s->second[c] != v->second[c]) d.columns.push_back(t.columns[c].name);
  }
}

void bisect(pg::Connection &src, pg::Connection &dst, const catalog::TableDef &t, const plan::KeyRange &range,
            const Digest &sd, const Digest &td, i64 max_keys, std::vector<KeyDiff> &out, bool *truncated, int depth,
            sql::RowHash hash) {
  if (static_cast<i64>(out.size()) >= max_keys) {
    if (truncated) *truncated = true;
    return;
  }
  i64 rows = std::max(sd.rows, td.rows);
  if (rows <= KEY_BY_KEY_ROWS || depth > MAX_DEPTH) {
    compare_keys(src, dst, t, range, max_keys, out, truncated, hash);
    return;
  }
  // Cut at key quantiles of the side with more rows, so extra rows split too.
  pg::Connection &cutter = sd.rows >= td.rows ? src : dst;
  pg::Result q = cutter.exec(sql::diff::key_quantiles(t.name, key_spec(t), range, std::max<i64>(1, rows / BISECT_WAYS)));
  std::vector<plan::KeyBound> cuts;
  for (int i = 0; i < q.rows(); ++i) {
    plan::KeyBound b;
    for (int j = 0; j < q.columns() - 1; ++j) b.values.emplace_back(q.get(i, j));  // last column: row number
    if (range.lower && b == *range.lower) continue;
    cuts.push_back(std::move(b));
  }
  std::optional<plan::KeyBound> lower = range.lower;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    plan::KeyRange sub{range.id, lower, i < cuts.size() ? std::optional(cuts[i]) : range.upper, 0};
    Digest a = hash_range(src, t, sub, hash);
    Digest b = hash_range(dst, t, sub, hash);
    if (!(a == b)) bisect(src, dst, t, sub, a, b, max_keys, out, truncated, depth + 1, hash);
    if (i < cuts.size()) lower = cuts[i];
  }
}

}  // namespace

const char *to_string(DiffKind k) {
  return k == DiffKind::Missing ? "missing" : k == DiffKind::Extra ? "extra" : "different";
}

Digest count_range(pg::Connection &conn, const catalog::TableDef &t, const plan::KeyRange &range) {
  pg::Result r = conn.exec(sql::diff::count_range(t.name, key_spec(t), range));
  return Digest{r.get_i64(0, 0), "", 0};
}

Digest hash_range(pg::Connection &conn, const catalog::TableDef &t, const plan::KeyRange &range, sql::RowHash hash) {
  pg::Result r = conn.exec(sql::diff::server_digest(t.name, t.compared_columns(), key_spec(t), range, hash));
  return Digest{r.get_i64(0, 0), std::string(r.get(0, 1)), 0};
}

std::vector<KeyDiff> localize(pg::Connection &src, pg::Connection &dst, const catalog::TableDef &t,
                              const plan::KeyRange &range, i64 max_keys, bool *truncated) {
  std::vector<KeyDiff> out;
  if (!t.has_key()) return out;
  Digest a = count_range(src, t, range);
  Digest b = count_range(dst, t, range);
  bisect(src, dst, t, range, a, b, max_keys, out, truncated, 0,
         sql::row_hash_for(src.server_version(), dst.server_version(), pg::same_encoding(src, dst)));
  return out;
}

catalog::TableDef key_only(const catalog::TableDef &table) {
  catalog::TableDef k = table;
  k.columns.clear();
  for (size_t i = 0; i < table.key.size(); ++i) {
    // A generated key column is not among the copied columns: its name and type come from the key.
    if (const catalog::ColumnDef *c = table.find_column(table.key[i])) {
      k.columns.push_back(*c);
    } else {
      catalog::ColumnDef g;
      g.name = table.key[i];
      g.type = i < table.key_types.size() ? table.key_types[i] : "";
      g.not_null = true;
      k.columns.push_back(g);
    }
  }
  return k;
}

i64 delete_keys(pg::Connection &conn, const catalog::TableDef &t, const std::vector<plan::KeyBound> &keys) {
  i64 n = 0;
  std::string statement = sql::diff::delete_keys(t.name, key_spec(t));
  in_batches(keys, [&](const std::vector<plan::KeyBound> &batch) {
    n += conn.query(statement, key_params(t, batch)).affected_rows();
  });
  return n;
}

}  // namespace pgcutover::diff
