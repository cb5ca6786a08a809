#pragma once
// Sequences: after the data, every sequence that feeds a copied table stands
// on the target where the source's stands (last_value and is_called), found
// from the catalog (ownership, identity, defaults), never from a guess about
// column types.
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::sequences {

struct SequenceChange {
  std::string sequence;   // display name
  std::string table;      // fed table, "" if standalone
  i64 old_value = 0;
  bool old_called = false;
  i64 new_value = 0;
  bool new_called = false;
};

// Sets the target's sequences feeding `tables` (all sequences when whole_database).
std::vector<SequenceChange> reset_sequences(pg::Connection &src, pg::Connection &dst,
                                            const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                            const std::vector<std::string> &exclude_schemas);

}  // namespace pgcutover::sequences
