// The copy job, phase by phase:
//   connect      the target must take writes; the ledger's tables exist
//   snapshot     one exported snapshot: every read sees the same instant
//   set up       (one process at a time) resume the job, or plan it and
//                create the missing tables from pg_dump's pre-data
//   copy data    every pending range through the pipeline, in rounds until
//                the ledger shows none pending (other processes may hold some);
//                meanwhile each created table's own indexes and key
//                constraints are built as soon as its last range is done
//   finish       (one process at a time) the rest of the post-data,
//                sequences, sync points; only then is the job marked finished
//
// A rerun of a finished job does nothing and says so (--restart copies again).
#include "pgcutover/jobs/copy_job.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/ledger/run_lock.hpp"
#include "pgcutover/ledger/write_guard.hpp"
#include "pgcutover/pg/lock_watch.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pipeline/range_io.hpp"
#include "pgcutover/schema/objects.hpp"
#include "pgcutover/schema/tools.hpp"
#include "pgcutover/spill/claim.hpp"
#include "pgcutover/sql/copy.hpp"
#include "pgcutover/sql/server.hpp"
#include "pgcutover/sql/write_guard.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/spill/manifest.hpp"
#include "pgcutover/sync/watermark.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/util/temp_dir.hpp"
#include "early_indexes.hpp"

namespace pgcutover::jobs {

namespace fs = std::filesystem;

namespace {

// Replaces ranges, strategy and format of a plan with the job's, keeping only
// ranges not done yet (their tables stay, so the report names them).
void apply_job(plan::Plan &plan, const ledger::Job &job) {
  for (plan::TablePlan &tp : plan.tables) {
    tp.ranges.clear();
    for (const ledger::StoredRange &s : job.ranges) {
      if (!(s.table == tp.table.name)) continue;
      tp.strategy = merge::parse_strategy(s.strategy);
      tp.format = s.format == "text" ? copybin::StreamFormat::Text : copybin::StreamFormat::Binary;
      tp.strategy_reason = "as planned when the job started";
      if (!s.done) tp.ranges.push_back(s.range);
    }
  }
  std::erase_if(plan.tables, [&](const plan::TablePlan &tp) {
    return std::none_of(job.ranges.begin(), job.ranges.end(), [&](const auto &s) { return s.table == tp.table.name; });
  });
}

spill::Manifest manifest_of(const plan::Plan &plan, const pg::SnapshotInfo &snap, bool has_archive) {
  spill::Manifest m;
  m.snapshot = {snap.id, snap.taken_at, snap.xmin};
  m.has_schema_archive = has_archive;
  for (const plan::TablePlan &tp : plan.tables) {
    spill::ManifestTable t;
    t.name = tp.table.name;
    for (const catalog::ColumnDef &c : tp.table.columns) t.columns.push_back({c.name, c.type});
    t.key = tp.table.key;
    t.key_types = tp.table.key_types;
    t.format = tp.format;
    auto bound = [](const std::optional<plan::KeyBound> &b) {
      return b ? std::optional(b->values) : std::nullopt;
    };
    for (const plan::KeyRange &r : tp.ranges)
      t.ranges.push_back({r.id, bound(r.lower), bound(r.upper), r.planned_bytes, pipeline::spill_file_name(tp, r)});
    m.tables.push_back(std::move(t));
  }
  return m;
}

class CopyJob {
 public:
  CopyJob(const CopyConfig &cfg, report::RunReport &rep, report::Reporter &reporter)
      : cfg_(cfg), rep_(rep), reporter_(reporter), ends_(cfg.scope.ends), ledger_(cfg.scope.tool_schema, cfg.scope.job_name()) {
    popt_ = cfg.pipeline;
    popt_.ledger = &ledger_;
    sopt_ = cfg.schema;
    sopt_.exclude_schemas = cfg.scope.excluded_schemas();
    // Like the ranges: every ledger write after a restore commits
    // synchronously on the target, which makes the restore durable first.
    sopt_.async_commit = popt_.async_commit;
  }

  CopyResult run() {
    connect();
    // From here on a statement waiting on a lock says so, and who holds it.
    pg::LockWaitWatcher waits(ends_, [this](const std::string &s) { reporter_.set_status(s); });
    if (already_finished(ledger_.load(*dst_))) return std::move(result_);
    take_snapshot();
    set_up();
    if (result_.already_finished) return std::move(result_);
    prepare_writes();
    choose_loading();
    write_manifest();
    list_post_data();
    copy_data();
    if (guard_) guard_->restore(*dst_);  // triggers and foreign keys set aside, back before the indexes
    finish();
    if (keep_claim_.held()) keep_claim_.remove();  // the kept files and their manifest stay
    return std::move(result_);
  }

 private:
  const pg::Endpoints &ends() const { return ends_; }

  // The target must take writes before anything is read.
  void connect() {
    if (popt_.keep_spill && !popt_.spill_dir) throw_usage("--keep-spill needs --spill-dir");
    if (popt_.spill_dir) spill::check_folder_writable(*popt_.spill_dir);
    if (popt_.keep_spill) keep_claim_ = spill::FileClaim::create(*popt_.spill_dir / spill::KEEP_LOCK_FILE);
    dst_ = pg::Connection::open(ends().target_conninfo, ends().target_settings);
    pg::refuse_same_database(ends(), *dst_);
    pg::check_target_writable(*dst_);
    {
      pg::Connection src = pg::Connection::open(ends().source_conninfo, ends().source_settings);
      check_dump_tools(src);
      cfg_.scope.check_tables(src);  // before the tool schema is created on the target
    }
    ledger_.ensure_tables(*dst_);
    // Copies share the target with each other (the processes of one job
    // split its ranges), never with a sync, repair or finish.
    if (!cfg_.run_lock_held) run_lock_.emplace(ends().target_conninfo, ends().target_settings, cfg_.scope.tool_schema, "copy", ledger::RunMode::Shared);
  }

  // pg_dump must be able to read the source. It is chosen here, before the
  // ledger or anything else is written to the target; when none fits and the
  // copy would have to create tables, the copy stops here saying which
  // version it needs and how to go on (--no-schema into tables made beforehand).
  void check_dump_tools(pg::Connection &src) {
    if (!cfg_.create_schema) return;
    try {
      schema::DumpTools tools = schema::find_dump_tools(sopt_.pg_bin, src.server_version());
      if (sopt_.pg_bin.empty()) sopt_.pg_bin = tools.bin_dir;
    } catch (Error &e) {
      if (!schema::target_lacks_tables(src, *dst_, cfg_.scope.tables, sopt_.exclude_schemas)) return;
      e.hint += "; nothing was written to the target";
      throw;
    }
  }

  // A finished job is not copied again (every row would be merged again and
  // the target's ALWAYS triggers fire) unless --restart asks for it.
  bool already_finished(const std::optional<ledger::Job> &job) {
    if (!job || job->state != "finished" || cfg_.restart) return false;
    result_.job = ledger_.job();
    result_.target = dst_->display_name();
    result_.already_finished = true;
    result_.finished_at = job->finished_at;
    for (const ledger::StoredRange &r : job->ranges)
      if (std::find(result_.tables.begin(), result_.tables.end(), r.table) == result_.tables.end())
        result_.tables.push_back(r.table);
    log::info("job {} finished at {}: nothing to copy (rerun with --restart to copy again)", ledger_.job(),
              job->finished_at);
    return true;
  }

  void take_snapshot() {
    snap_.emplace(pg::Connection::open(ends().source_conninfo, ends().source_settings));
    result_.job = ledger_.job();
    result_.source = snap_->conn().display_name();
    result_.target = dst_->display_name();
    result_.snapshot = snap_->info();
    reader_.emplace(pg::Connection::open(ends().source_conninfo, ends().source_settings), snap_->info());
  }

  // Planning reads table after table through the reader, whose locks go
  // every few tables (pg::SnapshotReader).
  plan::Plan build_plan(plan::BuildOptions bopt) {
    bopt.between_tables = [this] { reader_->between_tables(); };
    return plan::build_plan(reader_->conn(), *dst_, bopt);
  }

  // One process at a time: a second process on the job waits here, then
  // joins the job the first one planned.
  void set_up() {
    ledger::JobLock lock(ledger_, *dst_);
    std::optional<ledger::Job> job = ledger_.load(*dst_);
    if (already_finished(job)) return;  // by another process, while this one waited for the lock
    plan::BuildOptions bopt = cfg_.scope.build_options();
    bopt.ranges.source_order = true;  // the copy's ranges are read by the source only (plan::KeyRange::source_order)
    bopt.check_fk_parents = true;
    bopt.strategy = cfg_.strategy;
    bopt.format = cfg_.format;
    if (job && job->state == "running" && !cfg_.restart) {
      resume(*job, bopt);
      return;
    }
    // A process still running the old plan must not mark ranges of the new
    // one: fence it out before planning (this waits for its ranges in flight,
    // so the plan sees what they committed).
    if (job) ledger_.fence(*dst_);
    {
      report::PhaseTimer t(rep_, "plan_ranges");
      if (job) bopt.emptied = job->created_tables.tables;
      plan_ = build_plan(bopt);
    }
    // Every refusal is reported before anything is written.
    plan::check_refusals(plan_);
    if (plan_.tables.empty()) throw_usage("no table to copy", "the source has no user table, or --table matched none");
    check_large_objects();
    std::vector<int> pre = plan_missing_tables();
    if (job) keep_created(job->created_tables);
    if (job) choose_tables_to_empty(*job);
    // The job is recorded before its tables are created ("creating"), and the
    // tables it emptied commit with it: a crash anywhere in between leaves a
    // job that owns what it created, planned anew by the next run.
    ledger_.create(*dst_, plan_, created_, "copy", result_.source, pre.empty() ? "running" : "creating",
                   [&] { empty_tables_the_job_created(); });
    if (pre.empty()) return;
    create_missing_tables(pre);
    ledger_.set_state(*dst_, "running", "pre_data_done");
  }

  // A whole-database copy (or --large-objects) takes the large objects: the
  // roles their owners and GRANTs need are checked now, before any data. A
  // subset leaves them out, and says so.
  bool takes_large_objects() const { return plan_.whole_database || cfg_.large_objects; }
  void check_large_objects() {
    if (takes_large_objects()) {
      schema::check_roles(schema::large_object_roles(snap_->conn(), *dst_), sopt_);
    } else if (i64 n = schema::count_large_objects(snap_->conn()); n > 0) {
      result_.large_objects_left_out = n;
      log::warn("{} large object(s) of the source are not copied: --table copies a subset of the tables; pass "
                "--large-objects to take them", n);
    }
  }

  // After the data: the large objects, and the materialized views the source
  // has populated, refreshed (a whole-database copy; a subset's views may
  // read tables it does not copy: `sync --final` of the whole database
  // refreshes them).
  void copy_nontables() {
    if (takes_large_objects()) {
      report::PhaseTimer t(rep_, "large_objects");
      result_.large_objects = schema::sync_large_objects(snap_->conn(), *dst_, sopt_, false);
    }
    if (plan_.whole_database) {
      report::PhaseTimer t(rep_, "refresh_matviews");
      result_.matviews = schema::refresh_matviews(snap_->conn(), *dst_, cfg_.scope.excluded_schemas());
      result_.matviews_considered = true;
    }
  }

  // --restart (or a job whose tables were being created): the tables the job
  // itself created (the ledger knows them) and this run copies again are
  // emptied, in one statement, in the transaction that records the new job,
  // so they are filled as new ones are (key-less tables included; planned as
  // empty).
  void choose_tables_to_empty(const ledger::Job &job) {
    for (const plan::TablePlan &tp : plan_.tables)
      if (tp.target_exists && tp.table.relkind != 'f' && contains(job.created_tables.tables, tp.table.name))
        emptied_.push_back(tp.table.name);
  }

  void empty_tables_the_job_created() {
    if (emptied_.empty()) return;
    std::string list;
    for (const sql::QualifiedName &n : emptied_) list += (list.empty() ? "" : ", ") + n.display();
    log::warn("{}emptying {} table(s) job {} created before: {}",
              cfg_.restart ? "--restart: " : "an earlier run stopped while creating tables; ", emptied_.size(),
              ledger_.job(), list);
    try {
      // Their ON TRUNCATE triggers (which would write into other tables) off,
      // the tables emptied, the triggers on as they were.
      std::vector<std::string> schemas, tables;
      for (const sql::QualifiedName &n : emptied_) {
        schemas.push_back(n.schema);
        tables.push_back(n.name);
      }
      pg::Result trg = dst_->query(sql::truncate_triggers(), {sql::array_literal(schemas), sql::array_literal(tables)});
      for (int i = 0; i < trg.rows(); ++i)
        dst_->exec(sql::write_guard::disable_trigger({std::string(trg.get(i, 0)), std::string(trg.get(i, 1))},
                                                     std::string(trg.get(i, 2))));
      dst_->exec(sql::truncate_tables(emptied_));
      for (int i = 0; i < trg.rows(); ++i)
        dst_->exec(sql::write_guard::enable_trigger({std::string(trg.get(i, 0)), std::string(trg.get(i, 1))},
                                                    std::string(trg.get(i, 2)), std::string(trg.get(i, 3))));
    } catch (const Error &e) {
      throw Error(e.kind, "cannot empty the tables job " + ledger_.job() + " created (" + list + "): " + e.what(),
                  "nothing was emptied and the job is as it was; drop what references them from outside the job, or "
                  "drop the tables and rerun");
    }
  }

  // The tables an earlier run of the job created stay the job's (their
  // post-data and their COPY FREEZE) when --restart copies them again.
  void keep_created(const ledger::CreatedTables &before) {
    for (const sql::QualifiedName &n : before.tables)
      if (!contains(created_.tables, n) && std::any_of(plan_.tables.begin(), plan_.tables.end(),
                                                       [&](const plan::TablePlan &tp) { return tp.table.name == n; }))
        created_.tables.push_back(n);
  }

  static bool contains(const std::vector<sql::QualifiedName> &names, const sql::QualifiedName &n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  }

  void resume(const ledger::Job &job, plan::BuildOptions bopt) {
    result_.resumed = true;
    report::PhaseTimer t(rep_, "plan_ranges");
    bopt.resume = true;
    plan_ = build_plan(bopt);
    plan::check_refusals(plan_);
    ledger::Job changed = job;
    apply_changed_choices(changed);
    apply_job(plan_, changed);
    ledger_.join(job);
    created_ = job.created_tables;
    i64 done = std::count_if(job.ranges.begin(), job.ranges.end(), [](const auto &r) { return r.done; });
    log::info("resuming job {}: {} of {} range(s) already done", ledger_.job(), done, job.ranges.size());
  }

  // A --format or --strategy given to a job that is running. A format only
  // changes how rows travel: the pending ranges take it (in the ledger, so
  // every process of the job does). A strategy was chosen with the target as
  // it was when the job started (tables it created go direct, their keys are
  // built after the data): a different one is refused before anything moves.
  void apply_changed_choices(ledger::Job &job) {
    if (cfg_.format == plan::FormatChoice::Auto && cfg_.strategy == merge::Strategy::Auto) return;
    struct Change {
      sql::QualifiedName table;
      std::string from, to;
      i64 ranges = 0;
    };
    std::vector<Change> formats;
    std::vector<std::string> strategies;
    for (const plan::TablePlan &tp : plan_.tables) {
      auto pending = std::find_if(job.ranges.begin(), job.ranges.end(),
                                  [&](const ledger::StoredRange &r) { return r.table == tp.table.name && !r.done; });
      if (pending == job.ranges.end()) continue;
      if (cfg_.strategy != merge::Strategy::Auto && pending->strategy != merge::to_string(cfg_.strategy))
        strategies.push_back(tp.table.name.display() + ": " + pending->strategy);
      std::string format = copybin::to_string(tp.format);
      if (cfg_.format != plan::FormatChoice::Auto && pending->format != format) {
        i64 n = std::count_if(job.ranges.begin(), job.ranges.end(),
                              [&](const ledger::StoredRange &r) { return r.table == tp.table.name && !r.done; });
        formats.push_back({tp.table.name, pending->format, format, n});
      }
    }
    if (!strategies.empty()) {
      std::string list;
      for (const std::string &s : strategies) list += "\n  " + s;
      throw_usage(fmt::format("job {} is running, and --strategy {} differs from the strategy its pending ranges were "
                              "planned with:{}",
                              ledger_.job(), merge::to_string(cfg_.strategy), list),
                  "rerun without --strategy to finish the job as planned, or add --restart to plan it anew with "
                  "--strategy " + std::string(merge::to_string(cfg_.strategy)) + "; nothing was changed");
    }
    for (const Change &c : formats) {
      ledger_.set_pending_choice(*dst_, c.table, job_strategy(job, c.table), c.to);
      for (ledger::StoredRange &r : job.ranges)
        if (r.table == c.table && !r.done) r.format = c.to;
      log::info("{}: its {} pending range(s) go as {} (--format), planned as {}", c.table.display(), c.ranges, c.to,
                c.from);
    }
  }

  static std::string job_strategy(const ledger::Job &job, const sql::QualifiedName &table) {
    for (const ledger::StoredRange &r : job.ranges)
      if (r.table == table && !r.done) return r.strategy;
    return "merge";
  }

  // Which tables the job creates (the target lacks them) and the pre-data
  // entries that create them, checked (the roles their owners and GRANTs
  // name) before anything is written.
  std::vector<int> plan_missing_tables() {
    std::vector<sql::QualifiedName> missing;
    for (const plan::TablePlan &tp : plan_.tables)
      if (!tp.target_exists) missing.push_back(tp.table.name);
    created_.whole = plan_.whole_database && !plan_.target_has_tables;
    created_.tables = missing;
    created_.tables.insert(created_.tables.end(), plan_.missing_ancestors.begin(), plan_.missing_ancestors.end());
    if (missing.empty()) return {};
    if (!cfg_.create_schema) {
      std::string list;
      for (const auto &m : missing) list += (list.empty() ? "" : ", ") + m.display();
      throw_usage("tables missing on the target: " + list, "create them first, or drop --no-schema");
    }
    report::PhaseTimer t(rep_, "create_tables");
    ensure_archive();
    std::vector<int> todo = objects_->missing_on_target(*dst_, job_entries());
    schema::check_roles(schema::missing_roles(*objects_, todo, *dst_), sopt_);
    std::vector<int> pre = objects_->in_section(todo, schema::Section::PreData);
    log::info("creating {} table(s) on the target: {} schema object(s) from pg_dump's archive", missing.size(),
              pre.size());
    note_tables_created_empty(pre);
    return pre;
  }

  // The missing tables' definitions and everything they need (schemas,
  // types, functions, sequences, collations, extensions, other tables'
  // definitions a partition or a row type needs; pg_dump's dependencies,
  // from pg_depend), from pg_dump's archive of the whole schema, in one
  // transaction; their post-data in finish().
  void create_missing_tables(const std::vector<int> &pre) {
    report::PhaseTimer t(rep_, "create_tables");
    // One transaction, unless it would hold more locks than a sixteenth of
    // the target's lock table: then one per batch (the job is recorded
    // "creating", so a failure between batches is finished by a rerun).
    i64 slots = dst_->exec(sql::server::lock_table_slots()).get_i64(0, 0);
    size_t batch = static_cast<size_t>(std::max<i64>(10, slots / 16));
    if (pre.size() <= batch) {
      schema::restore_entries(ends().target_conninfo, *archive_, pre, 1, true, sopt_,
                              "the definitions of the tables and what they need");
    } else {
      int n = schema::restore_entries_in_batches(ends().target_conninfo, *archive_, pre, batch, sopt_,
                                                 "the definitions of the tables and what they need");
      log::info("created in {} transactions of at most {} schema objects each (the target's lock table holds {} "
                "locks: max_locks_per_transaction x (max_connections + max_prepared_transactions))",
                n, batch, slots);
    }
    if (sopt_.async_commit) pg::make_durable(*dst_);  // the restore's commits, before the ledger says so
    if (popt_.spill_dir && popt_.keep_spill) keep_schema_archive(job_entries());
  }

  // Tables whose definitions come along because something the job's tables
  // need depends on them (a sequence owned by another table, a row type):
  // created empty, said by name.
  void note_tables_created_empty(const std::vector<int> &pre) {
    for (int id : pre) {
      const schema::EntryFacts &f = objects_->facts(id);
      if (f.type != "table" && f.type != "partitioned table") continue;
      bool ours = std::any_of(created_.tables.begin(), created_.tables.end(),
                              [&](const sql::QualifiedName &n) { return n.display() == f.relation_name; });
      if (!ours)
        log::warn("{} is created empty (its rows are not copied): an object the copied tables need depends on it",
                  f.relation_name);
    }
  }

  // With --keep-spill: the archive and the lists of what to restore from it,
  // before and after the data, for `pgcutover load`.
  void keep_schema_archive(const std::vector<int> &entries) {
    const fs::path dir = *popt_.spill_dir;
    fs::copy_file(archive_->path, dir / spill::SCHEMA_ARCHIVE_FILE, fs::copy_options::overwrite_existing);
    fs::permissions(dir / spill::SCHEMA_ARCHIVE_FILE, fs::perms::owner_read | fs::perms::owner_write);
    schema::write_use_list(*archive_, objects_->in_section(entries, schema::Section::PreData), dir / spill::PRE_DATA_LIST_FILE);
    schema::write_use_list(*archive_, objects_->in_section(entries, schema::Section::PostData), dir / spill::POST_DATA_LIST_FILE);
  }

  // The schema archive of the whole database in the copy's snapshot, listed,
  // with what the source says of each entry; once per run.
  void ensure_archive() {
    if (objects_) return;
    fs::path path = schema::dump_schema(ends().source_conninfo, snap_->info(), std::nullopt, archive_dir_.path(), sopt_,
                                        schema::unreadable_tables(snap_->conn(), sopt_.exclude_schemas));
    archive_ = schema::list_archive(path, sopt_);
    objects_ = schema::ArchiveObjects::read(*archive_, snap_->conn());
  }

  // The archive entries of what this job creates: every object, when it
  // created the whole schema of an empty target; else the created tables'
  // own entries and what they need.
  std::vector<int> job_entries() {
    return created_.whole ? objects_->all() : objects_->for_tables(created_.tables);
  }

  // Before any data moves: writers apply rows as the source has them, or the
  // command stops here naming the tables and the privilege to grant.
  void prepare_writes() {
    std::vector<sql::QualifiedName> names;
    for (const plan::TablePlan &tp : plan_.tables) names.push_back(tp.table.name);
    if (cfg_.writes_decided) {
      result_.target_writes = *cfg_.writes_decided;
      if (result_.target_writes.replica) dst_->exec(pg::replica_setup());
    } else {
      guard_.emplace(ends_, cfg_.scope.tool_schema);
      // The processes of this job share what is set aside: the last one out restores it.
      if (run_lock_) guard_->share_with(&*run_lock_);
      result_.target_writes = guard_->prepare(*dst_, names);
    }
    ends_.target_settings.replica_writes = result_.target_writes.replica;
  }

  // How the writers load: TOAST compression, asynchronous range commits, and
  // COPY FREEZE for one-range tables this copy created (nothing else writes
  // them, and the range's transaction truncates what a failed attempt left)
  // that are big enough to be worth the TRUNCATE (CopyConfig::freeze_min_bytes).
  void choose_loading() {
    popt_.toast_compression = pg::writer_toast_compression(*dst_, cfg_.toast);
    result_.toast_compression = popt_.toast_compression;
    result_.async_commit = popt_.async_commit;
    log::info("new TOAST values: {}; range commits {}", pg::describe_toast_compression(popt_.toast_compression),
              popt_.async_commit ? "asynchronous (made durable before the job finishes)" : "synchronous");
    for (plan::TablePlan &tp : plan_.tables) {
      // (Not the tables --restart emptied: their post-data may be in, and the
      // range's TRUNCATE would meet their foreign keys.)
      bool created = contains(created_.tables, tp.table.name) && !contains(emptied_, tp.table.name);
      tp.freeze = created && tp.ranges.size() == 1 && tp.strategy == merge::Strategy::Direct &&
                  tp.table.relkind == 'r' && !popt_.write.target_name &&
                  tp.ranges.front().planned_bytes >= cfg_.freeze_min_bytes;
      if (tp.freeze) result_.frozen_tables.push_back(tp.table.name);
    }
  }

  void write_manifest() {
    const pg::SnapshotInfo &si = snap_->info();
    log::info("copying as of {} (snapshot {}, xmin {}, held by source pid {})", si.taken_at, si.id, si.xmin,
              si.holder_pid);
    if (!(popt_.spill_dir && popt_.keep_spill)) return;
    bool has_archive = fs::exists(*popt_.spill_dir / spill::SCHEMA_ARCHIVE_FILE);
    spill::write_manifest(*popt_.spill_dir, manifest_of(plan_, si, has_archive));
  }

  // The post-data of the tables this job created, item by item, and the
  // thread that builds each table's own indexes once its data is in.
  void list_post_data() {
    if (created_.tables.empty()) return;
    std::optional<ledger::Job> job = ledger_.load(*dst_);
    if (job && job->schema_state == "post_data_done") return;
    ensure_post_data();
    bool during = false;
    switch (cfg_.index_builds) {
      case CopyConfig::IndexBuilds::DuringData:
        during = true;
        result_.index_builds = "during the data (--index-builds during-data)";
        break;
      case CopyConfig::IndexBuilds::AfterData:
        result_.index_builds = "after the data (--index-builds after-data)";
        break;
      case CopyConfig::IndexBuilds::Auto:
        during = !pg::share_one_machine(snap_->conn(), *dst_);
        result_.index_builds = during ? "during the data (source and target on different machines)"
                                      : "after the data (source and target share one machine's CPUs)";
        break;
    }
    log::info("indexes of created tables: {}", result_.index_builds);
    // While the data loads: one build at a time unless --index-jobs says more.
    if (during) early_.emplace(ends_, ledger_, post_, cfg_.index_jobs > 0 ? cfg_.index_jobs : 1, sopt_, rep_.progress.ranges_done);
  }

  // The post-data items of what the job creates, listed once.
  void ensure_post_data() {
    if (!post_.archive.empty()) return;
    ensure_archive();
    post_ = schema::list_post_data(*objects_, objects_->in_section(job_entries(), schema::Section::PostData),
                                   snap_->conn());
  }

  int index_jobs() const { return cfg_.index_jobs > 0 ? cfg_.index_jobs : popt_.jobs; }

  // Every pending range through the pipeline. Ranges another process holds
  // are skipped; rounds repeat until the ledger shows none pending.
  void copy_data() {
    report::PhaseTimer t(rep_, "copy_data");
    log::info("copying {} table(s) in {} range(s), {} at a time", plan_.tables.size(), plan_.total_ranges(), popt_.jobs);
    report::LiveProgress live(reporter_, rep_);
    popt_.holder = &*snap_;  // idle through the data phase: watched
    pipeline::run_pipeline(plan_, ends(), snap_->info(), popt_, rep_);
    // The control connection sat idle through the data phase; a target
    // restart meanwhile (survived by the ranges' retries) would have killed it.
    dst_ = pg::Connection::open(ends().target_conninfo, ends().target_settings);
    if (run_lock_) run_lock_->hold();
    for (int round = 0; ledger_.pending(*dst_) > 0; ++round) {
      cancel::throw_if_requested();
      ledger_.check_generation(*dst_);  // the pending ranges may be another plan's (--restart elsewhere)
      std::optional<ledger::Job> job = ledger_.load(*dst_);
      if (!job) throw_internal("the ledger job vanished while copying");
      plan::Plan rest = plan_;
      apply_job(rest, *job);
      if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
      pipeline::run_pipeline(rest, ends(), snap_->info(), popt_, rep_);
    }
  }

  // One process at a time: whoever comes first builds the indexes. The job
  // is marked finished last: a failure before (sequences, sync points) leaves
  // it running, and a rerun does what is left.
  void finish() {
    ledger::JobLock lock(ledger_, *dst_);
    ledger_.check_generation(*dst_);  // restarted elsewhere meanwhile: that process finishes it
    std::optional<ledger::Job> job = ledger_.load(*dst_);
    if (job && job->schema_state != "post_data_done" && !created_.tables.empty()) {
      report::PhaseTimer t(rep_, "build_indexes");
      if (early_) result_.early_indexes = early_->finish();  // lets the table in progress finish
      ensure_post_data();  // not listed before the data when this run found the data done
      // Another process of the job may be building a table's indexes: wait for it.
      ledger_.lock_post_data(*dst_);
      std::vector<const schema::PostDataItem *> rest = post_.missing_on_target(*dst_, post_.all());
      result_.post_data_after = static_cast<int>(rest.size());
      log::info("building {} post-data item(s): indexes, constraints, triggers (pg_restore --jobs={})", rest.size(),
                index_jobs());
      schema::restore_items(ends().target_conninfo, post_, rest, index_jobs(), sopt_, "the post-data");
      if (sopt_.async_commit) pg::make_durable(*dst_);  // this and the early builds, before post_data_done
      ledger_.unlock_post_data(*dst_);
    }
    ledger_.set_state(*dst_, "running", "post_data_done");
    copy_nontables();
    for (const plan::TablePlan &tp : plan_.tables) result_.tables.push_back(tp.table.name);
    result_.created_tables = created_.tables;
    {
      // Sequences feeding the copied tables stand where the source's do.
      report::PhaseTimer t(rep_, "reset_sequences");
      result_.sequences = sequences::reset_sequences(reader_->conn(), *dst_, result_.tables, plan_.whole_database,
                                                     cfg_.scope.excluded_schemas(), [this] { reader_->between_tables(); });
    }
    // The point each table was copied at: the earliest snapshot any of its
    // ranges used. It is also the table's watermark: the next sync starts there.
    for (const plan::TablePlan &tp : plan_.tables) {
      sync::ChangeMethod m = sync::choose_change_method(tp.table, std::nullopt);
      if (auto s = sync::final_sync_scan(tp.table, m, sync::DEFAULT_SCAN_BELOW)) result_.final_sync_scans.push_back(*s);
    }
    result_.table_points = ledger_.table_points(*dst_);
    std::vector<std::pair<sql::QualifiedName, sync::Watermark>> points;
    for (const ledger::TablePoint &p : result_.table_points) points.push_back({p.table, {p.taken_at, p.xmin}});
    sync::commit_watermarks(*dst_, cfg_.scope.tool_schema, points, "copy");
    ledger_.set_state(*dst_, "finished", "post_data_done");
  }

  const CopyConfig &cfg_;
  report::RunReport &rep_;
  report::Reporter &reporter_;
  pg::Endpoints ends_;  // the scope's, with the writers' replica setting
  ledger::Ledger ledger_;
  pipeline::PipelineOptions popt_;
  schema::SchemaOptions sopt_;
  std::optional<pg::Connection> dst_;
  std::optional<ledger::RunLock> run_lock_;  // released after the guard restored what it set aside
  std::optional<pg::SnapshotHolder> snap_;
  std::optional<pg::SnapshotReader> reader_;  // in snap_'s snapshot: table-by-table reads
  std::optional<ledger::TargetWriteGuard> guard_;  // restores what it set aside, also when the job fails
  spill::FileClaim keep_claim_;  // with --keep-spill: this run owns the folder's manifest
  plan::Plan plan_;
  ledger::CreatedTables created_;
  std::vector<sql::QualifiedName> emptied_;  // by --restart: created by the job before, emptied by this run
  util::TempDir archive_dir_;                // the schema archive, kept for the post-data
  std::optional<schema::Archive> archive_;
  std::optional<schema::ArchiveObjects> objects_;  // reads archive_
  schema::PostData post_;
  std::optional<EarlyIndexes> early_;        // before the folder it reads: stopped first
  CopyResult result_;
};

}  // namespace

CopyResult run_copy(const CopyConfig &config, report::RunReport &report, report::Reporter &reporter) {
  try {
    return CopyJob(config, report, reporter).run();
  } catch (Error &e) {
    if (e.sqlstate == "55P03" && e.hint.empty()) pg::explain_lock_timeout(e, config.scope.ends, config.scope.tables);
    throw;
  }
}

}  // namespace pgcutover::jobs
