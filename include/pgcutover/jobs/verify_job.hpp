#pragma once
// The verify job: one snapshot on each side, the copy's ranges (from the
// ledger) or freshly sampled ones, every range digested on both sides in
// parallel, mismatches localised (full mode) and repaired (--repair),
// sequences checked, and a verdict per table.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/jobs/scope.hpp"
#include "pgcutover/report/model.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/verify/sequences_check.hpp"
#include "pgcutover/verify/verifier.hpp"

namespace pgcutover::jobs {

struct VerifyConfig {
  Scope scope;
  verify::Mode mode = verify::Mode::Hash;
  verify::HashMethod method = verify::HashMethod::Client;
  bool repair = false;
  // When set, sequences are checked against these source positions instead
  // of the live source's (the rehearsal passes the ones its sync read right
  // after its snapshot; under traffic the live source has moved on since).
  std::optional<verify::SequenceBaseline> sequence_baseline;
  std::string sequence_baseline_rule;  // how the baseline was taken, for the report
  // When set, the source is read in this snapshot (imported with SET
  // TRANSACTION SNAPSHOT; its holder must stay open until run_verify returns)
  // instead of a fresh one: a rehearsal compares the target with the source
  // as of its sync, so traffic after that point is no difference. The target
  // side is read fresh either way.
  std::optional<pg::SnapshotInfo> source_snapshot;
};

enum class TableStatus { Ok, Repaired, Different };
const char *to_string(TableStatus s);

struct TableVerdict {
  sql::QualifiedName table;
  TableStatus status = TableStatus::Ok;
  i64 source_rows = 0;
  i64 target_rows = 0;
  i64 ranges = 0;
  i64 mismatched_ranges = 0;
  i64 missing = 0, extra = 0, different = 0;  // keys, as far as they were localised
  std::vector<verify::RangeVerdict> mismatches;  // table pointers cleared
};

struct VerifyResult {
  verify::Mode mode = verify::Mode::Hash;
  verify::HashMethod method = verify::HashMethod::Client;
  bool repair = false;
  verify::SnapshotPair snapshots;
  std::string source_as_of;  // "fresh snapshot" or "the sync's snapshot (<time>)"
  std::vector<TableVerdict> tables;
  std::vector<sql::QualifiedName> missing_tables;  // on the target: differences by themselves
  std::vector<verify::SequenceVerdict> sequences;
  std::string sequences_as_of = "the live source";  // what the source positions were compared against
  i64 rows = 0;           // source rows verified
  i64 bytes_hashed = 0;
  i64 table_bytes = 0;    // planned bytes of the verified ranges
  double seconds = 0;
  bool ok = false;
  pg::TargetWrites target_writes;  // with --repair: how the repair applied rows
};

VerifyResult run_verify(const VerifyConfig &config, report::RunReport &report, report::Reporter &reporter);

}  // namespace pgcutover::jobs
