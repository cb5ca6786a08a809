#pragma once
// Sequences: after the data, every sequence that feeds a copied table stands
// on the target where it hands out no value the source has handed out and no
// value a column it feeds already holds, found from the catalog (ownership,
// identity, every column default that calls it), never from a guess about
// column types.
//
// The rule, shared by `sequences`, `sync --final` and verify's check:
//   - a CYCLE sequence stands exactly where the source's stands (it hands
//     values out again by design; only the same position keeps its order);
//   - any other one at least where the source's stands, beyond the extreme of
//     every column it feeds on the target (above the max for an ascending
//     sequence, below the min for a descending one), and never backwards; if
//     that is past its bound it stands exhausted at the bound.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::sequences {

struct SequenceChange {
  std::string sequence;   // display name
  std::string table;      // fed columns ("schema.table.column, ..."), "" if standalone
  i64 old_value = 0;
  bool old_called = false;
  i64 new_value = 0;
  bool new_called = false;
  // The source's state this position was derived from, as read on the source
  // connection passed in (the sync's: right after its snapshot's rows merged).
  i64 source_value = 0;
  bool source_called = false;
};

// Sets the target's sequences feeding `tables` (all sequences when whole_database).
// between_tables runs after each sequence's reads (a pg::SnapshotReader's, when
// src reads in a snapshot: each sequence read there holds a lock).
std::vector<SequenceChange> reset_sequences(pg::Connection &src, pg::Connection &dst,
                                            const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                            const std::vector<std::string> &exclude_schemas,
                                            const std::function<void()> &between_tables = {});

// The source's sequences in scope that the target lacks, except those owned
// by (or the identity of) a table the target lacks: pg_dump creates those
// with their table.
std::vector<sql::QualifiedName> missing_on_target(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &dst_catalog,
                                                  const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                                  const std::vector<std::string> &exclude_schemas);

// --- the rule, for verify ---------------------------------------------------

using i128 = __int128;

// The value the next nextval() hands out.
inline i128 next_value(const catalog::SequenceDef &s, const catalog::SequenceState &st) {
  return st.is_called ? static_cast<i128>(st.last_value) + s.increment : st.last_value;
}
// True when `a` comes after `b` in the sequence's direction.
inline bool beyond(const catalog::SequenceDef &s, i128 a, i128 b) { return s.increment > 0 ? a > b : a < b; }

// The extreme (max ascending, min descending) of every column `s` feeds, on
// conn; columns that are empty, missing or not integers are left out.
struct ColumnExtreme {
  std::string column;  // schema.table.column
  i64 value = 0;
};
std::vector<ColumnExtreme> column_extremes(pg::Connection &conn, const catalog::SequenceDef &s);

// Where the target's sequence must stand given the source's and the target's
// states and the extremes of its columns on the target.
catalog::SequenceState required_position(const catalog::SequenceDef &s, const catalog::SequenceState &source,
                                         const catalog::SequenceState &target,
                                         const std::vector<ColumnExtreme> &extremes);

}  // namespace pgcutover::sequences
