#pragma once
#include <optional>
// The copy job: one consistent point in time, a plan of key ranges, the
// tables the target lacks created from pg_dump's pre-data, every range through
// the pipeline (resumable through the ledger), indexes and constraints from
// pg_dump's post-data (each created table's own indexes as soon as its data is
// in), sequences, and each table's sync point.
#include <string>
#include <vector>

#include "pgcutover/jobs/scope.hpp"
#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/sync/change_column.hpp"
#include "pgcutover/pg/target_checks.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/report/model.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/schema/large_objects.hpp"
#include "pgcutover/schema/matviews.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/sequences/sequences.hpp"

namespace pgcutover::jobs {

struct CopyConfig {
  Scope scope;
  merge::Strategy strategy = merge::Strategy::Auto;
  plan::FormatChoice format = plan::FormatChoice::Auto;
  pipeline::PipelineOptions pipeline;  // jobs, spill, retries; the job adds its ledger
  schema::SchemaOptions schema;        // pg_bin, no_owner; the job adds the excluded schemas
  bool create_schema = true;           // create missing tables and their post-data through pg_dump
  bool restart = false;                // plan anew: forget the job of this name, finished or not
  bool large_objects = false;          // --large-objects: also with --table (a whole-database copy always takes them)
  pg::ToastCompression toast = pg::ToastCompression::Auto;  // the writers' default_toast_compression
  // When a created table's own indexes are built: during the data (as soon
  // as its ranges are done), after all of it, or Auto: during the data when
  // source and target run on different machines, after it when they share
  // one (then both servers compete for the same CPUs, and overlapping the
  // builds with the data measured slower: perf/RESULTS.md).
  enum class IndexBuilds { Auto, DuringData, AfterData } index_builds = IndexBuilds::Auto;
  int index_jobs = 0;         // pg_restore --jobs of index builds (0 = pipeline.jobs)
  // COPY FREEZE (after a TRUNCATE in the range's transaction) for a one-range
  // table the copy created, when the range is planned at least this big. The
  // TRUNCATE gives the table new files, and its commit scans the target's
  // shared buffers for the old ones: measured 3 to 7 ms per table on this
  // machine's 640 MB of shared buffers, more on bigger servers, against a
  // freezing vacuum saved that is worth little on a small table.
  i64 freeze_min_bytes = 16'000'000;  // --freeze-above 16MB
  // Set by a sync copying its new tables: the sync's writers' decision is
  // used as is (the tables are new, nothing acts on them yet), and the
  // sync's own triggers and foreign keys set aside stay so until it ends.
  std::optional<pg::TargetWrites> writes_decided;
  bool run_lock_held = false;  // the caller (a sync) holds the target's run lock
};

// A created table whose own indexes and key constraints were built while
// other tables' data loaded.
struct EarlyBuild {
  sql::QualifiedName table;
  int items = 0;       // indexes and constraints built
  double seconds = 0;  // pg_restore's wall time
};

struct CopyResult {
  std::string job;
  std::string source;  // display names, never a password
  std::string target;
  pg::SnapshotInfo snapshot;
  bool resumed = false;
  bool already_finished = false;  // the job was finished before: nothing copied (--restart copies again)
  std::string finished_at;        // when it finished, with already_finished
  std::vector<sql::QualifiedName> tables;          // the tables of the job
  std::vector<sql::QualifiedName> created_tables;  // created on the target from pg_dump
  std::vector<sequences::SequenceChange> sequences;
  std::vector<ledger::TablePoint> table_points;    // each table's sync point
  pg::TargetWrites target_writes;                   // how the writers applied rows
  std::string toast_compression;  // what the writers set ("" = the server's default)
  bool async_commit = true;       // ranges committed without waiting for the WAL flush (made durable at the end)
  std::vector<sql::QualifiedName> frozen_tables;  // loaded with COPY FREEZE (created by the copy, one range)
  std::vector<EarlyBuild> early_indexes;  // tables whose own indexes were built while other data loaded
  int post_data_after = 0;                // post-data items built after all the data
  std::string index_builds;               // "during the data" | "after the data", and why
  // Days ahead: the tables the final sync will read whole or refuse (default
  // change columns, the default --scan-below).
  std::vector<sync::FinalSyncScan> final_sync_scans;
  // Objects that are not tables: materialized views refreshed, large objects
  // copied (nullopt: not taken; large_objects_left_out says how many).
  schema::MatviewResult matviews;
  bool matviews_considered = false;
  std::optional<schema::LargeObjectResult> large_objects;
  i64 large_objects_left_out = 0;
};

// Runs the copy; ranges and phases are recorded into report. Throws Error;
// a lock timeout names the sessions holding the lock.
CopyResult run_copy(const CopyConfig &config, report::RunReport &report, report::Reporter &reporter);

}  // namespace pgcutover::jobs
