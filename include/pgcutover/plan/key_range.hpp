#pragma once
// A primary-key range: lower bound inclusive, upper bound exclusive, either
// one absent (open). Bounds hold each key column's value in its text form; the
// SQL builder renders them as 'text'::type literals.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/sql/range.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::plan {

using KeyBound = sql::KeyValue;  // one value per key column, text form

struct KeyRange {
  i64 id = 0;                      // index within its table, 0-based
  std::optional<KeyBound> lower;   // inclusive; nullopt = from the first key
  std::optional<KeyBound> upper;   // exclusive; nullopt = to the last key
  i64 planned_bytes = 0;           // estimated heap + TOAST bytes in the range
  // Sync: every key in the range lies above the target table's largest key,
  // so a merge writes its rows with a plain COPY, without a stage (a unique
  // violation, from a row written on the target meanwhile or another unique
  // column, sends the range to the merge-together path like any merge's).
  bool new_keys = false;
  // Its bounds were cut, and its rows are read, in the source's own order of
  // the key (no COLLATE "C"), so the source's key index serves it: for text
  // keys ordered differently on the two servers, in the ranges only the
  // source evaluates (copy, sync reads). Never evaluated on the target
  // (verify and delete detection cut their own). Recorded in the ledger
  // with the range, so a resumed job reads each range the way it was cut.
  bool source_order = false;

  bool whole_table() const { return !lower && !upper; }
  std::string describe() const;    // "[lower, upper)" for messages
  // Its bounds, as the SQL builders take them.
  operator sql::KeyInterval() const { return {lower ? &*lower : nullptr, upper ? &*upper : nullptr}; }
};

}  // namespace pgcutover::plan
