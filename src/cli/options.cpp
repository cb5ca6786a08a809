#include "pgcutover/cli/options.hpp"

namespace pgcutover::cli {

namespace {

const CLI::IsMember STRATEGIES({"auto", "direct", "merge"});
const CLI::IsMember FORMATS({"auto", "binary", "text"});

void add_strategy_and_format(CLI::App &cmd, std::string &strategy, std::string &format) {
  cmd.add_option("--strategy", strategy, "how ranges land on the target")->check(STRATEGIES)->capture_default_str();
  cmd.add_option("--format", format, "COPY format")->check(FORMATS)->capture_default_str();
}

void add_pg_bin(CLI::App &cmd, std::string &pg_bin) {
  cmd.add_option("--pg-bin", pg_bin, "folder of pg_dump/pg_restore (default: the newest installed)");
}

void add_retries(CLI::App &cmd, int &retries) {
  cmd.add_option("--retries", retries, "retries of a range after a transient failure (connection lost, server "
                                       "restarting, deadlock)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
}

void add_loading(CLI::App &cmd, LoadingOptions &o) {
  cmd.add_option("--toast-compression", o.toast_compression,
                 "compression of new TOAST values in columns without their own (auto: lz4 where the target has it)")
      ->check(CLI::IsMember({"auto", "lz4", "pglz", "server"}))
      ->capture_default_str();
  cmd.add_flag("--synchronous-commit", o.synchronous_commit,
               "each range's COMMIT waits for the target's WAL flush (default: one flush at the end of the data)");
}

void add_spill_dir(CLI::App &cmd, std::string &dir) {
  cmd.add_option("--spill-dir", dir, "spill each range to a zstd file here before loading it");
}

}  // namespace

void add_common_options(CLI::App &cmd, CommonOptions &o) {
  cmd.add_flag("--json", o.json, "print the result as JSON on stdout; no live progress");
  cmd.add_flag("--quiet,-q", o.quiet, "only warnings and errors on stderr");
  cmd.add_flag("--verbose,-v", o.verbose, "more detail on stderr (-vv: every SQL statement)");
}

void add_connection_options(CLI::App &cmd, ConnectionOptions &o, bool with_timeouts) {
  cmd.add_option("--source", o.source, "source conninfo or URI (PG* variables and ~/.pgpass apply)")->required();
  cmd.add_option("--target", o.target, "target conninfo or URI")->required();
  if (!with_timeouts) return;
  cmd.add_option("--lock-timeout", o.lock_timeout, "give up waiting for a lock after this long (0 = wait)")
      ->capture_default_str();
  cmd.add_option("--statement-timeout", o.statement_timeout,
                 "cancel any one statement (a range's COPY included) after this long (0 = no limit)")
      ->capture_default_str();
}

void add_selection_options(CLI::App &cmd, SelectionOptions &o, SelectionParts parts) {
  cmd.add_option("--table,-t", o.tables,
                 "schema.table (repeatable; quote mixed case: '\"My\".\"T\"'); default: every table")
      ->take_all();
  cmd.add_option("--exclude-schema", o.exclude_schemas, "schema to leave out (repeatable)");
  cmd.add_option("--tool-schema", o.tool_schema, "schema of pgcutover's own tables on the target (never copied)")
      ->capture_default_str();
  if (parts.job)
    cmd.add_option("--job", o.job, "ledger job name (default: derived from the source and the tables); rerunning "
                                   "the same job resumes it, and processes started on one job share its ranges");
  if (!parts.ranges) return;
  cmd.add_option("--jobs,-j", o.jobs, "ranges worked on at the same time")->check(CLI::Range(1, 64))->capture_default_str();
  cmd.add_option("--range-bytes", o.range_bytes, "target size of a key range (heap + TOAST bytes)")->capture_default_str();
}

constexpr const char *NO_OWNER = "objects the copy creates are owned by the target role (the source's owners need not "
                                 "exist there); their GRANTs are kept";
constexpr const char *NO_PRIVILEGES = "leave out the GRANTs of the objects the copy creates (the roles they name need "
                                      "not exist on the target)";

void add_owner_options(CLI::App &cmd, ObjectOptions &o) {
  cmd.add_flag("--no-owner", o.no_owner, NO_OWNER);
  cmd.add_flag("--no-privileges", o.no_privileges, NO_PRIVILEGES);
}

void add_object_options(CLI::App &cmd, ObjectOptions &o) {
  add_owner_options(cmd, o);
  cmd.add_flag("--with-fk-parents", o.with_fk_parents,
               "also copy the tables that the selected tables' foreign keys reference (else such a selection is refused)");
}

void add_copy_options(CLI::App &cmd, CopyOptions &o) {
  add_connection_options(cmd, o.conn, true);
  add_selection_options(cmd, o.sel, {.job = true, .ranges = true});
  add_strategy_and_format(cmd, o.strategy, o.format);
  add_spill_dir(cmd, o.spill_dir);
  cmd.add_option("--spill-level", o.spill_level, "zstd level of spill files")->check(CLI::Range(1, 19))->capture_default_str();
  cmd.add_flag("--keep-spill", o.keep_spill, "keep spill files (and a manifest) for `pgcutover load --from-spill`");
  add_pg_bin(cmd, o.pg_bin);
  add_object_options(cmd, o.objects);
  cmd.add_flag("!--no-schema", o.schema, "do not create missing tables or build their indexes (data only)");
  cmd.add_flag("--large-objects", o.large_objects, "copy the large objects also when --table names a subset (a "
                                                   "whole-database copy always does)");
  cmd.add_flag("--restart", o.restart, "forget the job of this name (unfinished, or finished: copy again) and plan anew");
  cmd.add_option("--index-jobs", o.index_jobs, "indexes and constraints built at the same time (default: --jobs after the data, 1 during it)")
      ->check(CLI::Range(1, 64));
  cmd.add_option("--index-builds", o.index_builds,
                 "when a created table's own indexes and keys are built: during-data (as soon as its ranges are done), "
                 "after-data, or auto (during the data when source and target are on different machines)")
      ->check(CLI::IsMember({"auto", "during-data", "after-data"}))
      ->capture_default_str();
  add_retries(cmd, o.retries);
  cmd.add_option("--freeze-above", o.freeze_above,
                 "load a one-range table the copy created with TRUNCATE + COPY FREEZE (no later freezing "
                 "vacuum) when its data is at least this big; below it the TRUNCATE costs more than it saves "
                 "(0: every one-range table)")
      ->capture_default_str();
  add_loading(cmd, o.loading);
  cmd.add_option("--retry-delay", o.retry_delay, "seconds before the first retry; doubles each time, at most 30")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
}

void add_plan_options(CLI::App &cmd, PlanOptions &o) {
  add_connection_options(cmd, o.conn, false);
  add_selection_options(cmd, o.sel, {.job = false, .ranges = true});
  add_strategy_and_format(cmd, o.strategy, o.format);
  add_object_options(cmd, o.objects);
  cmd.add_option("--config", o.config, "the sync config file, to show its per-table change columns");
  cmd.add_option("--scan-below", o.scan_below, "the sync's --scan-below: which tables the final sync would scan "
                                               "or refuse")
      ->capture_default_str();
  cmd.add_option("--writer-time-zone", o.writer_time_zone,
                 "the sync's --writer-time-zone: the zone shown for local-time change columns");
  cmd.add_flag("--allow-replica-identity", o.allow_replica_identity,
               "follow mode: show the classes as they would be with the ALTER TABLE ... REPLICA IDENTITY that "
               "would make more tables followable allowed");
}

void add_load_options(CLI::App &cmd, LoadOptions &o) {
  cmd.add_option("--target", o.target, "target conninfo or URI")->required();
  cmd.add_option("--from-spill", o.from_spill, "a spill folder written by `copy --spill-dir DIR --keep-spill`")
      ->required();
  cmd.add_option("--jobs,-j", o.jobs, "ranges loaded at the same time")->check(CLI::Range(1, 64))->capture_default_str();
  add_pg_bin(cmd, o.pg_bin);
  add_owner_options(cmd, o.objects);
  cmd.add_option("--tool-schema", o.tool_schema, "schema of pgcutover's own tables on the target")->capture_default_str();
}

void add_finish_options(CLI::App &cmd, FinishOptions &o) {
  cmd.add_option("--target", o.target, "target conninfo or URI")->required();
  cmd.add_option("--tool-schema", o.tool_schema, "schema of pgcutover's own tables on the target (removed)")
      ->capture_default_str();
  cmd.add_flag("--force", o.force, "remove it even when a job in it is unfinished (its progress is forgotten)");
}

void add_verify_options(CLI::App &cmd, VerifyOptions &o) {
  add_connection_options(cmd, o.conn, false);
  add_selection_options(cmd, o.sel, {.job = true, .ranges = true});
  cmd.add_option("--mode", o.mode, "count: row counts; hash: counts and content hashes; full: also name the "
                                   "differing keys and columns")
      ->check(CLI::IsMember({"count", "hash", "full"}))
      ->capture_default_str();
  cmd.add_option("--hash", o.hash, "client: XXH3 over each side's COPY stream; server: hash sums computed by the "
                                   "servers")
      ->check(CLI::IsMember({"client", "server"}))
      ->capture_default_str();
  cmd.add_flag("--repair", o.repair, "make the target equal the source for the differing keys, then verify again");
}

void add_sync_options(CLI::App &cmd, SyncOptions &o) {
  add_connection_options(cmd, o.conn, false);
  add_selection_options(cmd, o.sel, {.job = false, .ranges = true});
  add_owner_options(cmd, o.objects);
  cmd.add_option("--since", o.since, "auto: each table from its recorded point; or a time stamp for every table "
                                     "(ISO 8601; without an offset it is UTC)")
      ->capture_default_str();
  cmd.add_option("--overlap", o.overlap, "taken off each watermark (long transactions commit late); re-read rows "
                                         "that did not change are not rewritten")
      ->capture_default_str();
  cmd.add_option("--writer-time-zone", o.writer_time_zone,
                 "the zone applications write `timestamp without time zone` and `date` change columns in (default: "
                 "the source role's TimeZone; per table: writer_time_zone in --config)");
  cmd.add_option("--warn-look-back", o.warn_look_back, "warn when a transaction open on the source longer than this "
                                                       "holds the next sync's starting point back")
      ->capture_default_str();
  cmd.add_flag("--allow-scan", o.allow_scan, "allow change detection that reads whole tables (unindexed change "
                                             "column, or xmin for tables without one) whatever their size");
  cmd.add_option("--scan-below", o.scan_below, "tables up to this size are scanned when their change detection "
                                               "reads the whole table; bigger ones need --allow-scan")
      ->capture_default_str();
  cmd.add_option("--deletes", o.deletes, "off: deletes are not seen (and the summary says so); detect: compare key "
                                         "sets by ranges and delete on the target what the source no longer has")
      ->check(CLI::IsMember({"off", "detect"}))
      ->capture_default_str();
  cmd.add_flag("--final", o.final_sync, "the last sync: also bring every sequence forward (as `pgcutover sequences`)");
  cmd.add_option("--config", o.config, "TOML file: [tables.\"schema.table\"] change_column = \"updated_at\" | \"xmin\"");
  cmd.add_flag("--large-objects", o.large_objects, "with --final: sync the large objects also when --table names a "
                                                   "subset (a whole-database final sync always does)");
  cmd.add_flag("--copy-uncopied", o.copy_uncopied, "base-copy tables never copied before, instead of refusing them");
  add_spill_dir(cmd, o.spill_dir);
  add_pg_bin(cmd, o.pg_bin);
  add_retries(cmd, o.retries);
  add_loading(cmd, o.loading);
}

void add_sequences_options(CLI::App &cmd, SequencesOptions &o) {
  add_connection_options(cmd, o.conn, false);
  add_selection_options(cmd, o.sel, {.job = false, .ranges = false});
}

void add_bench_options(CLI::App &cmd, BenchOptions &o) {
  cmd.add_option("--source", o.conn.source, "source conninfo or URI")->required();
  cmd.add_option("--target", o.conn.target,
                 "target conninfo or URI (scratch tables go to schema pgcutover_bench, dropped afterwards)")
      ->required();
  cmd.add_option("--table,-t", o.sel.tables, "the table to measure on (schema.table)")->required()->expected(1);
  cmd.add_option("--jobs,-j", o.jobs, "comma-separated job counts")->capture_default_str();
  cmd.add_option("--range-bytes", o.range_bytes, "comma-separated range sizes")->capture_default_str();
  cmd.add_option("--format", o.formats, "binary,text")->capture_default_str();
  cmd.add_option("--spill", o.spills, "off,zstd1,zstd3,...")->capture_default_str();
  cmd.add_option("--merge", o.merges, "direct,freeze,upsert,upsert-guard,merge,delete-insert")->capture_default_str();
  cmd.add_option("--toast", o.toasts, "default,pglz,lz4: the target's TOAST compression for the copied columns")
      ->capture_default_str();
  cmd.add_option("--staging", o.stagings, "temp,unlogged: the merge's staging table")->capture_default_str();
  cmd.add_option("--into", o.intos,
                 "empty,prefilled: an empty table, or one that already holds most rows (the incremental case)")
      ->capture_default_str();
  cmd.add_option("--sample", o.sample, "fraction of the table's ranges to use")
      ->check(CLI::Range(0.0001, 1.0))
      ->capture_default_str();
  cmd.add_option("--repeat", o.repeat, "rounds; the order of combinations rotates each round")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd.add_option("--max-seconds", o.max_seconds, "start no run after this long (what is skipped is listed)")
      ->capture_default_str();
  cmd.add_option("--csv", o.csv, "write every run as CSV here");
  cmd.add_option("--svg", o.svg, "draw median MB/s per combination here");
  add_spill_dir(cmd, o.spill_dir);
}

void add_rehearse_options(CLI::App &cmd, RehearseOptions &o) {
  cmd.add_option("--config", o.config, "rehearsal config (TOML): source, target, tables, jobs, budget, checks ...")
      ->required();
  cmd.add_option("--budget", o.budget, "the outage budget (overrides the config), e.g. 2h, 90min");
  cmd.add_option("--history-dir", o.history_dir,
                 "keep the history of rehearsals as one JSON file per run in this folder (default: the target's "
                 "<tool-schema>.rehearsals table)");
  cmd.add_option("--report", o.report_dir, "folder for report.json, report.md and report.html")->capture_default_str();
}

}  // namespace pgcutover::cli
