#pragma once
// Follow mode's batches (issue 25, point 4): the changes of a run of whole
// transactions, folded per (table, key) into each key's final action, so a
// key changed a thousand times in a batch is written once, and the actions
// of one table can be applied as sets: the deletes, then the upserts.
//
// The rules, for a key k in commit order:
//   Insert row              k: upsert row
//   Update, same key        k: upsert row, its unchanged TOAST values ('u')
//                              taken from k's earlier upsert in the batch if
//                              any, else left to the target row (a partial
//                              upsert: the row must exist there)
//   Update, key k -> k'     k: delete; k': upsert as above, its unchanged
//                              values from k's earlier upsert in the batch;
//                              with none, they are only in the target's row
//                              at k, which the batch deletes: the table's
//                              batch is marked `ordered` (replayed change by
//                              change, never as sets)
//   Delete                  k: delete
//   Truncate                a barrier: the batch ends before it and the
//                              TRUNCATE is applied alone (never given to fold())
// Applying a table's deletes, then its upserts, gives the state the
// changes in order give, for the key columns the table is matched by.
// Unique values that move between rows of other indexes are the applier's
// to detect (a unique violation, then ordered replay).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::follow {

struct OwnedValue {
  logical::ValueKind kind = logical::ValueKind::Null;
  std::string bytes;
  bool operator==(const OwnedValue &) const = default;
};
using OwnedRow = std::vector<OwnedValue>;
// A decoded row's values, copied out of the message they point into.
OwnedRow own_row(const logical::Tuple &t);

enum class KeyAction { Upsert, Delete };

struct FoldedKey {
  KeyAction action = KeyAction::Upsert;
  // Upsert: every column (Unchanged where the target's value stays);
  // Delete: the old key's row as the stream sent it (the key's columns set).
  OwnedRow row;
  bool partial() const;  // an Upsert with an Unchanged value
};

struct FoldedTable {
  u32 relation = 0;
  // In the order each key's final action was first decided; key bytes as
  // key_bytes() makes them.
  std::vector<std::string> order;
  std::unordered_map<std::string, FoldedKey> keys;
  bool ordered = false;   // must be replayed change by change (see the rules)
  i64 changes = 0;        // changes folded in
};

class Folder {
 public:
  // key_columns: per relation, the positions of the columns its rows are
  // matched by on the target (its key); a relation without an entry uses the
  // columns its Relation message flags as its replica identity.
  explicit Folder(std::unordered_map<u32, std::vector<int>> key_columns = {});

  // Remembers a Relation message (its columns and replica identity); `key`,
  // when given, are the positions of the columns its rows are matched by.
  void relation(const logical::Relation &r, std::vector<int> key = {});
  // Folds one change (Insert, Update or Delete) of a relation seen before.
  // Throws a DataFormat Error for a relation never described or a row whose
  // column count differs from its Relation; an Internal one for anything but
  // an Insert, Update or Delete (a TRUNCATE is the caller's barrier).
  void fold(const logical::Message &change);

  // The batch so far, per relation in the order first changed; clears it
  // (relations stay known).
  std::vector<FoldedTable> take();
  i64 changes() const { return changes_; }

 private:
  struct Rel {
    logical::Relation desc;
    std::vector<int> key;
  };
  FoldedTable &table(u32 relation);
  const Rel &rel(u32 relation) const;

  std::unordered_map<u32, std::vector<int>> key_columns_;
  std::unordered_map<u32, Rel> rels_;
  std::vector<FoldedTable> tables_;
  std::unordered_map<u32, size_t> table_index_;
  i64 changes_ = 0;
};

// A key's identity within a batch: its columns' kinds and bytes, length-prefixed.
std::string key_bytes(const logical::Tuple &row, const std::vector<int> &key);

}  // namespace pgcutover::follow
