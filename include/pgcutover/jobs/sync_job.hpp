#pragma once
// The sync job, the cutover's incremental step: schema drift applied (new
// tables base-copied through the copy job), then the rows changed since each
// table's watermark merged range by range (each range commits its watermark
// part with its data), deletes detected on request, and sequences on the final
// sync.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/jobs/copy_job.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/sync/change_column.hpp"
#include "pgcutover/sync/drift.hpp"
#include "pgcutover/util/time.hpp"

namespace pgcutover::jobs {

enum class Deletes { Off, Detect };

struct SyncConfig {
  Scope scope;
  std::optional<util::TimePoint> since;  // nullopt: each table from its watermark
  i64 overlap_ms = 5 * 60 * 1000;        // taken off each starting point
  // The zone applications write `timestamp without time zone` and `date`
  // change columns in ("" = the source role's TimeZone); per table in the
  // config file too (writer_time_zone).
  std::string writer_time_zone;
  // A transaction open longer than this on the source holds the next sync's
  // look-back back by as much: the summary warns, naming it.
  double look_back_warn_s = 600;
  bool allow_scan = false;               // change detection that reads whole tables, whatever their size
  i64 scan_below = sync::DEFAULT_SCAN_BELOW;  // ... or up to this size (the scan is cheap)
  Deletes deletes = Deletes::Off;
  bool final_sync = false;               // also set sequences, refresh materialized views, sync large objects
  bool large_objects = false;            // --large-objects: also with --table (whole-database syncs always)
  bool copy_uncopied = false;            // base-copy tables without a watermark instead of refusing them
  std::map<std::string, sync::TableConfig> change_columns;  // per table display name
  pipeline::PipelineOptions pipeline;    // retries, spill of the copies of new tables
  schema::SchemaOptions schema;          // pg_bin for new tables
  pg::ToastCompression toast = pg::ToastCompression::Auto;  // the writers' default_toast_compression
  // Hand the snapshot holder to the caller (SyncResult::holder) instead of
  // closing it: a rehearsal verifies the source as of the sync's snapshot.
  bool keep_snapshot = false;
};

struct SyncedTable {
  sql::QualifiedName table;
  sync::ChangeMethod method;
  std::string since;      // where the change detection started ("xmin N" for xmin)
  // The writers' local clock stepped back within the window (a DST
  // fall-back): the start was moved back by this much. 0 otherwise.
  double widened_s = 0;
  std::string watermark;  // the table's point before this sync
  i64 rows_read = 0;
  i64 rows_written = 0;
  i64 rows_appended = 0;  // of those, new keys written with a plain COPY (no stage, no upsert)
  std::optional<i64> deleted;  // nullopt: deletes not detected
  // Rows the change column cannot place in time, read again by every sync:
  // NULL, and stamped after the snapshot (infinity, clock skew). Counted for
  // indexed change columns; nullopt otherwise.
  std::optional<i64> null_stamped;
  std::optional<i64> future_stamped;
};

struct SyncResult {
  pg::SnapshotInfo snapshot;
  std::vector<SyncedTable> tables;
  std::vector<sync::Drift> drift;
  std::vector<std::string> not_synced;                 // "table: reason"
  std::vector<sql::QualifiedName> copied_tables;       // base-copied by this sync (new or never copied)
  std::vector<sequences::SequenceChange> sequences;    // final sync only
  bool deletes_detected = false;
  bool final_sync = false;
  pg::TargetWrites target_writes;                       // how the writers applied rows
  std::string toast_compression;                        // what the writers set ("" = the server's default)
  // With keep_snapshot: the session still holding `snapshot` open, so other
  // sessions can import it; the snapshot ends when the last owner lets go.
  std::shared_ptr<pg::SnapshotHolder> holder;
  // The tables whose change detection read them whole (or were refused for
  // it: above scan_below), with size and estimated time.
  std::vector<sync::FinalSyncScan> scans;
  i64 scan_below = sync::DEFAULT_SCAN_BELOW;
  // Final sync: objects that are not tables.
  schema::MatviewResult matviews;
  bool matviews_considered = false;
  std::optional<schema::LargeObjectResult> large_objects;
  i64 large_objects_left_out = 0;
  bool ok() const { return not_synced.empty(); }
};

SyncResult run_sync(const SyncConfig &config, report::RunReport &report, report::Reporter &reporter);

}  // namespace pgcutover::jobs
