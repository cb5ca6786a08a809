#pragma once
// Key ranges and key sets in SQL: the key columns with their types, the range
// predicate (literals: it also goes inside COPY, which takes no parameters),
// and key sets sent as parameters, one text[] per key column.
#include <string>
#include <vector>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/plan/key_range.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql {

// The key columns and their types (format_type text), for range predicates.
struct KeySpec {
  std::vector<std::string> columns;
  std::vector<std::string> types;
};

// WHERE-clause body for a key range ("" for the whole table). Composite keys
// use row comparison, which a btree index on the key serves.
std::string range_predicate(const KeySpec &key, const plan::KeyRange &range);

// ORDER BY list of the key columns (quoted).
std::string order_by_key(const std::vector<std::string> &key, const std::string &prefix = "");

// The parameters of a key-set statement (see key_set_predicate): one text[]
// array literal per key column, element i of each being key i's value.
std::vector<std::string> key_set_params(const KeySpec &key, const std::vector<plan::KeyBound> &keys);

}  // namespace pgcutover::sql
