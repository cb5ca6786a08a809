#pragma once
// The work on one range, stage by stage: read it from the source (copy_out),
// optionally through a spill file, and write it to the target (copy_in, then
// merge), committing only when the source's COPY ended successfully and the
// row counts of source, stream and target agree.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pipeline/write_options.hpp"
#include "pgcutover/plan/plan.hpp"
#include "pgcutover/report/model.hpp"
#include "pgcutover/spill/claim.hpp"

namespace pgcutover::pipeline {

constexpr i64 DEFAULT_CHUNK_BYTES = 256 << 10;


struct RangeTask {
  const plan::TablePlan *table = nullptr;
  const plan::KeyRange *range = nullptr;
  std::filesystem::path spill_path;   // set when the range goes through a spill file
  spill::FileClaim spill_claim;       // this process's claim on its spill file (spill/claim.hpp)
  report::RangeRecord record;         // filled as the range runs
  const pg::Endpoints *ends = nullptr;    // for diagnostics on failure
};

struct WriteResult {
  i64 rows = 0;
  i64 bytes = 0;
  bool skipped = false;  // the ledger says done, or another process holds the range
  i64 merged = -1;       // rows the upsert inserted or changed, or every row for replace (-1 for direct)
  bool appended = false; // a merge's new keys written with a plain COPY (KeyRange::new_keys)
};

// Ledger hooks around a range's transaction on the target.
struct RangeHooks {
  std::function<bool(pg::Connection &)> claim;                               // false: skip the range
  std::function<void(pg::Connection &, const WriteResult &)> before_commit;  // the done mark
};

// Yields the next piece of the COPY stream, or nullopt at its end.
using ChunkSource = std::function<std::optional<std::span<const char>>()>;

// Streams one range from src straight into dst and commits it.
WriteResult transfer_range(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &table,
                           const plan::KeyRange &range, i64 chunk_bytes, report::Progress &progress,
                           const RangeHooks &hooks = {}, const WriteOptions &write = {});

// Reads one range from src into a zstd spill file at path (written as
// path.partial, renamed when complete). Returns rows and stream bytes.
WriteResult spill_range(pg::Connection &src, const plan::TablePlan &table, const plan::KeyRange &range,
                        const std::filesystem::path &path, const nlohmann::json &meta, int zstd_level,
                        i64 chunk_bytes, i64 *spill_bytes, spill::FileClaim *claim = nullptr);

// Loads a spill file into dst and commits it; the file's header must describe
// the same table, columns, types and format as `table`.
WriteResult load_spill(pg::Connection &dst, const plan::TablePlan &table, const std::filesystem::path &path,
                       i64 chunk_bytes, report::Progress &progress, const RangeHooks &hooks = {},
                       const WriteOptions &write = {});

// Merge ranges whose unique values moved between rows of different ranges
// (a swap across ranges, or a value freed by a row that was deleted or
// changed on the source): each failed alone with a unique violation. All are
// staged in one transaction; then every staged key is deleted, target rows
// holding a unique value a staged row takes are deleted and read again from
// the source (written as they are there, unless the source deleted them),
// and the staged rows inserted; `before_commit` runs per range; one COMMIT.
// Returns per range what was written.
struct TogetherRange {
  const plan::TablePlan *table = nullptr;
  const plan::KeyRange *range = nullptr;
};
std::vector<WriteResult> merge_together(pg::Connection &src, pg::Connection &dst, const std::vector<TogetherRange> &ranges,
                                        i64 chunk_bytes, report::Progress &progress,
                                        const std::function<void(pg::Connection &, size_t, const WriteResult &)> &before_commit);

// The header a spill file carries for one range.
nlohmann::json spill_meta(const plan::TablePlan &table, const plan::KeyRange &range,
                          const pg::SnapshotInfo &snapshot, const std::string &source_display);

// File name of a range's spill file inside a spill directory. It carries this
// process's id: processes sharing a folder (several on one job) use their own
// names, and claims (spill/claim.hpp) guard the rest.
std::string spill_file_name(const plan::TablePlan &table, const plan::KeyRange &range);

}  // namespace pgcutover::pipeline
