// One range, from the source's COPY to the target's commit.
//
// The trap this file closes: a binary COPY stream cut at a row boundary looks
// complete. So a range commits only when (1) the source's COPY ended with
// success (CopyOut::next() returned nullopt after PGRES_COMMAND_OK), (2) the
// framer saw a well-formed stream with its trailer, and (3) the rows the
// source reported, the rows framed, and the rows the target stored are the
// same number. Any failure unwinds: CopyOut cancels the source query, CopyIn
// makes the target fail its COPY, and the Transaction rolls back.
#include "pgcutover/pg/target_checks.hpp"
#include "pgcutover/pipeline/range_io.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "pgcutover/copybin/framer.hpp"
#include "pgcutover/pg/copy_stream.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/spill/spill_file.hpp"
#include "pgcutover/sql/copy.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pipeline {

namespace {

constexpr const char *STAGE_TABLE = "pgcutover_stage";

// How a range's predicate compares the key: as it was cut (KeyRange::source_order).
sql::KeySpec key_spec(const catalog::TableDef &t, const plan::KeyRange &range) {
  return t.key_spec(range.source_order);
}

[[noreturn]] void count_mismatch(const char *what, i64 a, const char *what_b, i64 b) {
  throw Error(ErrorKind::DataFormat, fmt::format("row counts disagree: {} {} but {} {}; nothing was committed", what, a,
                                                 what_b, b),
              "rerun the copy; if it happens again, report it with the --json output");
}

// Batches messages into chunks of about chunk_bytes for put() and the framer.
class Batcher {
 public:
  explicit Batcher(i64 chunk_bytes) { buf_.reserve(static_cast<size_t>(chunk_bytes) + 65536); limit_ = chunk_bytes; }
  // Appends; returns true when a chunk is ready.
  bool add(std::span<const char> m) {
    buf_.insert(buf_.end(), m.begin(), m.end());
    return static_cast<i64>(buf_.size()) >= limit_;
  }
  std::span<const char> view() const { return {buf_.data(), buf_.size()}; }
  bool empty() const { return buf_.empty(); }
  void clear() { buf_.clear(); }

 private:
  std::vector<char> buf_;
  i64 limit_;
};

// The temp stage for a range's rows, its wide columns kept inline
// (sql::stage_storage_main).
void create_stage(pg::Connection &dst, const std::string &stage, const sql::QualifiedName &target,
                  const std::vector<std::string> &cols) {
  dst.exec(sql::create_stage_table(stage, target, cols));
  pg::Result alter = dst.exec(sql::stage_storage_main(stage));
  if (!alter.is_null(0, 0)) dst.exec(std::string(alter.get(0, 0)));
}

// The staged rows upserted. A unique value that moved between rows (a swap,
// or a value freed by one row and taken by another) makes the row-by-row
// upsert meet a non-deferrable UNIQUE constraint it only passes as a whole:
// then, in the same transaction, the staged keys are deleted and the staged
// rows inserted, so the constraint sees the final state only.
i64 upsert_or_replace(pg::Connection &dst, const sql::QualifiedName &target, const std::string &stage_ref,
                      const std::vector<std::string> &cols, const std::vector<std::string> &key, bool skip_unchanged,
                      const std::string &change_column) {
  constexpr const char *SAVEPOINT = "pgcutover_upsert";
  dst.exec(sql::savepoint(SAVEPOINT));
  try {
    i64 merged = dst.exec(sql::upsert_from_stage(target, stage_ref, cols, key, skip_unchanged, change_column)).affected_rows();
    dst.exec(sql::release_savepoint(SAVEPOINT));
    return merged;
  } catch (const Error &e) {
    if (e.sqlstate != "23505" || dst.broken()) throw;
  }
  dst.exec(sql::rollback_to_savepoint(SAVEPOINT));
  dst.exec(sql::delete_matching_stage(target, stage_ref, key));
  return dst.exec(sql::insert_from_stage(target, stage_ref, cols)).affected_rows();
}

// The writer half, shared by transfer_range and load_spill, inside the range's
// transaction on dst: stages, checks counts and merges, reading the stream from
// `next`. source_rows() is called after the stream ended and returns the row
// count its producer reported.
WriteResult write_range(pg::Connection &dst, const plan::TablePlan &tp, const WriteOptions &w, const ChunkSource &next,
                        const std::function<i64()> &source_rows, i64 chunk_bytes, report::Progress &progress,
                        bool new_keys) {
  const catalog::TableDef &t = tp.table;
  const sql::QualifiedName &target = w.target(tp);
  std::vector<std::string> cols = t.column_names();
  // Keys the target cannot hold yet need no stage: a plain COPY inserts them.
  bool append = new_keys && tp.strategy == merge::Strategy::Merge && w.merge_sql == MergeSql::Upsert;
  bool merge = tp.strategy == merge::Strategy::Merge && !append;
  // The staging table: a temp table (dropped at commit), or for the bench's
  // comparison an UNLOGGED one in the target's schema, dropped before commit.
  // Unique per process and thread: ranges of one table run side by side.
  sql::QualifiedName unlogged{target.schema, fmt::format("{}_{}_{:x}", STAGE_TABLE, getpid(),
                                                         std::hash<std::thread::id>{}(std::this_thread::get_id()) & 0xffffff)};
  std::string stage_ref = w.unlogged_stage ? unlogged.quoted() : sql::temp_stage_ref(STAGE_TABLE);
  std::string copy_in_sql;
  if (merge && w.unlogged_stage) {
    dst.exec(sql::create_unlogged_stage(unlogged, target, cols));
    copy_in_sql = sql::copy_in(unlogged, cols, tp.format);
  } else if (merge) {
    create_stage(dst, STAGE_TABLE, target, cols);
    copy_in_sql = sql::copy_in_stage(STAGE_TABLE, cols, tp.format);
  } else if (append) {
    copy_in_sql = sql::copy_in(target, cols, tp.format);
  } else if (tp.strategy == merge::Strategy::Replace) {
    pg::empty_for_reload(dst, target);
    copy_in_sql = sql::copy_in(target, cols, tp.format);
  } else if (w.truncate_and_freeze || tp.freeze) {
    dst.exec(sql::truncate(target));
    copy_in_sql = sql::copy_in_freeze(target, cols, tp.format);
  } else {
    copy_in_sql = sql::copy_in(target, cols, tp.format);
  }
  copybin::Framer framer(tp.format, static_cast<int>(cols.size()));
  WriteResult res;
  {
    pg::CopyIn in(dst, copy_in_sql);
    Batcher batch(chunk_bytes);
    auto flush = [&] {
      auto v = batch.view();
      i64 before = framer.tuples();
      framer.feed(v);
      in.put(v);
      res.bytes += static_cast<i64>(v.size());
      progress.bytes.fetch_add(static_cast<i64>(v.size()), std::memory_order_relaxed);
      progress.rows.fetch_add(framer.tuples() - before, std::memory_order_relaxed);
      batch.clear();
    };
    while (auto m = next()) {
      if (batch.add(*m)) {
        cancel::throw_if_requested();
        flush();
      }
    }
    if (!batch.empty()) flush();
    framer.finish();
    i64 src_rows = source_rows();
    if (src_rows != framer.tuples()) count_mismatch("the source sent", src_rows, "the stream holds", framer.tuples());
    cancel::throw_if_requested();
    i64 stored = in.finish();
    if (stored != src_rows) count_mismatch("the source sent", src_rows, "the target stored", stored);
    res.rows = stored;
  }
  if (tp.strategy == merge::Strategy::Replace || append) res.merged = res.rows;
  res.appended = append;
  if (merge) {
    switch (w.merge_sql) {
      case MergeSql::Upsert:
        res.merged = upsert_or_replace(dst, target, stage_ref, cols, t.key, tp.skip_unchanged, tp.change_column);
        break;
      case MergeSql::MergeStatement:
        res.merged = dst.exec(sql::merge_from_stage(target, stage_ref, cols, t.key)).affected_rows();
        break;
      case MergeSql::DeleteInsert:
        dst.exec(sql::delete_matching_stage(target, stage_ref, t.key));
        res.merged = dst.exec(sql::insert_from_stage(target, stage_ref, cols)).affected_rows();
        break;
    }
    if (w.unlogged_stage) dst.exec(sql::drop_table(unlogged));
  }
  cancel::throw_if_requested();
  return res;
}

// BEGIN, claim, write, mark, COMMIT: the data and the ledger's done mark
// commit together or not at all.
template <typename Write>
WriteResult in_range_transaction(pg::Connection &dst, const RangeHooks &hooks, Write &&write) {
  pg::Transaction txn(dst);
  if (hooks.claim && !hooks.claim(dst)) {
    WriteResult skipped;
    skipped.skipped = true;
    return skipped;
  }
  WriteResult res = write();
  if (hooks.before_commit) hooks.before_commit(dst, res);
  txn.commit();
  return res;
}

}  // namespace

const char *to_string(MergeSql m) {
  return m == MergeSql::Upsert ? "upsert" : m == MergeSql::MergeStatement ? "merge" : "delete-insert";
}

WriteResult transfer_range(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp,
                           const plan::KeyRange &range, i64 chunk_bytes, report::Progress &progress,
                           const RangeHooks &hooks, const WriteOptions &write) {
  const catalog::TableDef &t = tp.table;
  return in_range_transaction(dst, hooks, [&] {
    pg::CopyOut out(src, sql::copy_out(t.name, t.column_names(), key_spec(t, range), range, tp.format, tp.filter));
    return write_range(
        dst, tp, write, [&] { return out.next(); },
        [&] {
          // TRUNCATE and table rewrites are not MVCC-safe: an empty read may be one.
          pg::check_read_not_rewritten(src, t.oid, t.name.display(), pg::RANGE_NOT_COMMITTED);
          return out.server_rows();
        },
        chunk_bytes, progress, range.new_keys);
  });
}

namespace {

// A new temp stage shaped like tp's table, filled from the source by
// copy_out_sql (in tp's format), every tuple checked and counted.
WriteResult fill_stage(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &tp, const std::string &stage,
                       const std::string &copy_out_sql, i64 chunk_bytes, report::Progress &progress) {
  std::vector<std::string> cols = tp.table.column_names();
  create_stage(dst, stage, tp.table.name, cols);
  pg::CopyIn in(dst, sql::copy_in_stage(stage, cols, tp.format));
  pg::CopyOut from(src, copy_out_sql);
  copybin::Framer framer(tp.format, static_cast<int>(cols.size()));
  Batcher batch(chunk_bytes);
  WriteResult res;
  auto flush = [&] {
    framer.feed(batch.view());
    in.put(batch.view());
    res.bytes += static_cast<i64>(batch.view().size());
    progress.bytes.fetch_add(static_cast<i64>(batch.view().size()), std::memory_order_relaxed);
    batch.clear();
  };
  while (auto m = from.next())
    if (batch.add(*m)) flush();
  if (!batch.empty()) flush();
  framer.finish();
  pg::check_read_not_rewritten(src, tp.table.oid, tp.table.name.display(), pg::RANGE_NOT_COMMITTED);
  i64 stored = in.finish();
  if (stored != from.server_rows() || stored != framer.tuples())
    count_mismatch("the source sent", from.server_rows(), "the target stored", stored);
  res.rows = stored;
  return res;
}

}  // namespace

std::vector<WriteResult> merge_together(pg::Connection &src, pg::Connection &dst, const std::vector<TogetherRange> &ranges,
                                        i64 chunk_bytes, report::Progress &progress,
                                        const std::function<void(pg::Connection &, size_t, const WriteResult &)> &before_commit) {
  pg::Transaction txn(dst);
  std::vector<WriteResult> out(ranges.size());
  std::vector<std::string> stages;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const plan::TablePlan &tp = *ranges[i].table;
    const catalog::TableDef &t = tp.table;
    std::string stage = fmt::format("{}_together_{}", STAGE_TABLE, i);
    stages.push_back(sql::temp_stage_ref(stage));
    out[i] = fill_stage(src, dst, tp, stage,
                        sql::copy_out(t.name, t.column_names(), key_spec(t, *ranges[i].range), *ranges[i].range, tp.format, tp.filter),
                        chunk_bytes, progress);
  }
  for (size_t i = 0; i < ranges.size(); ++i)
    dst.exec(sql::delete_matching_stage(ranges[i].table->table.name, stages[i], ranges[i].table->table.key));
  // Target rows still holding a unique value a staged row takes have keys no
  // stage has: their change was not seen (a created_at change column, an
  // update that left the change column alone). They are never just deleted:
  // each is read again from the source in the same snapshot and written as
  // the source has it (gone there: gone here). What those rows bring back
  // can hold another target row's value: repeated until none does (each
  // pass deletes target rows, so it ends).
  i64 removed = 0, reread = 0;
  std::map<std::string, std::vector<std::vector<std::string>>> unique_sets;  // by table
  std::vector<std::pair<size_t, std::string>> todo, extra;  // (range, stage reference)
  for (size_t i = 0; i < ranges.size(); ++i) todo.emplace_back(i, stages[i]);
  while (!todo.empty()) {
    auto [i, stage] = todo.back();
    todo.pop_back();
    const plan::TablePlan &tp = *ranges[i].table;
    const catalog::TableDef &t = tp.table;
    auto sets = unique_sets.find(t.name.quoted());
    if (sets == unique_sets.end()) {
      pg::Result r = dst.query(sql::unique_column_sets(dst.server_version()), {t.name.quoted()});
      std::vector<std::vector<std::string>> cols;
      for (int row = 0; row < r.rows(); ++row)
        cols.push_back(nlohmann::json::parse(r.get(row, 0)).get<std::vector<std::string>>());
      sets = unique_sets.emplace(t.name.quoted(), std::move(cols)).first;
    }
    std::vector<std::vector<std::string>> holders;
    for (const std::vector<std::string> &cols : sets->second) {
      pg::Result r = dst.exec(sql::delete_unique_holders(t.name, stage, cols, t.key));
      for (int row = 0; row < r.rows(); ++row) {
        std::vector<std::string> key;
        for (int c = 0; c < r.columns(); ++c) key.emplace_back(r.get(row, c));
        holders.push_back(std::move(key));
      }
    }
    if (holders.empty()) continue;
    removed += static_cast<i64>(holders.size());
    std::string name = fmt::format("{}_reread_{}", STAGE_TABLE, extra.size());
    reread += fill_stage(src, dst, tp, name,
                         sql::copy_out_keys(t.name, t.column_names(), t.key, t.key_types, holders, tp.format),
                         chunk_bytes, progress)
                  .rows;
    extra.emplace_back(i, sql::temp_stage_ref(name));
    todo.emplace_back(i, sql::temp_stage_ref(name));
  }
  for (const auto &[i, stage] : extra) {
    const catalog::TableDef &t = ranges[i].table->table;
    out[i].merged += dst.exec(sql::insert_from_stage(t.name, stage, t.column_names())).affected_rows();
  }
  for (size_t i = 0; i < ranges.size(); ++i) {
    const catalog::TableDef &t = ranges[i].table->table;
    out[i].merged += dst.exec(sql::insert_from_stage(t.name, stages[i], t.column_names())).affected_rows();
    progress.rows.fetch_add(out[i].rows, std::memory_order_relaxed);
    if (before_commit) before_commit(dst, i, out[i]);
  }
  if (removed > 0)
    log::info("{} target row(s) held unique values staged rows take: read again from the source, {} of them are "
              "there now (written as the source has them), {} are gone there (deleted)",
              removed, reread, removed - reread);
  txn.commit();
  return out;
}

WriteResult spill_range(pg::Connection &src, const plan::TablePlan &tp, const plan::KeyRange &range,
                        const std::filesystem::path &path, const nlohmann::json &meta, int zstd_level,
                        i64 chunk_bytes, i64 *spill_bytes, spill::FileClaim *claim) {
  const catalog::TableDef &t = tp.table;
  spill::SpillWriter writer(path, meta, zstd_level);
  pg::CopyOut out(src, sql::copy_out(t.name, t.column_names(), key_spec(t, range), range, tp.format, tp.filter));
  copybin::Framer framer(tp.format, static_cast<int>(t.columns.size()));
  Batcher batch(chunk_bytes);
  WriteResult res;
  auto flush = [&] {
    framer.feed(batch.view());
    writer.write(batch.view());
    res.bytes += static_cast<i64>(batch.view().size());
    batch.clear();
  };
  while (auto m = out.next()) {
    if (batch.add(*m)) {
      cancel::throw_if_requested();
      flush();
    }
  }
  if (!batch.empty()) flush();
  framer.finish();
  if (out.server_rows() != framer.tuples())
    count_mismatch("the source sent", out.server_rows(), "the stream holds", framer.tuples());
  pg::check_read_not_rewritten(src, t.oid, t.name.display(), pg::RANGE_NOT_COMMITTED);
  writer.finish(framer.tuples());
  res.rows = framer.tuples();
  if (spill_bytes) *spill_bytes = writer.bytes_out();
  if (claim) *claim = writer.take_claim();
  return res;
}

WriteResult load_spill(pg::Connection &dst, const plan::TablePlan &tp, const std::filesystem::path &path,
                       i64 chunk_bytes, report::Progress &progress, const RangeHooks &hooks,
                       const WriteOptions &write) {
  spill::SpillReader reader(path);
  const nlohmann::json &meta = reader.meta();
  // The file must describe this very table, columns, types and format.
  nlohmann::json want_cols = nlohmann::json::array();
  for (const catalog::ColumnDef &c : tp.table.columns) want_cols.push_back({{"name", c.name}, {"type", c.type}});
  if (meta.value("schema", "") != tp.table.name.schema || meta.value("table", "") != tp.table.name.name ||
      meta.value("columns", nlohmann::json()) != want_cols ||
      meta.value("format", "") != copybin::to_string(tp.format))
    throw Error(ErrorKind::DataFormat,
                "spill file " + path.string() + " does not describe table " + tp.table.name.display() +
                    " with its current columns, types and format; it was not loaded",
                "load spill files into a target whose table matches the source's at the time of the read");
  bool ended = false;
  return in_range_transaction(dst, hooks, [&] {
    return write_range(
        dst, tp, write,
        [&]() -> std::optional<std::span<const char>> {
          auto c = reader.next();
          if (!c) ended = true;
          return c;
        },
        [&] { return ended ? reader.rows() : -1; }, chunk_bytes, progress, false);
  });
}

nlohmann::json spill_meta(const plan::TablePlan &tp, const plan::KeyRange &range, const pg::SnapshotInfo &snapshot,
                          const std::string &source_display) {
  nlohmann::json cols = nlohmann::json::array();
  for (const catalog::ColumnDef &c : tp.table.columns) cols.push_back({{"name", c.name}, {"type", c.type}});
  auto bound = [](const std::optional<plan::KeyBound> &b) {
    return b ? nlohmann::json(b->values) : nlohmann::json(nullptr);
  };
  return {{"schema", tp.table.name.schema},
          {"table", tp.table.name.name},
          {"columns", cols},
          {"key", tp.table.key},
          {"format", copybin::to_string(tp.format)},
          {"range", {{"id", range.id}, {"lower", bound(range.lower)}, {"upper", bound(range.upper)}}},
          {"snapshot", {{"id", snapshot.id}, {"taken_at", snapshot.taken_at}, {"xmin", snapshot.xmin}}},
          {"source", source_display}};
}

std::string spill_file_name(const plan::TablePlan &tp, const plan::KeyRange &range) {
  // The OID keeps names unique and filesystem-safe whatever the table is called.
  return fmt::format("t{}_r{:05}_p{}.pgcspill", tp.table.oid, range.id, static_cast<long>(::getpid()));
}

}  // namespace pgcutover::pipeline
