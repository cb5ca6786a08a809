// Verification and repair (see verifier.hpp for what a digest covers).
#include "pgcutover/verify/verifier.hpp"

#include <xxhash.h>

#include <atomic>
#include <future>
#include <map>

#include "pgcutover/copybin/framer.hpp"
#include "pgcutover/pg/copy_stream.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/pipeline/conn_pool.hpp"
#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/sql/statements.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::verify {

namespace {

constexpr i64 KEY_BY_KEY_ROWS = 5000;  // below this, compare keys one by one
constexpr i64 BISECT_WAYS = 16;
constexpr size_t KEYS_PER_STATEMENT = 500;

sql::KeySpec key_spec(const catalog::TableDef &t) { return {t.key, t.key_types}; }

std::string hex64(u64 v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

using KeyMap = std::map<std::vector<std::string>, std::string>;

KeyMap key_hashes(pg::Connection &c, const plan::TablePlan &tp, const plan::KeyRange &range) {
  const catalog::TableDef &t = tp.table;
  pg::Result r = c.exec(sql::verify::key_hashes(t.name, t.column_names(), key_spec(t), range));
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
    pg::Connection &c, const plan::TablePlan &tp, const std::vector<plan::KeyBound> &keys) {
  const catalog::TableDef &t = tp.table;
  std::map<std::vector<std::string>, std::vector<std::optional<std::string>>> out;
  int nk = static_cast<int>(t.key.size());
  for (size_t at = 0; at < keys.size(); at += KEYS_PER_STATEMENT) {
    std::vector<plan::KeyBound> batch(keys.begin() + static_cast<long>(at),
                                      keys.begin() + static_cast<long>(std::min(keys.size(), at + KEYS_PER_STATEMENT)));
    pg::Result r = c.exec(sql::verify::rows_by_keys(t.name, t.column_names(), key_spec(t), batch));
    for (int i = 0; i < r.rows(); ++i) {
      std::vector<std::string> k;
      for (int j = 0; j < nk; ++j) k.emplace_back(r.get(i, j));
      std::vector<std::optional<std::string>> vals;
      for (int j = nk; j < r.columns(); ++j) vals.push_back(r.get_opt(i, j));
      out.emplace(std::move(k), std::move(vals));
    }
  }
  return out;
}

void compare_keys(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp, const plan::KeyRange &range,
                  i64 max_keys, std::vector<KeyDiff> &out, bool *truncated) {
  KeyMap a = key_hashes(src, tp, range), b = key_hashes(dst, tp, range);
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
  auto sv = rows_by_keys(src, tp, different), tv = rows_by_keys(dst, tp, different);
  for (KeyDiff &d : out) {
    if (d.kind != DiffKind::Different) continue;
    auto s = sv.find(d.key.values), t = tv.find(d.key.values);
    if (s == sv.end() || t == tv.end()) continue;
    for (size_t c = 0; c < tp.table.columns.size() && c < s->second.size(); ++c)
      if (s->second[c] != t->second[c]) d.columns.push_back(tp.table.columns[c].name);
  }
}

void bisect(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp, const plan::KeyRange &range,
            const Digest &sd, const Digest &td, i64 max_keys, std::vector<KeyDiff> &out, bool *truncated, int depth) {
  if (static_cast<i64>(out.size()) >= max_keys) {
    if (truncated) *truncated = true;
    return;
  }
  i64 rows = std::max(sd.rows, td.rows);
  if (rows <= KEY_BY_KEY_ROWS || depth > 12) {
    compare_keys(src, dst, tp, range, max_keys, out, truncated);
    return;
  }
  // Cut at key quantiles of the side with more rows, so extra rows split too.
  pg::Connection &cutter = sd.rows >= td.rows ? src : dst;
  const catalog::TableDef &t = tp.table;
  pg::Result q = cutter.exec(sql::verify::key_quantiles(t.name, key_spec(t), range, std::max<i64>(1, rows / BISECT_WAYS)));
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
    Digest a = digest_range(src, tp, sub, Mode::Hash, HashMethod::Server);
    Digest b = digest_range(dst, tp, sub, Mode::Hash, HashMethod::Server);
    if (!(a == b)) bisect(src, dst, tp, sub, a, b, max_keys, out, truncated, depth + 1);
    if (i < cuts.size()) lower = cuts[i];
  }
}

}  // namespace

Mode parse_mode(const std::string &t) {
  if (t == "count") return Mode::Count;
  if (t == "hash") return Mode::Hash;
  if (t == "full") return Mode::Full;
  throw_usage("unknown verify mode '" + t + "'", "use count, hash or full");
}
HashMethod parse_method(const std::string &t) {
  if (t == "server") return HashMethod::Server;
  if (t == "client") return HashMethod::Client;
  throw_usage("unknown hash method '" + t + "'", "use client or server");
}
const char *to_string(Mode m) { return m == Mode::Count ? "count" : m == Mode::Hash ? "hash" : "full"; }
const char *to_string(HashMethod m) { return m == HashMethod::Server ? "server" : "client"; }
const char *to_string(DiffKind k) {
  return k == DiffKind::Missing ? "missing" : k == DiffKind::Extra ? "extra" : "different";
}

Digest digest_range(pg::Connection &conn, const plan::TablePlan &tp, const plan::KeyRange &range, Mode mode,
                    HashMethod method) {
  const catalog::TableDef &t = tp.table;
  Digest d;
  if (mode == Mode::Count || method == HashMethod::Server || !t.has_key()) {
    pg::Result r = conn.exec(mode == Mode::Count
                                 ? sql::verify::count_range(t.name, key_spec(t), range)
                                 : sql::verify::server_digest(t.name, t.column_names(), key_spec(t), range));
    d.rows = r.get_i64(0, 0);
    d.hash = mode == Mode::Count ? "" : std::string(r.get(0, 1));
    return d;
  }
  // Client: XXH3 over the COPY stream in key order. Equal values have equal
  // binary (or text) forms for equal types, so equal streams mean equal rows.
  XXH3_state_t *st = XXH3_createState();
  XXH3_64bits_reset(st);
  try {
    pg::CopyOut out(conn, sql::verify::ordered_copy_out(t.name, t.column_names(), key_spec(t), range, tp.format));
    while (auto m = out.next()) {
      XXH3_64bits_update(st, m->data(), m->size());
      d.bytes += static_cast<i64>(m->size());
    }
    d.rows = out.server_rows();
  } catch (...) {
    XXH3_freeState(st);
    throw;
  }
  d.hash = hex64(XXH3_64bits_digest(st));
  XXH3_freeState(st);
  return d;
}

std::vector<KeyDiff> localize(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp,
                              const plan::KeyRange &range, i64 max_keys, bool *truncated) {
  std::vector<KeyDiff> out;
  if (!tp.table.has_key()) return out;
  Digest a = digest_range(src, tp, range, Mode::Count, HashMethod::Server);
  Digest b = digest_range(dst, tp, range, Mode::Count, HashMethod::Server);
  bisect(src, dst, tp, range, a, b, max_keys, out, truncated, 0);
  return out;
}

void repair_keys(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp, const std::vector<KeyDiff> &diffs) {
  const catalog::TableDef &t = tp.table;
  std::vector<plan::KeyBound> extra, upsert;
  for (const KeyDiff &d : diffs) (d.kind == DiffKind::Extra ? extra : upsert).push_back(d.key);
  std::vector<std::string> cols = t.column_names();
  const std::string stage = "pgcutover_repair";
  pg::Transaction txn(dst);
  for (size_t at = 0; at < extra.size(); at += KEYS_PER_STATEMENT) {
    std::vector<plan::KeyBound> batch(extra.begin() + static_cast<long>(at),
                                      extra.begin() + static_cast<long>(std::min(extra.size(), at + KEYS_PER_STATEMENT)));
    dst.exec(sql::verify::delete_keys(t.name, key_spec(t), batch));
  }
  if (!upsert.empty()) {
    dst.exec(sql::create_stage_table(stage, t.name, cols));
    for (size_t at = 0; at < upsert.size(); at += KEYS_PER_STATEMENT) {
      std::vector<plan::KeyBound> batch(upsert.begin() + static_cast<long>(at),
                                        upsert.begin() + static_cast<long>(std::min(upsert.size(), at + KEYS_PER_STATEMENT)));
      pg::CopyIn in(dst, sql::copy_in_stage(stage, cols, tp.format));
      pg::CopyOut out(src, sql::verify::copy_out_keys(t.name, cols, key_spec(t), batch, tp.format));
      copybin::Framer framer(tp.format, static_cast<int>(cols.size()));
      while (auto m = out.next()) {
        framer.feed(*m);
        in.put(*m);
      }
      framer.finish();
      i64 stored = in.finish();
      if (stored != out.server_rows() || stored != framer.tuples())
        throw Error(ErrorKind::DataFormat, "repair: row counts disagree; nothing was committed");
    }
    dst.exec(sql::upsert_from_stage(t.name, "pg_temp." + sql::quote_ident(stage), cols, t.key));
  }
  txn.commit();
}

std::vector<RangeVerdict> run_verify(const plan::Plan &plan, const pipeline::Endpoints &ends, const SnapshotPair &snaps,
                                     const VerifyOptions &opt, report::RunReport &report) {
  std::vector<RangeVerdict> verdicts;
  for (const plan::TablePlan &tp : plan.tables)
    for (const plan::KeyRange &r : tp.ranges) {
      RangeVerdict v;
      v.table = &tp;
      v.range = r;
      verdicts.push_back(std::move(v));
      report.progress.ranges_total++;
      report.progress.planned_total += std::max<i64>(r.planned_bytes, 1);
    }
  int jobs = std::max(1, opt.jobs);
  auto snapshot_conn = [](const std::string &conninfo, const pg::SessionSettings &s, const std::string &snap) {
    pg::Connection c = pg::Connection::open(conninfo, s);
    c.exec("SET enable_seqscan = off");
    pg::import_snapshot(c, snap);
    return c;
  };
  pipeline::ConnPool sources([&] { return snapshot_conn(ends.source_conninfo, ends.source_settings, snaps.source.id); }, jobs);
  pipeline::ConnPool targets([&] { return snapshot_conn(ends.target_conninfo, ends.target_settings, snaps.target.id); }, jobs);

  // Each task digests the source side on a second thread, so both servers work at once.
  pipeline::run_each(verdicts, jobs, [&](RangeVerdict &rv) {
    RangeVerdict *v = &rv;
    try {
      auto src = sources.acquire();
      auto dst = targets.acquire();
      try {
        std::future<Digest> sf = std::async(std::launch::async, [&] {
          return digest_range(*src, *v->table, v->range, opt.mode, opt.method);
        });
        Digest td;
        try {
          td = digest_range(*dst, *v->table, v->range, opt.mode, opt.method);
        } catch (...) {
          sf.wait();
          throw;
        }
        v->source = sf.get();
        v->target = td;
        v->equal = v->source == v->target;
        if (!v->equal && (opt.mode == Mode::Full || opt.repair))
          v->diffs = localize(*src, *dst, *v->table, v->range, opt.max_keys_per_range, &v->diffs_truncated);
      } catch (...) {
        src.discard();
        dst.discard();
        throw;
      }
      report.progress.ranges_done.fetch_add(1, std::memory_order_relaxed);
      report.progress.planned_done.fetch_add(v->range.planned_bytes, std::memory_order_relaxed);
      report.progress.bytes.fetch_add(v->source.bytes, std::memory_order_relaxed);
      report.progress.bytes_done.fetch_add(v->source.bytes, std::memory_order_relaxed);
      report.progress.rows.fetch_add(v->source.rows, std::memory_order_relaxed);
    } catch (Error &e) {
      if (e.table.empty()) e.table = v->table->table.name.display();
      if (!e.range_id) e.range_id = v->range.id;
      throw;
    }
  });

  if (opt.repair) {
    for (RangeVerdict &v : verdicts) {
      if (v.equal) continue;
      if (!v.table->table.has_key()) {
        log::warn("{}: differs, but has no primary key: cannot repair it key by key", v.table->table.name.display());
        continue;
      }
      if (v.diffs_truncated) {
        // More differences than listed: repair in rounds until none remain.
        log::info("{} range {}: more than {} differing keys; repairing in rounds", v.table->table.name.display(),
                  v.range.id, opt.max_keys_per_range);
      }
      auto src = sources.acquire();
      pg::Connection writer = pg::Connection::open(ends.target_conninfo, ends.target_settings);
      std::vector<KeyDiff> todo = v.diffs;  // v.diffs keeps what was found, for the report
      for (int round = 0; round < 1000 && !todo.empty(); ++round) {
        repair_keys(*src, writer, *v.table, todo);
        v.repaired = true;
        bool more = false;
        todo = localize(*src, writer, *v.table, v.range, opt.max_keys_per_range, &more);
      }
      // Re-verify against the target as it now is.
      Digest a = digest_range(*src, *v.table, v.range, opt.mode == Mode::Count ? Mode::Hash : opt.mode, opt.method);
      Digest b = digest_range(writer, *v.table, v.range, opt.mode == Mode::Count ? Mode::Hash : opt.mode, opt.method);
      v.equal_after_repair = a == b;
    }
  }
  return verdicts;
}

}  // namespace pgcutover::verify
