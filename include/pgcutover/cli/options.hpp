#pragma once
// The command line as typed: one options struct per command, built from
// groups that several commands share. CLI11 fills them and checks the choices
// it can (cli/options.cpp); cli/setup turns them into the jobs' typed configs
// (sizes, durations, time stamps parsed and checked there, once).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace pgcutover::cli {

struct CommonOptions {
  bool json = false;
  bool quiet = false;
  int verbose = 0;
};

struct ConnectionOptions {
  std::string source;
  std::string target;
  std::string lock_timeout = "0";
  std::string statement_timeout = "0";
};

struct SelectionOptions {
  std::vector<std::string> tables;
  std::vector<std::string> exclude_schemas;
  std::string tool_schema = "pgcutover";
  std::string job;  // ledger job name; default derived from source + tables
  int jobs = 2;
  std::string range_bytes = "256MB";
};

// How writers load the target (copy and sync).
struct LoadingOptions {
  std::string toast_compression = "auto";
  bool synchronous_commit = false;
};

// What the copy creates on the target besides the tables' rows.
struct ObjectOptions {
  bool no_owner = false;       // pg_restore --no-owner
  bool no_privileges = false;  // pg_restore --no-privileges
  bool with_fk_parents = false;
};

struct CopyOptions {
  ConnectionOptions conn;
  SelectionOptions sel;
  std::string strategy = "auto";
  std::string format = "auto";
  std::string spill_dir;
  int spill_level = 1;
  bool keep_spill = false;
  std::string pg_bin;
  ObjectOptions objects;
  bool schema = true;  // create missing tables and post-data through pg_dump
  bool restart = false;
  bool large_objects = false;
  int index_jobs = 0;  // 0: --jobs
  std::string index_builds = "auto";
  std::string freeze_above = "16MB";  // --freeze-above
  int retries = 5;
  double retry_delay = 1.0;
  LoadingOptions loading;
};

struct PlanOptions {
  ConnectionOptions conn;
  SelectionOptions sel;
  std::string strategy = "auto";
  std::string format = "auto";
  ObjectOptions objects;
  std::string config;  // the sync config file, to show its change columns
  std::string scan_below = "256MB";  // what the final sync would scan or refuse
  std::string writer_time_zone;      // the sync's --writer-time-zone
  bool allow_replica_identity = false;  // follow mode: the classes with the REPLICA IDENTITY ALTERs allowed
};

struct LoadOptions {
  std::string target;
  std::string from_spill;
  int jobs = 2;
  std::string pg_bin;
  ObjectOptions objects;  // with_fk_parents unused
  std::string tool_schema = "pgcutover";
};

struct FinishOptions {
  std::string target;
  std::string tool_schema = "pgcutover";
  bool force = false;
};

struct VerifyOptions {
  ConnectionOptions conn;
  SelectionOptions sel;
  std::string mode = "hash";
  std::string hash = "client";
  bool repair = false;
};

struct SyncOptions {
  ConnectionOptions conn;
  SelectionOptions sel;
  std::string since = "auto";
  std::string overlap = "5min";
  std::string writer_time_zone;
  std::string warn_look_back = "10min";
  bool allow_scan = false;
  std::string scan_below = "256MB";
  std::string deletes = "off";
  bool final_sync = false;
  std::string config;
  bool copy_uncopied = false;
  bool large_objects = false;
  std::string spill_dir;
  std::string pg_bin;
  ObjectOptions objects;  // of the new tables it creates; with_fk_parents unused
  int retries = 5;
  LoadingOptions loading;
};

struct SequencesOptions {
  ConnectionOptions conn;
  SelectionOptions sel;
};

struct BenchOptions {
  ConnectionOptions conn;
  SelectionOptions sel;  // the one table
  std::string jobs = "1,2";
  std::string range_bytes = "64MB";
  std::string formats = "binary";
  std::string spills = "off";
  std::string merges = "direct,upsert";
  std::string toasts = "default";
  std::string stagings = "temp";
  std::string intos = "empty";
  double sample = 1.0;
  int repeat = 3;
  double max_seconds = 600;
  std::string csv;
  std::string svg;
  std::string spill_dir;
};

struct RehearseOptions {
  std::string config;
  std::string budget;  // overrides the config's
  std::string report_dir = "rehearsal-report";
  std::string history_dir;  // overrides the config's history_dir
};

void add_common_options(CLI::App &cmd, CommonOptions &o);

// --source and --target; with_timeouts adds --lock-timeout and --statement-timeout.
void add_connection_options(CLI::App &cmd, ConnectionOptions &o, bool with_timeouts);
// --table, --exclude-schema, --tool-schema; --job when a job name means
// something to the command; --jobs and --range-bytes when it cuts ranges.
struct SelectionParts {
  bool job = false;
  bool ranges = true;
};
void add_selection_options(CLI::App &cmd, SelectionOptions &o, SelectionParts parts);

void add_copy_options(CLI::App &cmd, CopyOptions &o);
void add_plan_options(CLI::App &cmd, PlanOptions &o);
void add_load_options(CLI::App &cmd, LoadOptions &o);
void add_finish_options(CLI::App &cmd, FinishOptions &o);
void add_verify_options(CLI::App &cmd, VerifyOptions &o);
void add_sync_options(CLI::App &cmd, SyncOptions &o);
void add_sequences_options(CLI::App &cmd, SequencesOptions &o);
void add_bench_options(CLI::App &cmd, BenchOptions &o);
void add_rehearse_options(CLI::App &cmd, RehearseOptions &o);

}  // namespace pgcutover::cli
