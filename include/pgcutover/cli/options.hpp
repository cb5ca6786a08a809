#pragma once
// One options struct per command; CLI11 fills them (cli/options.cpp), the
// commands read them. The --help text of each command is the usage doc.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "pgcutover/util/types.hpp"

namespace pgcutover::cli {

struct CommonOptions {
  bool json = false;
  bool quiet = false;
  int verbose = 0;
};

struct CopyOptions {
  std::string source;
  std::string target;
  std::vector<std::string> tables;
  std::vector<std::string> exclude_schemas;
  int jobs = 2;
  std::string range_bytes = "256MB";
  std::string strategy = "auto";
  std::string format = "auto";
  std::string spill_dir;
  int spill_level = 1;
  bool keep_spill = false;
  std::string pg_bin;
  bool no_owner = false;
  bool schema = true;            // create missing tables and post-data through pg_dump
  std::string lock_timeout = "0";
  std::string statement_timeout = "0";
  std::string tool_schema = "pgcutover";
  std::string config;            // plan: the sync config file, to show its change columns
  std::string job;               // ledger job name; default derived from source + tables
  bool restart = false;          // drop an unfinished job and plan anew
  int retries = 5;
  double retry_delay = 1.0;
};

struct LoadOptions {
  std::string target;
  std::string from_spill;
  int jobs = 2;
  std::string pg_bin;
  bool no_owner = false;
  std::string tool_schema = "pgcutover";
};

struct VerifyOptions {
  CopyOptions scope;            // source, target, tables, range size, tool schema, job
  std::string mode = "hash";    // count | hash | full
  std::string method = "client";
  bool repair = false;
};

struct SyncOptions {
  CopyOptions scope;             // source, target, tables, jobs, range size, tool schema
  std::string since = "auto";    // auto (each table's watermark) or a timestamp
  std::string overlap = "5min";  // taken off the watermark: commit order is not timestamp order
  bool allow_scan = false;       // allow change detection that reads the whole table
  std::string deletes = "off";   // off | detect
  bool final_sync = false;       // also set sequences (the last sync before switching over)
  std::string config;            // TOML with per-table change columns
  bool copy_uncopied = false;    // base-copy tables that have no watermark yet instead of refusing them
};

struct SequencesOptions {
  CopyOptions scope;
};

struct BenchOptions {
  CopyOptions scope;  // source, target, table (one)
  std::string jobs = "1,2";
  std::string range_bytes_list = "64MB";
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
};

struct RehearseOptions {
  std::string config;
  std::string budget;                       // overrides the config's
  std::string report_dir = "rehearsal-report";
};

// Registers the shared connection/table/plan options of copy and plan.
void add_copy_options(CLI::App &cmd, CopyOptions &opt, bool for_plan);
void add_load_options(CLI::App &cmd, LoadOptions &opt);
void add_verify_options(CLI::App &cmd, VerifyOptions &opt);
void add_sync_options(CLI::App &cmd, SyncOptions &opt);
void add_bench_options(CLI::App &cmd, BenchOptions &opt);
void add_rehearse_options(CLI::App &cmd, RehearseOptions &opt);
void add_sequences_options(CLI::App &cmd, SequencesOptions &opt);

}  // namespace pgcutover::cli
