#pragma once
// The copy pipeline: a oneTBB parallel_pipeline over ranges.
//
//   next_range (serial) -> read (parallel) -> write (parallel) -> record (serial)
//
// Without a spill dir, "read" streams the range straight into the target
// (reader and writer run in the same task, on one source and one target
// connection) and "write" has nothing left to do. With a spill dir, "read"
// writes a zstd file and "write" loads it, so readers run ahead of a slow
// target by up to `jobs` ranges, and a failed load never needs a new read.
//
// Memory bound: at most max_tokens ranges are in flight (jobs without spill,
// 2 x jobs with it), each holding one chunk buffer (chunk_bytes, default 256
// KiB) plus libpq's buffers (about the largest row) and, with spill, a zstd
// context (~1-2 MiB at level 1-3). So peak memory is about
//   max_tokens x (chunk_bytes + largest row + zstd context)
// whatever the table size.
//
// Connection ownership: a range's task leases one source connection (inside
// the exported snapshot) and/or one target connection from fixed pools of
// `jobs` each, and is their only user until it returns them. A connection that
// saw an error is closed and replaced, never reused.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/pg/lock_diagnostics.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pipeline/range_io.hpp"
#include "pgcutover/pipeline/write_options.hpp"
#include "pgcutover/plan/plan.hpp"
#include "pgcutover/report/model.hpp"

namespace pgcutover::ledger {
class Ledger;
}

namespace pgcutover::pipeline {

struct PipelineOptions {
  int jobs = 2;
  const ledger::Ledger *ledger = nullptr;  // claims and done marks; nullptr for none
  // Runs inside each range's transaction just before COMMIT (after the
  // ledger's mark): sync records its watermark here.
  std::function<void(pg::Connection &, const plan::TablePlan &, const plan::KeyRange &, const WriteResult &)> on_commit;
  // The session holding the snapshot: watched during the run; once it is gone
  // no new range starts and run_pipeline throws pg::snapshot_lost(). nullptr: not watched.
  const pg::SnapshotHolder *holder = nullptr;
  int max_retries = 5;                     // per range, for transient failures
  double retry_delay_seconds = 1.0;        // doubles per attempt, at most 30 s
  std::optional<std::filesystem::path> spill_dir;
  int spill_level = 1;
  bool keep_spill = false;
  i64 chunk_bytes = 256 << 10;
  WriteOptions write;                      // how ranges land on the target (bench levers)
  // Writer sessions commit without waiting for the WAL flush (see
  // pg::SessionSettings::async_commit); the run ends with one synchronous
  // commit that makes every range durable.
  bool async_commit = true;
  // default_toast_compression of the writer sessions ("" = the server's),
  // as the job chose it (pg::writer_toast_compression).
  std::string toast_compression;
  // A range whose merge fails on a unique violation (a value another range's
  // row still holds on the target) waits; such ranges are merged together in
  // one transaction at the end (range_io's merge_together). For sync: no
  // ledger claims are made for them, and no spill.
  bool together_on_unique_conflict = false;
  // A range that fails for good (not transient, not an interrupt) fails its
  // table alone: the table's other ranges are not started, the rest go on,
  // and the failure is returned in PipelineResult::failed_tables instead of
  // thrown. For sync: one table's broken merge never stops the others.
  bool isolate_table_failures = false;
};

struct TableFailure {
  std::string table;    // display name
  std::string message;  // the error with its range and hint
};

struct PipelineResult {
  i64 done = 0;     // ranges this process committed
  i64 skipped = 0;  // ranges done already or held by another process
  std::vector<TableFailure> failed_tables;  // with isolate_table_failures, in the order they failed
  bool failed(const std::string &table) const;
};

// Copies every range of the plan. Throws the first failure (with table and
// range filled in) after the ranges in flight have finished or rolled back
// (with isolate_table_failures: only an interrupt or a lost snapshot).
// Transient failures (connection lost, server restarting, deadlock,
// serialization failure) retry the range on fresh connections, with backoff.
PipelineResult run_pipeline(const plan::Plan &plan, const pg::Endpoints &ends, const pg::SnapshotInfo &snapshot,
                  const PipelineOptions &opt, report::RunReport &report);

struct SpillItem {
  const plan::TablePlan *table = nullptr;  // the target table the file loads into
  const plan::KeyRange *range = nullptr;   // the range as the file's header records it
  std::filesystem::path path;
};

// Loads spill files (written by `copy --spill-dir --keep-spill`), `jobs` at a time.
void load_spill_files(const std::vector<SpillItem> &items, const pg::Endpoints &ends, const PipelineOptions &opt,
                      report::RunReport &report);

}  // namespace pgcutover::pipeline
