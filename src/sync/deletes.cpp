#include "pgcutover/sync/deletes.hpp"


#include <mutex>

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/sql/statements.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/verify/verifier.hpp"

namespace pgcutover::sync {

std::map<std::string, i64> delete_missing_rows(const plan::Plan &plan, const pipeline::Endpoints &ends,
                                               const pg::SnapshotInfo &snap, int jobs) {
  // Key-only views of the tables: a "row" is its key, so a digest compares key sets.
  std::vector<plan::TablePlan> keys_only;
  for (const plan::TablePlan &tp : plan.tables) {
    plan::TablePlan k = tp;
    k.table.columns.clear();
    for (const std::string &c : tp.table.key) k.table.columns.push_back(*tp.table.find_column(c));
    keys_only.push_back(std::move(k));
  }
  struct Work {
    const plan::TablePlan *tp;
    plan::KeyRange range;
  };
  std::vector<Work> work;
  for (const plan::TablePlan &k : keys_only)
    for (const plan::KeyRange &r : k.ranges) {
      plan::KeyRange whole = r;
      work.push_back({&k, whole});
    }
  std::map<std::string, i64> deleted;
  std::mutex mu;
  pipeline::run_each(work, jobs, [&](const Work &w) {
      pg::Connection src = pg::Connection::open(ends.source_conninfo, ends.source_settings);
      pg::import_snapshot(src, snap.id);
      pg::Connection dst = pg::Connection::open(ends.target_conninfo, ends.target_settings);
      i64 n = 0;
      for (;;) {
        bool more = false;
        std::vector<verify::KeyDiff> diffs = verify::localize(src, dst, *w.tp, w.range, 10000, &more);
        std::vector<plan::KeyBound> extra;
        for (const verify::KeyDiff &d : diffs)
          if (d.kind == verify::DiffKind::Extra) extra.push_back(d.key);
        if (extra.empty()) break;
        pg::Transaction txn(dst);
        for (size_t at = 0; at < extra.size(); at += 500) {
          std::vector<plan::KeyBound> batch(extra.begin() + static_cast<long>(at),
                                            extra.begin() + static_cast<long>(std::min(extra.size(), at + 500)));
          n += dst.exec(sql::verify::delete_keys(w.tp->table.name, {w.tp->table.key, w.tp->table.key_types}, batch))
                   .affected_rows();
        }
        txn.commit();
        if (!more) break;
      }
      std::lock_guard lk(mu);
      deleted[w.tp->table.name.display()] += n;
  });
  for (const auto &[t, n] : deleted)
    if (n) log::info("{}: deleted {} row(s) the source no longer has", t, n);
  return deleted;
}

}  // namespace pgcutover::sync
