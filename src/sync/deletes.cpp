// Delete detection (see deletes.hpp): key sets compared with diff/.
#include "pgcutover/sync/deletes.hpp"

#include <algorithm>
#include <mutex>
#include <optional>

#include "pgcutover/diff/buckets.hpp"
#include "pgcutover/diff/key_diff.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/pipeline/conn_pool.hpp"
#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::sync {

namespace {
constexpr i64 KEYS_PER_ROUND = 10000;
constexpr i64 BUCKET_ROWS_PER_ROUND = 65536;  // rows held by a round by buckets
}  // namespace

std::map<std::string, i64> delete_missing_rows(const plan::Plan &plan, const pg::Endpoints &ends,
                                               const pg::SnapshotInfo &snap, int jobs) {
  // Key-only views of the tables: a "row" is its key, so a digest compares key sets.
  std::vector<catalog::TableDef> keys_only;
  keys_only.reserve(plan.tables.size());
  for (const plan::TablePlan &tp : plan.tables) keys_only.push_back(diff::key_only(tp.table));
  struct Work {
    const catalog::TableDef *table;
    plan::KeyRange range;
  };
  std::vector<Work> work;
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    if (diff::by_buckets(keys_only[i])) {  // compared whole, by buckets: one item, whatever its ranges
      work.push_back({&keys_only[i], plan::KeyRange{}});
      continue;
    }
    for (const plan::KeyRange &r : plan.tables[i].ranges) work.push_back({&keys_only[i], r});
  }
  std::map<std::string, i64> deleted;
  std::mutex mu;
  // Connections are reused across ranges (a run over thousands of tables
  // would otherwise open two per range); the source's snapshot is renewed
  // after each range, which releases its locks (ConnPool::Lease::renew_snapshot).
  int n_jobs = std::max(1, jobs);
  pipeline::ConnPool sources(
      [&] {
        pg::Connection c = pg::Connection::open(ends.source_conninfo, ends.source_settings);
        pg::import_snapshot(c, snap);
        return c;
      },
      n_jobs);
  pipeline::ConnPool targets([&] { return pg::Connection::open(ends.target_conninfo, ends.target_settings); }, n_jobs);
  pipeline::run_each(work, n_jobs, [&](const Work &w) {
    auto src = sources.acquire();
    auto dst = targets.acquire();
    i64 n = 0;
    try {
      // A key the servers order differently: the key sets compared by
      // buckets of the key (diff/buckets.hpp), one read per side and round,
      // instead of C-order ranges both would scan whole, one per range.
      const copybin::StreamFormat f =
          w.table->text_only_column() ? copybin::StreamFormat::Text : copybin::StreamFormat::Binary;
      std::optional<diff::BucketDigest> source_buckets;
      if (diff::by_buckets(*w.table)) source_buckets = diff::digest_buckets(*src, *w.table, f, diff::bucket_count(*w.table));
      u32 from_bucket = 0;  // the buckets before it are done: their extra keys deleted
      for (;;) {
        bool more = false;
        std::vector<diff::KeyDiff> diffs;
        if (source_buckets) {
          diff::BucketDigest target = diff::digest_buckets(*dst, *w.table, f, static_cast<u32>(source_buckets->rows.size()));
          diffs = diff::localize_buckets(*src, *dst, *w.table, f, *source_buckets, target, BUCKET_ROWS_PER_ROUND, &more,
                                         from_bucket, &from_bucket);
        } else {
          diffs = diff::localize(*src, *dst, *w.table, w.range, KEYS_PER_ROUND, &more);
        }
        std::vector<plan::KeyBound> extra;
        for (const diff::KeyDiff &d : diffs)
          if (d.kind == diff::DiffKind::Extra) extra.push_back(d.key);
        if (extra.empty()) {
          if (source_buckets && more) continue;  // none in these buckets: the next ones
          break;
        }
        // The keys were read in the snapshot: a table truncated or rewritten
        // since looks empty there, and every target row would look extra.
        pg::check_read_not_rewritten(*src, w.table->oid, w.table->name.display(), "no row of it was deleted on the target");
        pg::Transaction txn(*dst);
        n += diff::delete_keys(*dst, *w.table, extra);
        txn.commit();
        if (!more) break;
      }
    } catch (...) {
      src.discard();
      dst.discard();
      throw;
    }
    src.renew_snapshot(snap.id);
    std::lock_guard lk(mu);
    deleted[w.table->name.display()] += n;
  });
  for (const auto &[t, n] : deleted)
    if (n) log::info("{}: deleted {} row(s) the source no longer has", t, n);
  return deleted;
}

}  // namespace pgcutover::sync
