// The sync job, phase by phase:
//   schema drift   found; target writers prepared (no trigger, no FK action);
//                  new sequences, enum labels, bare added columns (and their
//                  reread marks), new partitions created; new tables
//                  base-copied (before the snapshot, so they are part of
//                  this sync); blocking drift reported per table
//   snapshot       one snapshot for every changed row this sync reads
//   plan changes   per table: its watermark, change detection and ranges
//   sync changes   the changed rows merged; each range commits its watermark
//                  part with its data, then the parts collapse
//   deletes        on request: key sets compared, missing rows deleted
//   drift, after   defaults, NOT NULL, new indexes and constraints
//   sequences      on the final sync
#include "pgcutover/jobs/sync_job.hpp"

#include "pgcutover/diff/buckets.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/ledger/run_lock.hpp"
#include "pgcutover/ledger/write_guard.hpp"
#include "pgcutover/pg/lock_watch.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/schema/schema.hpp"
#include "pgcutover/sequences/sequences.hpp"
#include "pgcutover/sql/sync.hpp"
#include "pgcutover/sync/change_ranges.hpp"
#include "pgcutover/sync/deletes.hpp"
#include "pgcutover/sync/drift_apply.hpp"
#include "pgcutover/sync/watermark.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/util/temp_dir.hpp"

namespace pgcutover::jobs {

namespace {

const std::string NEVER_COPIED = "never copied (no watermark); copy it first, or pass --copy-uncopied";

class SyncJob {
 public:
  SyncJob(const SyncConfig &cfg, report::RunReport &rep, report::Reporter &reporter)
      : cfg_(cfg), rep_(rep), reporter_(reporter), ends_(cfg.scope.ends) {
    result_.final_sync = cfg.final_sync;
    result_.deletes_detected = cfg.deletes == Deletes::Detect;
  }

  SyncResult run() {
    connect();
    // From here on a statement waiting on a lock says so, and who holds it.
    pg::LockWaitWatcher waits(ends_, [this](const std::string &s) { reporter_.set_status(s); });
    apply_drift();
    take_snapshot();
    plan_changes();
    check_large_objects();
    sync_changes();
    detect_deletes();
    guard_->restore(*dst_);  // triggers, foreign keys and NOT VALID checks set aside, back before the job ends
    finish_drift();          // (after them: a domain check the drift added is validated here)
    reset_sequences();
    sync_nontables();
    if (cfg_.keep_snapshot) result_.holder = snap_;  // the caller reads the source as of it, then lets it go
    return std::move(result_);
  }

 private:
  const pg::Endpoints &ends() const { return ends_; }

  void connect() {
    dst_ = pg::Connection::open(ends().target_conninfo, ends().target_settings);
    pg::refuse_same_database(ends(), *dst_);
    pg::check_target_writable(*dst_);
    src_ = pg::Connection::open(ends().source_conninfo, ends().source_settings);
    cfg_.scope.check_tables(*src_);  // before the tool schema is created on the target
    check_time_zones(*src_);
    ledger::Ledger(cfg_.scope.tool_schema, "").ensure_tables(*dst_);
    // One sync at a time, and none beside a copy: two at once could leave a
    // row at an older version for good, and collapse each other's watermarks.
    run_lock_.emplace(ends().target_conninfo, ends().target_settings, cfg_.scope.tool_schema, cfg_.final_sync ? "sync --final" : "sync", ledger::RunMode::Exclusive);
  }

  // A base copy through the copy job, quietly: its own report, warnings only.
  void base_copy(std::vector<sql::QualifiedName> tables) {
    CopyConfig copy;
    copy.scope = cfg_.scope.with_tables(tables);
    copy.scope.fk_parents_on_target = true;  // the parents on the target are synced by this sync
    copy.restart = true;  // new on the source: an earlier copy job of these names is history
    copy.pipeline = cfg_.pipeline;
    copy.schema = cfg_.schema;
    copy.writes_decided = result_.target_writes;
    copy.run_lock_held = true;  // this sync holds the target
    copy.toast = cfg_.toast;
    report::Reporter quiet(false, true);
    report::RunReport sub;
    run_copy(copy, sub, quiet);
    result_.copied_tables.insert(result_.copied_tables.end(), tables.begin(), tables.end());
  }

  // Drift first: it is applied and new tables copied before the snapshot of
  // the changed rows, so they are part of this sync.
  void apply_drift() {
    report::PhaseTimer t(rep_, "schema_drift");
    // What a killed run left set aside comes back first: the drift compares
    // the target as it really is.
    ledger::TargetWriteGuard(ends_, cfg_.scope.tool_schema).restore(*dst_);
    pg::Connection src = std::move(*src_);  // connect()'s, done with here
    src_.reset();
    std::vector<std::string> excluded = cfg_.scope.excluded_schemas();
    source_catalog_ = catalog::load_catalog(src, excluded);
    target_catalog_ = catalog::load_catalog(*dst_, excluded);
    const catalog::Catalog &sc = source_catalog_;
    const catalog::Catalog &dc = target_catalog_;
    std::vector<catalog::TableDef> selected = catalog::select_tables(sc, cfg_.scope.tables);
    drift_scope_ = {cfg_.scope.tool_schema, excluded, cfg_.scope.tables.empty(), cfg_.schema.no_owner,
                    cfg_.schema.no_privileges};
    drift_ = sync::find_all_drift(src, *dst_, sc, dc, selected, drift_scope_);
    result_.drift = drift_.drift;
    for (const sync::Drift &d : drift_.drift) {
      if (!d.blocking) continue;
      log::warn("{}: {}{}", d.table.display(), d.column.empty() ? "" : "column \"" + d.column + "\" ", d.detail);
      if (d.kind == sync::DriftKind::DroppedTable) result_.not_synced.push_back(d.table.display() + ": " + d.detail);
    }
    prepare_writes(selected);
    // New sequences first: an added column's default may call one.
    if (create_new_sequences(src)) target_changed_ = true;
    // What drift found is applied below (or blocks its table): the plan reads the target again.
    if (!drift_.drift.empty() || !drift_.new_tables.empty() || !drift_.bound_changes.empty() || !drift_.reread.empty())
      target_changed_ = true;
    sync::apply_before_data(src, *dst_, sc, dc, drift_, drift_scope_);
    guard_->set_aside_new_checks(*dst_, written_, result_.target_writes);  // a domain check the drift just added
    if (drift_.new_tables.empty()) return;
    log::info("{} new table(s) on the source: creating and copying them", drift_.new_tables.size());
    base_copy(drift_.new_tables);
  }

  // Writers apply rows as the source has them (no trigger, no foreign key
  // action), or the sync stops naming the tables, before anything is written.
  void prepare_writes(const std::vector<catalog::TableDef> &selected) {
    std::vector<sql::QualifiedName> names;
    for (const catalog::TableDef &t : selected) names.push_back(t.name);
    written_ = names;
    guard_.emplace(ends_, cfg_.scope.tool_schema);
    result_.target_writes = guard_->prepare(*dst_, names);
    ends_.target_settings.replica_writes = result_.target_writes.replica;
    result_.toast_compression = pg::writer_toast_compression(*dst_, cfg_.toast);
  }

  // Sequences created on the source after the base copy, through pg_dump (a
  // new table's default may call one); those owned by a new table come with it.
  bool create_new_sequences(pg::Connection &src) {
    std::vector<sql::QualifiedName> seqs = sequences::missing_on_target(
        src, *dst_, target_catalog_, cfg_.scope.tables, cfg_.scope.tables.empty(), cfg_.scope.excluded_schemas());
    if (seqs.empty()) return false;
    log::info("{} new sequence(s) on the source: creating them from pg_dump --section=pre-data", seqs.size());
    schema::SchemaOptions sopt = cfg_.schema;
    sopt.exclude_schemas = cfg_.scope.excluded_schemas();
    pg::SnapshotHolder snap(pg::Connection::open(ends().source_conninfo, ends().source_settings));
    util::TempDir tmp;
    std::filesystem::path archive = schema::dump_schema(ends().source_conninfo, snap.info(), seqs, tmp.path(), sopt);
    schema::restore_section(ends().target_conninfo, archive, "pre-data", 1, sopt);
    return true;
  }

  void take_snapshot() {
    snap_ = std::make_shared<pg::SnapshotHolder>(pg::Connection::open(ends().source_conninfo, ends().source_settings));
    result_.snapshot = snap_->info();
    reader_.emplace(pg::Connection::open(ends().source_conninfo, ends().source_settings), snap_->info());
    source_time_zone_ = std::string(snap_->conn().exec(sql::sync::session_default_time_zone()).get(0, 0));
    log::info("syncing changes up to {} (snapshot {})", result_.snapshot.taken_at, result_.snapshot.id);
    const pg::SnapshotInfo &si = result_.snapshot;
    if (si.changes_from != si.taken_at) {
      std::string what = fmt::format("{}, open for {} since {}, may still commit older changes: the next sync reads from there",
                                     si.changes_from_holder, report::format_duration(si.changes_from_age_s), si.changes_from);
      if (si.changes_from_age_s > cfg_.look_back_warn_s)
        log::warn("{} (end it, or the next sync re-reads {} of changes)", what, report::format_duration(si.changes_from_age_s));
      else
        log::info("{}", what);
    }
  }

  // Where the change detection of a table starts: its point (or --since)
  // minus the overlap, for transactions that committed after their timestamps.
  std::string start_of(const sync::Watermark &wm) const {
    std::optional<util::TimePoint> point = cfg_.since ? cfg_.since : util::parse_iso(wm.point);
    if (!point) throw_internal("the recorded watermark '" + wm.point + "' is not a time stamp");
    return util::format_iso(*point - std::chrono::milliseconds(cfg_.overlap_ms));
  }

  // A table whose change detection reads it whole (or, without a key,
  // replaces it whole): listed with its cost and choices, and refused above
  // --scan-below unless --allow-scan.
  std::optional<std::string> refuse_whole_read(const plan::TablePlan &tp, const sync::ChangeMethod &m) {
    result_.scan_below = cfg_.scan_below;
    std::optional<sync::FinalSyncScan> s = sync::final_sync_scan(tp.table, m, cfg_.scan_below);
    if (!s) return std::nullopt;
    result_.scans.push_back(*s);
    if (!s->cost.too_big || cfg_.allow_scan) return std::nullopt;
    return m.reason + " (" + report::format_bytes(s->cost.bytes) +
           (tp.table.reltuples > 0 ? ", about " + std::to_string(static_cast<i64>(tp.table.reltuples)) + " rows" : "") +
           fmt::format(", above --scan-below {}); ", report::format_bytes(cfg_.scan_below)) + s->choices;
  }

  // Why a table cannot be synced, or nullopt; fills the table's filter.
  std::optional<std::string> prepare(plan::TablePlan &tp, SyncedTable &st) {
    const sql::QualifiedName &name = tp.table.name;
    if (drift_.blocked.count(name)) return "schema drift (see above); the table was left untouched";
    if (!tp.table.has_key()) {
      // Rows without a key cannot be matched: the table is replaced whole,
      // and like any whole read it is refused above --scan-below unless
      // --allow-scan (plan and copy said so days ahead).
      st.method = sync::change_method_for(tp.table, cfg_.change_columns, cfg_.writer_time_zone, source_time_zone_);
      if (auto refused = refuse_whole_read(tp, st.method)) return refused;
      st.since = "whole table";
      log::warn("{}: no primary key: all its rows ({}) are replaced in one transaction on every sync", name.display(),
                report::format_bytes(tp.table.total_bytes()));
      return std::nullopt;
    }
    auto found = watermarks_.find(name);
    if (found == watermarks_.end()) return NEVER_COPIED;
    const sync::Watermark *wm = &found->second;
    if (wm->reread) {
      // Schema drift changed rows behind the change column's back: all of them are read.
      st.method.kind = sync::ChangeKind::Reread;
      st.method.scans = true;
      st.method.reason = "schema drift (an added column, or NOT NULL after a backfill): every row is read again";
      st.since = "every row";
      st.watermark = wm->point;
      return std::nullopt;
    }
    st.method = sync::change_method_for(tp.table, cfg_.change_columns, cfg_.writer_time_zone, source_time_zone_);
    const sync::ChangeMethod &m = st.method;
    if (auto refused = refuse_whole_read(tp, m)) return refused;
    sync::ScanCost cost = sync::scan_cost(tp.table, m, cfg_.scan_below);
    if (cost.scans)
      log::info("{}: scanned whole ({}, est. {:.1f} s at {} MB/s){}", name.display(), report::format_bytes(cost.bytes),
                cost.seconds, sync::SCAN_BYTES_PER_SECOND / 1e6,
                cost.too_big ? " (--allow-scan)" : fmt::format(" (below --scan-below {})", report::format_bytes(cfg_.scan_below)));
    st.watermark = wm->point;
    if (m.kind == sync::ChangeKind::Xmin) {
      // The xmin detector needs the watermark's transaction id within 2^31 transactions.
      if (sync::xid_age(reader_->conn(), wm->xmin) > 2000000000)
        return "the watermark is too many transactions old for xmin detection; copy the table again";
      tp.filter = sql::sync::xmin_predicate(wm->xmin);
      st.since = "xmin " + wm->xmin;
    } else {
      st.since = start_of(*wm);
      if (!m.time_zone.empty()) widen_across_fall_back(st);
      const catalog::ColumnDef *c = tp.table.find_column(m.column);
      tp.filter = sql::sync::change_predicate(m.column, c->type, !c->not_null, st.since, m.time_zone);
    }
    if (!m.warning.empty()) log::warn("{}: {}", name.display(), m.warning);
    return std::nullopt;
  }

  // A local-time change column in a zone whose clock steps back inside the
  // window (a DST fall-back repeats an hour): rows written after the step
  // carry earlier stamps than the window's start. The start moves back by
  // the step, so they are read.
  void widen_across_fall_back(SyncedTable &st) {
    const std::string &zone = st.method.time_zone;
    double step = reader_->conn().query(sql::sync::clock_step_back(), {st.since, result_.snapshot.taken_at, zone}).get_double(0, 0);
    if (step <= 0) return;
    std::optional<util::TimePoint> start = util::parse_iso(st.since);
    if (!start) throw_internal("the change window's start '" + st.since + "' is not a time stamp");
    st.since = util::format_iso(*start - std::chrono::milliseconds(static_cast<i64>(step * 1000)));
    st.widened_s = step;
    log::info("{}: the local clock of {} steps back by {} between the last sync and now (a DST fall-back): reading "
              "from {} instead", st.table.display(), zone, report::format_duration(step), st.since);
  }

  // Every zone named (option and config file) is one the source knows,
  // before anything is written.
  void check_time_zones(pg::Connection &src) {
    std::vector<std::pair<std::string, std::string>> zones;  // zone, where it was given
    if (!cfg_.writer_time_zone.empty()) zones.emplace_back(cfg_.writer_time_zone, "--writer-time-zone");
    for (const auto &[table, tc] : cfg_.change_columns)
      if (!tc.writer_time_zone.empty()) zones.emplace_back(tc.writer_time_zone, "writer_time_zone of " + table + " in the config file");
    for (const auto &[zone, where] : zones) {
      try {
        src.query(sql::sync::check_time_zone(), {zone});
      } catch (const Error &e) {
        if (e.sqlstate != "22023") throw;
        throw_usage(where + ": the source does not know the time zone \"" + zone + "\"",
                    "name an IANA zone such as Europe/Berlin or America/New_York (SELECT name FROM pg_timezone_names)");
      }
    }
  }

  // The changed rows of every table whose change column is indexed, counted
  // in batches (a statement per batch of tables, not per table); with a
  // timestamp column also the rows it cannot place in time. -1 for the
  // tables that are not counted (read whole, or replaced).
  std::vector<i64> count_changes(const std::vector<plan::TablePlan> &ready) {
    std::vector<sql::sync::ChangeCountItem> items;
    std::vector<size_t> which;
    for (size_t i = 0; i < ready.size(); ++i) {
      const sync::ChangeMethod &m = result_.tables[i].method;
      if (m.scans || m.kind == sync::ChangeKind::Reload) continue;
      sql::sync::ChangeCountItem it;
      it.table = ready[i].table.name;
      it.filter = ready[i].filter;
      if (m.kind != sync::ChangeKind::Xmin) {
        const catalog::ColumnDef *c = ready[i].table.find_column(m.column);
        it.unplaced = true;
        it.column = m.column;
        it.column_type = c->type;
        it.nullable = !c->not_null;
        it.source_time_zone = m.time_zone;
      }
      items.push_back(std::move(it));
      which.push_back(i);
    }
    std::vector<sync::ChangeCounts> counts = sync::count_changes(
        reader_->conn(), items, result_.snapshot.taken_at, pg::SnapshotReader::RENEW_EVERY, [this] { reader_->renew(); });
    std::vector<i64> changed(ready.size(), -1);
    for (size_t k = 0; k < which.size(); ++k) {
      SyncedTable &st = result_.tables[which[k]];
      changed[which[k]] = counts[k].changed;
      if (!items[k].unplaced) continue;
      st.null_stamped = counts[k].null_stamped;
      st.future_stamped = counts[k].future_stamped;
      if (*st.null_stamped + *st.future_stamped > 0)
        log::info("{}: {} row(s) with a NULL \"{}\" and {} stamped after the snapshot are read on every sync",
                  st.table.display(), *st.null_stamped, st.method.column, *st.future_stamped);
    }
    return changed;
  }

  void plan_changes() {
    report::PhaseTimer t(rep_, "plan_changes");
    plan::BuildOptions bopt = cfg_.scope.build_options();
    bopt.resume = true;  // no sampling: ranges come from the copy or cover the whole table
    bopt.between_tables = [this] { reader_->between_tables(); };
    // The catalogs the drift phase read, once per run: the source's as it was
    // then (a table or column added since joins the next sync, through its
    // drift), the target's when the drift changed nothing there.
    bopt.source_catalog = &source_catalog_;
    if (!target_changed_) bopt.target_catalog = &target_catalog_;
    plan_ = plan::build_plan(reader_->conn(), *dst_, bopt);
    for (const plan::Refusal &r : plan_.refused) result_.not_synced.push_back(r.table + ": " + r.reason);
    std::vector<plan::TablePlan> keep;
    std::vector<sql::QualifiedName> uncopied;
    watermarks_ = sync::read_watermarks(*dst_, cfg_.scope.tool_schema);  // every table's, in one statement
    std::vector<plan::TablePlan> ready;
    for (plan::TablePlan &tp : plan_.tables) {
      SyncedTable st;
      st.table = tp.table.name;
      std::optional<std::string> refusal = prepare(tp, st);
      if (refusal == NEVER_COPIED && cfg_.copy_uncopied) {
        uncopied.push_back(tp.table.name);  // copied after this snapshot: complete up to a later point
        continue;
      }
      if (refusal) {
        result_.not_synced.push_back(tp.table.name.display() + ": " + *refusal);
        continue;
      }
      result_.tables.push_back(std::move(st));
      ready.push_back(std::move(tp));
    }
    std::vector<i64> changed = count_changes(ready);
    for (size_t i = 0; i < ready.size(); ++i) {
      plan::TablePlan &tp = ready[i];
      const SyncedTable &st = result_.tables[i];
      if (st.method.kind == sync::ChangeKind::Reload) {
        tp.strategy = merge::Strategy::Replace;
        tp.strategy_reason = st.method.reason;
        tp.ranges = {plan::KeyRange{0, std::nullopt, std::nullopt, tp.table.total_bytes()}};
      } else {
        tp.strategy = merge::Strategy::Merge;
        tp.strategy_reason = "sync: upsert, unchanged rows skipped";
        tp.skip_unchanged = true;
        if (st.method.kind == sync::ChangeKind::UpdatedAt || st.method.kind == sync::ChangeKind::CreatedAt)
          tp.change_column = st.method.column;
        if (st.method.scans || changed[i] > 0) {
          tp.ranges = sync::change_ranges(reader_->conn(), *dst_, tp, st.method, changed[i], cfg_.scope.range_bytes, cfg_.scope.jobs);
          reader_->between_tables();
        }
      }
      keep.push_back(std::move(tp));
    }
    plan_.tables = std::move(keep);
    if (!uncopied.empty()) base_copy(uncopied);
  }

  // Changed rows, merged; each range commits its watermark part with its data.
  void sync_changes() {
    report::PhaseTimer t(rep_, "sync_changes");
    const pg::SnapshotInfo &si = result_.snapshot;
    pipeline::PipelineOptions popt = cfg_.pipeline;
    popt.jobs = cfg_.scope.jobs;
    popt.spill_dir.reset();
    popt.together_on_unique_conflict = true;
    popt.isolate_table_failures = true;  // a table whose merge fails, fails alone
    popt.toast_compression = result_.toast_compression;
    popt.holder = &*snap_;
    const std::string part_prefix = "sync " + si.id + " r";
    const std::string &schema = cfg_.scope.tool_schema;
    popt.on_commit = [&](pg::Connection &c, const plan::TablePlan &tp, const plan::KeyRange &r, const pipeline::WriteResult &) {
      sync::write_watermark(c, schema, tp.table.name, part_prefix + std::to_string(r.id), {si.changes_from, si.xmin}, "sync");
    };
    pipeline::PipelineResult done;
    {
      report::LiveProgress live(reporter_, rep_);
      done = pipeline::run_pipeline(plan_, ends(), si, popt, rep_);
    }
    // A failed table keeps its point (its parts stay behind it): the next
    // sync reads its window again. It takes no further part in this sync.
    for (const pipeline::TableFailure &f : done.failed_tables)
      result_.not_synced.push_back(f.table + ": not synced, its changes were rolled back: " + f.message);
    std::set<std::string> failed;
    for (const pipeline::TableFailure &f : done.failed_tables) failed.insert(f.table);
    // A table truncated or rewritten on the source after the snapshot looked
    // empty to this sync's reads: its point stays, so the next sync reads its
    // window again (what this one merged of it is correct, only incomplete).
    for (const plan::TablePlan &tp : rewritten_tables()) {
      if (failed.count(tp.table.name.display())) continue;  // a range of it found it so, and said so
      log::warn("{}", pg::table_rewritten(tp.table.name.display(), "its point stays where it was").what());
      result_.not_synced.push_back(tp.table.name.display() + ": truncated, rewritten or dropped on the source during "
                                                            "the sync; its point stays, the next sync reads its window again");
      failed.insert(tp.table.name.display());
    }
    for (const plan::TablePlan &tp : plan_.tables)
      if (failed.count(tp.table.name.display())) failed_.push_back(tp.table.name);
    std::erase_if(plan_.tables, [&](const plan::TablePlan &tp) { return failed.count(tp.table.name.display()) > 0; });
    std::erase_if(result_.tables, [&](const SyncedTable &st) { return failed.count(st.table.display()) > 0; });
    std::vector<std::pair<sql::QualifiedName, sync::Watermark>> points;
    for (const plan::TablePlan &tp : plan_.tables) points.push_back({tp.table.name, {si.changes_from, si.xmin}});
    sync::commit_watermarks(*dst_, schema, points, "sync");
    struct Counts {
      i64 sent = 0, merged = 0, appended = 0;
    };
    std::map<std::string, Counts> per_table;
    for (const report::RangeRecord &r : rep_.ranges()) {
      Counts &c = per_table[r.table];
      c.sent += r.rows;
      c.merged += std::max<i64>(r.merged, 0);
      if (r.appended) c.appended += r.rows;
    }
    for (SyncedTable &st : result_.tables) {
      const Counts &c = per_table[st.table.display()];
      st.rows_read = c.sent;
      st.rows_written = c.merged;
      st.rows_appended = c.appended;
    }
  }

  // The tables of this sync whose storage changed on the source after the
  // snapshot (checked once every read of them is done: unchanged now means
  // every read saw the table as it was).
  std::vector<plan::TablePlan> rewritten_tables() {
    std::vector<u32> oids;
    for (const plan::TablePlan &tp : plan_.tables) oids.push_back(tp.table.oid);
    std::vector<u32> changed = pg::rewritten_since_snapshot(reader_->conn(), oids);
    std::vector<plan::TablePlan> out;
    for (const plan::TablePlan &tp : plan_.tables)
      if (std::find(changed.begin(), changed.end(), tp.table.oid) != changed.end()) out.push_back(tp);
    return out;
  }

  // A timestamp sync cannot see deletes.
  void detect_deletes() {
    if (cfg_.deletes != Deletes::Detect) return;
    report::PhaseTimer t(rep_, "detect_deletes");
    // Deletes can be anywhere in a table: a table without changed rows (no
    // range to merge) is compared whole.
    // So is a table whose text key the target orders differently: its key
    // sets are compared by buckets of the key (diff/buckets.hpp).
    plan::Plan keys = plan_;
    for (plan::TablePlan &tp : keys.tables)
      if (tp.ranges.empty() || diff::by_buckets(tp.table))
        tp.ranges = {plan::KeyRange{0, std::nullopt, std::nullopt, tp.table.total_bytes()}};
    std::map<std::string, i64> deleted = sync::delete_missing_rows(keys, ends(), result_.snapshot, cfg_.scope.jobs);
    for (SyncedTable &st : result_.tables) st.deleted = deleted[st.table.display()];
  }

  // Defaults, NOT NULL, new indexes and constraints, once the data is in.
  void finish_drift() {
    report::PhaseTimer t(rep_, "schema_drift_after_data");
    for (std::string &todo : sync::apply_after_data(*dst_, drift_)) {
      // Harmless between syncs; the final sync must leave the schema complete.
      if (cfg_.final_sync) result_.not_synced.push_back(todo);
    }
  }

  void reset_sequences() {
    if (!cfg_.final_sync) return;
    report::PhaseTimer t(rep_, "reset_sequences");
    std::vector<sql::QualifiedName> names;
    for (const plan::TablePlan &tp : plan_.tables) names.push_back(tp.table.name);
    names.insert(names.end(), failed_.begin(), failed_.end());  // their sequences stand where the source's do too
    result_.sequences = sequences::reset_sequences(reader_->conn(), *dst_, names, plan_.whole_database,
                                                   cfg_.scope.excluded_schemas(), [this] { reader_->between_tables(); });
  }

  // The final sync: large objects made equal (a whole-database sync, or
  // --large-objects), and the materialized views the source has populated
  // refreshed (a whole-database sync: a subset's views may read tables it
  // does not sync), each timed.
  bool takes_large_objects() const { return plan_.whole_database || cfg_.large_objects; }
  void check_large_objects() {
    if (!cfg_.final_sync || !takes_large_objects()) return;
    schema::SchemaOptions opt = cfg_.schema;
    schema::check_roles(schema::large_object_roles(snap_->conn(), *dst_), opt);
  }
  void sync_nontables() {
    if (!cfg_.final_sync) return;
    if (takes_large_objects()) {
      report::PhaseTimer t(rep_, "large_objects");
      result_.large_objects = schema::sync_large_objects(snap_->conn(), *dst_, cfg_.schema, plan_.whole_database);
    } else if (i64 n = schema::count_large_objects(snap_->conn()); n > 0) {
      result_.large_objects_left_out = n;
      log::warn("{} large object(s) of the source are not synced: --table syncs a subset of the tables; pass "
                "--large-objects to take them", n);
    }
    if (plan_.whole_database) {
      report::PhaseTimer t(rep_, "refresh_matviews");
      result_.matviews = schema::refresh_matviews(snap_->conn(), *dst_, cfg_.scope.excluded_schemas());
      result_.matviews_considered = true;
    } else {
      log::info("materialized views are not refreshed: --table syncs a subset (a whole-database final sync refreshes them)");
    }
  }

  const SyncConfig &cfg_;
  report::RunReport &rep_;
  report::Reporter &reporter_;
  pg::Endpoints ends_;  // the scope's, with the writers' replica setting
  std::optional<pg::Connection> dst_;
  std::optional<pg::Connection> src_;  // from connect() to the drift phase
  std::optional<ledger::RunLock> run_lock_;  // released after the guard restored what it set aside
  std::shared_ptr<pg::SnapshotHolder> snap_;
  std::optional<pg::SnapshotReader> reader_;  // in snap_'s snapshot: table-by-table reads
  std::map<sql::QualifiedName, sync::Watermark> watermarks_;  // on the target when the changes were planned
  std::optional<ledger::TargetWriteGuard> guard_;  // restores what it set aside, also when the job fails
  sync::DriftScope drift_scope_;
  std::vector<sql::QualifiedName> written_;  // the selected tables, as the write guard knows them
  sync::DriftPlan drift_;
  catalog::Catalog source_catalog_, target_catalog_;  // read by the drift phase
  bool target_changed_ = false;  // by the drift phase, after target_catalog_ was read
  std::string source_time_zone_;  // the writers' TimeZone, for timestamp without time zone and date columns
  plan::Plan plan_;
  std::vector<sql::QualifiedName> failed_;  // tables whose changes failed to merge (not_synced)
  SyncResult result_;
};

}  // namespace

SyncResult run_sync(const SyncConfig &config, report::RunReport &report, report::Reporter &reporter) {
  return SyncJob(config, report, reporter).run();
}

}  // namespace pgcutover::jobs
