#pragma once
// A primary-key range: lower bound inclusive, upper bound exclusive, either
// one absent (open). Bounds hold each key column's value in its text form; the
// SQL builder renders them as 'text'::type literals.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/util/types.hpp"

namespace pgcutover::plan {

struct KeyBound {
  std::vector<std::string> values;  // one per key column, text form
  bool operator==(const KeyBound &) const = default;
};

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

  bool whole_table() const { return !lower && !upper; }
  std::string describe() const;    // "[lower, upper)" for messages
};

}  // namespace pgcutover::plan
