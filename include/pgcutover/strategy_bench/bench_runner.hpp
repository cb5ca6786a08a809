#pragma once
// pgcutover bench: copy strategies measured on the same data, side by side.
//
// Every combination of the given levers runs on the same ranges of one table
// (all of them, or a sample), inside one source snapshot, into a scratch table
// on the target that is dropped afterwards. Runs are interleaved and repeated
// (the order rotates each round) so machine drift spreads over all of them.
// Each run records wall time, rows, stream bytes, the engine's CPU (getrusage),
// its peak RSS (reset per run through /proc/self/clear_refs) and the WAL the
// target wrote (pg_current_wal_lsn before and after).
#include <string>
#include <vector>

#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::strategy_bench {

struct Combo {
  int jobs = 2;
  i64 range_bytes = 64 << 20;
  std::string format = "binary";   // binary | text
  std::string spill = "off";       // off | zstd1 | zstd3 | ...
  std::string merge = "direct";    // direct | freeze | upsert | upsert-guard | merge | delete-insert
  std::string toast = "default";   // default | pglz | lz4
  std::string staging = "temp";    // temp | unlogged
  std::string into = "empty";      // empty | prefilled (holds ~94% of the rows already)
  std::string label() const;
};

struct Run {
  size_t combo = 0;
  int round = 0;
  bool ok = false;
  std::string error;
  double seconds = 0;
  i64 rows = 0;
  i64 bytes = 0;
  double cpu_seconds = 0;
  i64 peak_rss_kb = 0;
  i64 wal_bytes = 0;
};

struct BenchOptions {
  std::vector<Combo> combos;
  int repeat = 3;
  double sample = 1.0;           // fraction of ranges used
  double max_seconds = 600;
  std::string spill_dir;         // for spill combinations
};

struct BenchResult {
  std::vector<Combo> combos;
  std::vector<Run> runs;
  std::vector<std::string> skipped;  // what --max-seconds cut, said plainly
  i64 table_bytes = 0;
};

// Cartesian product of the lever lists.
std::vector<Combo> combinations(const std::vector<int> &jobs, const std::vector<i64> &range_bytes,
                                const std::vector<std::string> &formats, const std::vector<std::string> &spills,
                                const std::vector<std::string> &merges, const std::vector<std::string> &toasts,
                                const std::vector<std::string> &stagings, const std::vector<std::string> &intos);

BenchResult run_bench(const catalog::TableDef &table, pg::Connection &snapshot_conn, const pg::SnapshotInfo &snapshot,
                      const pg::Endpoints &ends, const BenchOptions &opt);

// Each combination's medians over its runs, ranked: working combinations by
// median MB/s, failed ones last (never "fast").
struct Summary {
  size_t combo = 0;
  int ok = 0, failed = 0;
  double mbps = 0, mbps_min = 0, mbps_max = 0, rows_per_s = 0, cpu = 0, wal = 0;
  i64 rss = 0;
  std::string error;
};
std::vector<Summary> rank(const BenchResult &r);

}  // namespace pgcutover::strategy_bench
