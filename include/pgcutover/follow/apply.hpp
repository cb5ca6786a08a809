#pragma once
// Follow mode's apply (issue 25, point 4), one connection: the spool's
// changes, batch by batch, written to the target in one transaction per
// batch. A batch is folded per key (fold.hpp) and each table's actions go
// through a stage as three set statements (deletes, partial updates,
// upserts); a table whose batch must be replayed in order (a key moved with
// values only its deleted row holds) is written change by change instead.
// A TRUNCATE ends the batch and is applied alone.
//
// Not yet here (issue 25 point 4, later): several connections sharded by
// key hash, the fallback to ordered replay on a unique violation of another
// index, binary values, keyless REPLICA IDENTITY FULL tables, the batch's
// position recorded in the target's ledger in its transaction.
#include <string>
#include <unordered_map>
#include <vector>

#include "pgcutover/follow/fold.hpp"
#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::follow {

struct ApplyStats {
  i64 batches = 0;
  i64 changes = 0;       // changes folded in
  i64 deleted = 0;       // target rows
  i64 updated = 0;       // partial updates
  i64 upserted = 0;      // inserted or updated whole
  i64 ordered_changes = 0;
  i64 truncates = 0;
};

class Applier {
 public:
  // key_columns: per table (schema.name on both sides), the columns its rows
  // are matched by on the target; a table without an entry uses the columns
  // its Relation message flags (its replica identity).
  Applier(pg::Connection &target, std::unordered_map<std::string, std::vector<std::string>> key_columns = {});

  // Every message of the stream, in order: Relation, Insert, Update,
  // Delete, Truncate and Commit are used; the rest is passed over.
  void message(const logical::Message &m);
  // Writes what is pending (whole transactions only) in one target
  // transaction. Throws Error naming the table (and the key) on failure:
  // nothing of the batch is written then.
  void apply_pending();
  bool pending() const { return pending_changes_ > 0; }
  i64 pending_changes() const { return pending_changes_; }
  const ApplyStats &stats() const { return stats_; }

 private:
  struct Rel {
    sql::QualifiedName name;
    std::vector<std::string> columns;
    std::vector<std::string> key;
    std::vector<int> key_pos;
  };
  struct Change {  // owned, for an ordered replay
    char kind = 0;   // 'I', 'U', 'D'
    u32 relation = 0;
    OwnedRow old_row, row;
    bool old_sent = false;
  };
  const Rel &rel(u32 oid) const;
  void apply_folded(const FoldedTable &t);
  void replay_ordered(u32 relation);
  void truncate(const logical::Truncate &t);

  pg::Connection &dst_;
  std::unordered_map<std::string, std::vector<std::string>> key_columns_;
  std::unordered_map<u32, Rel> rels_;
  Folder folder_;
  std::vector<Change> changes_;  // of the pending batch
  i64 pending_changes_ = 0;
  bool in_txn_ = false;
  i64 stage_serial_ = 0;
  ApplyStats stats_;
};

// A value as COPY's text format writes it (backslash escapes; \N for NULL
// and for an unchanged value, which the stage marks).
void append_copy_text(std::string &out, const OwnedValue &v);

}  // namespace pgcutover::follow
