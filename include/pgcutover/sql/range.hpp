#pragma once
// Key ranges and key sets in SQL: the key columns with their types, the range
// predicate (literals: it also goes inside COPY, which takes no parameters),
// and key sets sent as parameters, one text[] per key column.
#include <string>
#include <vector>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql {

// One key: each key column's value in its text form (rendered as
// 'text'::type literals).
struct KeyValue {
  std::vector<std::string> values;
  bool operator==(const KeyValue &) const = default;
};

// A range of keys as plain values: lower inclusive, upper exclusive, either
// one absent (nullptr: open). It points into its owner (plan::KeyRange
// converts to one), so it lives no longer than the range it views.
struct KeyInterval {
  const KeyValue *lower = nullptr;
  const KeyValue *upper = nullptr;

  bool whole_table() const { return !lower && !upper; }
};

// The key columns and their types (format_type text), for range predicates.
//
// collate_c: per column, compare it under COLLATE "C". Ranges are cut on one
// server and evaluated on both (verify, bisection, delete detection, repair),
// so every ordering of a text-like key must be the same on both: a range cut
// in the source's C order and evaluated in the target's ICU order holds other
// rows. plan::build_plan sets it for a collatable key column unless the
// column sorts bytewise (C/POSIX) on both servers already: the explicit
// COLLATE keeps ranges exact whatever the defaults, but a btree index under
// another collation cannot serve `k COLLATE "C" >= x`, so ranges of such keys
// are read by scans. Ranges only the source evaluates (copy and sync reads)
// are cut and read without it instead (plan::KeyRange::source_order).
// Equality (key sets) needs no COLLATE: deterministic collations compare
// equal exactly when the bytes are equal.
struct KeySpec {
  std::vector<std::string> columns;
  std::vector<std::string> types;
  std::vector<bool> collate_c;  // empty, or one per column

  bool collated(size_t i) const { return i < collate_c.size() && collate_c[i]; }
};

// WHERE-clause body for a key range ("" for the whole table). Composite keys
// use row comparison, which a btree index on the key serves.
std::string range_predicate(const KeySpec &key, const KeyInterval &range);

// ORDER BY list of the key columns (quoted, with COLLATE "C" where the key
// asks for it), each prefixed (e.g. "s.").
std::string order_by_key(const KeySpec &key, const std::string &prefix = "");

// The parameters of a key-set statement (see key_set_predicate): one text[]
// array literal per key column, element i of each being key i's value.
std::vector<std::string> key_set_params(const KeySpec &key, const std::vector<KeyValue> &keys);

}  // namespace pgcutover::sql
