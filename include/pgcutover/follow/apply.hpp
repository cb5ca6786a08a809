#pragma once
// Follow mode's apply (issue 25, point 4), one connection: the spool's
// changes, batch by batch, written to the target in one transaction per
// batch. A batch is folded per key (fold.hpp) and each table's actions go
// through a stage as three set statements (deletes, partial updates,
// upserts); a table whose batch must be replayed in order (a key moved with
// values only its deleted row holds) is written change by change instead.
// A TRUNCATE applies what came before it, then itself, in the batch's
// transaction (the batch commits only at a source transaction's end).
//
// The applier's session runs with session_replication_role = replica, as
// PostgreSQL's own apply does: the target's foreign keys and ordinary
// triggers do not fire (a batch writes its tables one after another, not in
// the source's order). The role must be allowed to set it (a superuser, or
// SET granted on the parameter, 15+); else the applier refuses to start.
//
// Columns: the target's table must have every column the stream sends;
// domains are staged as their base type; identity columns GENERATED ALWAYS
// are written on insert and never assigned by an update (PostgreSQL
// refuses it); a generated column sent by the stream is refused.
//
// Crash-safe (point 5): with a tool schema, the end of the last source
// transaction a batch holds is recorded on the target in the batch's own
// transaction (tool_schema.follow_applied, per slot); an applier started
// again passes over every transaction that ended at or before it, so the
// spool can be fed from any segment at or before that point. A TRUNCATE
// is part of its batch's transaction, like everything else.
//
// After any exception an Applier is not to be used again (every later call
// throws): its batch was rolled back; start a new one, which resumes from
// the recorded position.
//
// A table's sets that meet a unique (or exclusion) violation, as when a
// unique value moved between rows through a third value in one source
// transaction, are rolled back to a savepoint and replayed in order.
//
// Not yet here (issue 25 point 4, later): several connections sharded by
// key hash, binary values, keyless REPLICA IDENTITY FULL tables.
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgcutover/follow/fold.hpp"
#include "pgcutover/util/types.hpp"
#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::follow {

struct ApplyStats {
  i64 batches = 0;
  i64 changes = 0;       // changes folded in
  i64 deleted = 0;       // target rows
  i64 updated = 0;       // partial updates through the stage
  i64 ordered_updated = 0;  // updates of the ordered replay
  i64 upserted = 0;      // inserted or updated whole
  i64 ordered_changes = 0;
  i64 truncates = 0;
  i64 transactions_passed = 0;  // applied before (at or before the recorded position)
  i64 unique_fallbacks = 0;     // table batches replayed in order after a unique violation as sets
};

struct ApplyOptions {
  // Per table (schema.name on both sides), the columns its rows are matched
  // by on the target; a table without an entry uses the columns its
  // Relation message flags (its replica identity).
  std::unordered_map<std::string, std::vector<std::string>> key_columns;
  // Where the applied position is kept ("" raw: not kept), and for which slot.
  sql::Ident tool_schema;
  std::string slot;
};

class Applier {
 public:
  // With a tool schema, creates its position table if missing and reads the
  // slot's recorded position.
  explicit Applier(pg::Connection &target, ApplyOptions options = {});

  // The end of the last source transaction committed on the target (0/0: none).
  logical::Lsn applied() const { return applied_; }

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
    logical::Relation desc;  // as the stream last described it
    sql::QualifiedName name;
    std::vector<std::string> columns;
    std::vector<std::string> key;
    std::vector<int> key_pos;
    std::vector<std::string> settable;  // columns an UPDATE may assign (not identity ALWAYS)
    std::vector<std::string> types;     // the stage's column types
    std::string stage;
  };
  struct Change {  // owned, for an ordered replay
    char kind = 0;   // 'I', 'U', 'D'
    u32 relation = 0;
    OwnedRow old_row, row;
    bool old_sent = false;
  };
  const Rel &rel(u32 oid) const;
  Rel describe(const logical::Relation &r);
  void open_transaction();
  void flush_folded();
  void apply_folded(const FoldedTable &t);
  void replay_ordered(u32 relation);
  void truncate(const logical::Truncate &t);

  pg::Connection &dst_;
  ApplyOptions opt_;
  logical::Lsn applied_;      // recorded on the target
  logical::Lsn pending_end_;  // the end of the last transaction in the pending batch
  bool passing_ = false;      // inside a transaction applied before
  std::unordered_map<u32, Rel> rels_;
  Folder folder_;
  std::vector<Change> changes_;  // of the pending batch
  i64 pending_changes_ = 0;
  bool in_txn_ = false;
  bool broken_ = false;  // an exception left it: every later call throws
  std::optional<pg::Transaction> tx_;  // the batch's transaction on the target
  std::set<std::string> staged_;       // stage tables made in this session
  std::set<std::string> staged_in_tx_; // ... filled in the open transaction
  ApplyStats stats_;
};

// A value as COPY's text format writes it (backslash escapes; \N for NULL
// and for an unchanged value, which the stage marks).
void append_copy_text(std::string &out, const OwnedValue &v);

}  // namespace pgcutover::follow
