#pragma once
// Verification: proof that the target equals the source, range by range.
//
// Each range is digested on both servers at once, each side inside its own
// exported snapshot, so writes after the snapshots never show as differences.
// A digest is the row count plus a hash of every row's full content: either
// computed by the server (an order-independent sum of 64-bit hashes of each
// row's text form) or on the client (XXH3 over the range's COPY stream in key
// order). Both see every byte of every value, so a value cut at 512 bytes, a
// changed byte, a -0 for a 0 or a NULL for '' all change the digest.
//
// Full mode localises a mismatching range: it bisects it into sub-ranges at
// key quantiles until they are small, then compares keys one by one and names
// the missing, extra and different keys, and the columns that differ.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/diff/key_diff.hpp"
#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/plan/plan.hpp"
#include "pgcutover/report/model.hpp"

namespace pgcutover::verify {

enum class Mode { Count, Hash, Full };
enum class HashMethod { Server, Client };
Mode parse_mode(const std::string &text);
HashMethod parse_method(const std::string &text);
const char *to_string(Mode m);
const char *to_string(HashMethod m);

// Digests and key differences come from diff/ (the names stay here too).
using diff::Digest;
using diff::DiffKind;
using diff::KeyDiff;
using diff::to_string;

struct RangeVerdict {
  const plan::TablePlan *table = nullptr;
  plan::KeyRange range;
  Digest source;
  Digest target;
  bool equal = true;
  std::vector<KeyDiff> diffs;   // full mode (and before a repair)
  bool diffs_truncated = false; // more differences than were listed
  bool repaired = false;
  bool equal_after_repair = false;
};

// Digest of one range on one connection (inside its snapshot). `hash` is the
// server hash both sides use (sql::row_hash_for the pair's versions).
Digest digest_range(pg::Connection &conn, const plan::TablePlan &table, const plan::KeyRange &range, Mode mode,
                    HashMethod method, sql::RowHash hash);

// Makes the target's rows with these keys equal the source's, in one
// transaction on dst (writable): deletes extra keys, upserts missing and
// different ones from src.
void repair_keys(pg::Connection &src, pg::Connection &dst, const plan::TablePlan &table,
                 const std::vector<KeyDiff> &diffs);

struct VerifyOptions {
  Mode mode = Mode::Hash;
  HashMethod method = HashMethod::Client;
  bool repair = false;
  int jobs = 2;
  i64 max_keys_per_range = 1000;
};

struct SnapshotPair {
  pg::SnapshotInfo source;
  pg::SnapshotInfo target;
};

// Verifies every range of the plan, both sides in parallel, `jobs` ranges at a
// time; with repair, repairs and re-verifies the mismatching ones.
std::vector<RangeVerdict> run_verify(const plan::Plan &plan, const pg::Endpoints &ends, const SnapshotPair &snaps,
                                     const VerifyOptions &opt, report::RunReport &report);

}  // namespace pgcutover::verify
