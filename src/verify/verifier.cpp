// Verification and repair (see verifier.hpp for what a digest covers).
#include "pgcutover/pg/target_checks.hpp"
#include "pgcutover/verify/verifier.hpp"
#include "pgcutover/diff/buckets.hpp"

#include "pgcutover/pg/probe.hpp"

#include <xxhash.h>

#include <atomic>
#include <future>
#include <map>

#include "pgcutover/copybin/framer.hpp"
#include "pgcutover/pg/copy_stream.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/pipeline/conn_pool.hpp"
#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/sql/copy.hpp"
#include "pgcutover/sql/verify.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::verify {

namespace {

constexpr size_t KEYS_PER_STATEMENT = 500;

sql::KeySpec key_spec(const catalog::TableDef &t) { return t.key_spec(); }

std::string hex64(u64 v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
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

// A table rewritten on the source after the snapshot reads empty in it: its
// digest is not the table's, and a repair by it would delete the target's rows.
constexpr const char *NOT_COMPARED = "this verify's reads of it are not the table: it was neither compared nor repaired";

void check_source_read(pg::Connection &src, const catalog::TableDef &t) {
  pg::check_read_not_rewritten(src, t.oid, t.name.display(), NOT_COMPARED);
}

Digest digest_range(pg::Connection &conn, const plan::TablePlan &tp, const plan::KeyRange &range, Mode mode,
                    HashMethod method, sql::RowHash hash) {
  const catalog::TableDef &t = tp.table;
  if (mode == Mode::Count) return diff::count_range(conn, t, range);
  if (method == HashMethod::Server || !t.has_key()) return diff::hash_range(conn, t, range, hash);
  // Client: XXH3 over the COPY stream in key order. Equal values have equal
  // binary (or text) forms for equal types, so equal streams mean equal rows.
  Digest d;
  XXH3_state_t *st = XXH3_createState();
  XXH3_64bits_reset(st);
  try {
    pg::CopyOut out(conn, sql::verify::ordered_copy_out(t.name, t.compared_columns(), key_spec(t), range, tp.format));
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

// One COPY from the source into one COPY on the target, counted three ways
// (the source's count, the frames, the target's count).
void copy_rows(pg::Connection &src, pg::Connection &dst, const std::string &copy_out_sql, const std::string &copy_in_sql,
               copybin::StreamFormat format, int columns) {
  pg::CopyIn in(dst, copy_in_sql);
  pg::CopyOut out(src, copy_out_sql);
  copybin::Framer framer(format, columns);
  while (auto m = out.next()) {
    framer.feed(*m);
    in.put(*m);
  }
  framer.finish();
  i64 stored = in.finish();
  if (stored != out.server_rows() || stored != framer.tuples())
    throw Error(ErrorKind::DataFormat, "repair: row counts disagree; nothing was committed");
}

void repair_keys(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp, const std::vector<KeyDiff> &diffs) {
  const catalog::TableDef &t = tp.table;
  std::vector<plan::KeyBound> extra, upsert;
  for (const KeyDiff &d : diffs) (d.kind == DiffKind::Extra ? extra : upsert).push_back(d.key);
  std::vector<std::string> cols = t.column_names();
  const std::string stage = "pgcutover_repair";
  pg::Transaction txn(dst);
  diff::delete_keys(dst, t, extra);
  if (!upsert.empty()) {
    dst.exec(sql::create_stage_table(stage, t.name, cols));
    for (size_t at = 0; at < upsert.size(); at += KEYS_PER_STATEMENT) {
      std::vector<plan::KeyBound> batch(upsert.begin() + static_cast<long>(at),
                                        upsert.begin() + static_cast<long>(std::min(upsert.size(), at + KEYS_PER_STATEMENT)));
      copy_rows(src, dst, sql::verify::copy_out_keys(t.name, cols, key_spec(t), batch, tp.format),
                sql::copy_in_stage(stage, cols, tp.format), tp.format, static_cast<int>(cols.size()));
    }
    dst.exec(sql::upsert_from_stage(t.name, sql::temp_stage_ref(stage), cols, t.key));
  }
  check_source_read(src, t);
  txn.commit();
}

// A table without a primary key cannot be repaired row by row: all its rows
// are replaced from the source's snapshot, in one transaction.
void replace_rows(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp) {
  const catalog::TableDef &t = tp.table;
  std::vector<std::string> cols = t.column_names();
  pg::Transaction txn(dst);
  pg::empty_for_reload(dst, t.name);
  copy_rows(src, dst, sql::copy_out(t.name, cols, key_spec(t), plan::KeyRange{}, tp.format, ""),
            sql::copy_in(t.name, cols, tp.format), tp.format, static_cast<int>(cols.size()));
  check_source_read(src, t);
  txn.commit();
}

// The rows one round of finding differing keys by buckets holds in memory.
static i64 bucket_budget(const VerifyOptions &opt) { return std::max<i64>(4 * opt.max_keys_per_range, 65536); }

std::vector<RangeVerdict> run_verify(const plan::Plan &plan, const pg::Endpoints &ends, const SnapshotPair &snaps,
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
    pg::pin_reader(c);
    pg::import_snapshot(c, snap);
    return c;
  };
  pipeline::ConnPool sources([&] { return snapshot_conn(ends.source_conninfo, ends.source_settings, snaps.source.id); }, jobs);
  pipeline::ConnPool targets([&] { return snapshot_conn(ends.target_conninfo, ends.target_settings, snaps.target.id); }, jobs);
  const sql::RowHash hash = [&] {
    auto src = sources.acquire();
    auto dst = targets.acquire();
    return sql::row_hash_for(snaps.source.server_version, snaps.target.server_version, pg::same_encoding(*src, *dst));
  }();

  // A table verified by buckets of its key (buckets.hpp): its one range is
  // the whole table. Its digests are kept for the repair when they differ.
  auto bucketed = [&](const plan::TablePlan &tp) { return opt.mode != Mode::Count && diff::by_buckets(tp.table); };
  std::vector<std::optional<std::pair<diff::BucketDigest, diff::BucketDigest>>> kept(verdicts.size());

  // Each task digests the source side on a second thread, so both servers work at once.
  pipeline::run_each(verdicts, jobs, [&](RangeVerdict &rv) {
    RangeVerdict *v = &rv;
    try {
      auto src = sources.acquire();
      auto dst = targets.acquire();
      try {
        if (bucketed(*v->table)) {
          u32 n = diff::bucket_count(v->table->table);
          const catalog::TableDef &t = v->table->table;
          const copybin::StreamFormat f = v->table->format;
          std::future<diff::BucketDigest> sf = std::async(std::launch::async, [&] {
            diff::BucketDigest d = diff::digest_buckets(*src, t, f, n);
            check_source_read(*src, v->table->table);
            return d;
          });
          diff::BucketDigest td;
          try {
            td = diff::digest_buckets(*dst, t, f, n);
          } catch (...) {
            sf.wait();
            throw;
          }
          diff::BucketDigest sd = sf.get();
          v->source = sd.digest;
          v->target = td.digest;
          v->equal = v->source == v->target;
          if (!v->equal && (opt.mode == Mode::Full || opt.repair)) {
            v->diffs = diff::localize_buckets(*src, *dst, t, f, sd, td, bucket_budget(opt), &v->diffs_truncated);
            if (static_cast<i64>(v->diffs.size()) > opt.max_keys_per_range) {
              v->diffs.resize(static_cast<size_t>(opt.max_keys_per_range));  // the rest: found again by the repair
              v->diffs_truncated = true;
            }
            check_source_read(*src, v->table->table);
          }
          if (!v->equal && opt.repair) kept[static_cast<size_t>(v - verdicts.data())].emplace(std::move(sd), std::move(td));
        } else {
          std::future<Digest> sf = std::async(std::launch::async, [&] {
            Digest d = digest_range(*src, *v->table, v->range, opt.mode, opt.method, hash);
            check_source_read(*src, v->table->table);
            return d;
          });
          Digest td;
          try {
            td = digest_range(*dst, *v->table, v->range, opt.mode, opt.method, hash);
          } catch (...) {
            sf.wait();
            throw;
          }
          v->source = sf.get();
          v->target = td;
          v->equal = v->source == v->target;
          if (!v->equal && (opt.mode == Mode::Full || opt.repair)) {
            v->diffs = diff::localize(*src, *dst, v->table->table, v->range, opt.max_keys_per_range, &v->diffs_truncated);
            check_source_read(*src, v->table->table);
          }
        }
      } catch (...) {
        src.discard();
        dst.discard();
        throw;
      }
      // Each side's locks released between ranges.
      src.renew_snapshot(snaps.source.id);
      dst.renew_snapshot(snaps.target.id);
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
      const std::string name = v.table->table.name.display();
      auto src = sources.acquire();
      pg::Connection writer = pg::Connection::open(ends.target_conninfo, ends.target_settings);
      if (const auto &digests = kept[static_cast<size_t>(&v - verdicts.data())]) {
        // By buckets: repaired, digested again on the target, until its buckets are the source's.
        const auto &[sd, td] = *digests;
        std::vector<KeyDiff> todo = v.diffs;
        bool more = v.diffs_truncated;
        diff::BucketDigest now = td;
        for (int round = 0; round < 1000 && !todo.empty(); ++round) {
          if (more) log::info("{}: more than {} differing keys; repairing in rounds", name, opt.max_keys_per_range);
          repair_keys(*src, writer, *v.table, todo);
          v.repaired = true;
          now = diff::digest_buckets(writer, v.table->table, v.table->format, static_cast<u32>(sd.rows.size()));
          todo = diff::localize_buckets(*src, writer, v.table->table, v.table->format, sd, now, bucket_budget(opt), &more);
        }
        v.equal_after_repair = sd.digest == now.digest;
        continue;
      }
      if (!v.table->table.has_key()) {
        log::warn("{}: differs and has no primary key: replacing all its rows", name);
        replace_rows(*src, writer, *v.table);
        v.repaired = true;
      } else {
        // More differences than listed: repair in rounds until none remain.
        if (v.diffs_truncated)
          log::info("{} range {}: more than {} differing keys; repairing in rounds", name, v.range.id, opt.max_keys_per_range);
        std::vector<KeyDiff> todo = v.diffs;  // v.diffs keeps what was found, for the report
        for (int round = 0; round < 1000 && !todo.empty(); ++round) {
          repair_keys(*src, writer, *v.table, todo);
          v.repaired = true;
          bool more = false;
          todo = diff::localize(*src, writer, v.table->table, v.range, opt.max_keys_per_range, &more);
        }
      }
      // Re-verify against the target as it now is.
      Digest a = digest_range(*src, *v.table, v.range, opt.mode == Mode::Count ? Mode::Hash : opt.mode, opt.method, hash);
      Digest b = digest_range(writer, *v.table, v.range, opt.mode == Mode::Count ? Mode::Hash : opt.mode, opt.method, hash);
      v.equal_after_repair = a == b;
    }
  }
  return verdicts;
}

}  // namespace pgcutover::verify
