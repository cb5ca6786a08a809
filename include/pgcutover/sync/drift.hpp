#pragma once
// Schema drift between source and target, found from the two catalogs before
// every sync (and shown by `plan`). What each kind becomes in a sync
// (sync/drift_apply):
//   new_table         created (a new partition: PARTITION OF its parent,
//                     as the source has it) and base-copied
//   added_column      added without its default, every row read again so
//                     the values are the source's (a volatile default is
//                     never re-evaluated on the target), then the default
//                     and NOT NULL set after the data
//   default_changed   the source's default set after the data
//   null_changed      NOT NULL dropped before the data, or set after it
//                     (every row read again first: a backfill that ran
//                     before SET NOT NULL does not touch the change column)
//   bound_changed     a partition whose bound differs: detached, the rows
//                     outside its new bound removed, attached with the
//                     source's bound (in the transaction that creates the
//                     new partitions), it and its parent's DEFAULT read again
//   domain_changed    default set or dropped, check constraints added NOT
//                     VALID (validated after the data when the source's is)
//                     or dropped, before the data
//   constraint_changed dropped before the data, created as the source has
//                     it after the data
//   enum_renamed      ALTER TYPE ... RENAME VALUE before the data (rows hold
//                     the label's OID: nothing to read again)
//   renamed           an index or constraint the target has under another
//                     name (same definition): renamed before the data
//   comment_changed   COMMENT ON before the data
//   dropped_column, type_changed, dropped_table: the table is not synced
//                     (blocking), with what to do; nothing of it is touched.
// A change made on a partitioned parent appears once, on the parent.
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"

namespace pgcutover::sync {

enum class DriftKind {
  NewTable,
  AddedColumn,
  DroppedColumn,
  TypeChanged,
  DefaultChanged,
  NullChanged,
  DroppedTable,
  EnumLabel,
  NewIndex,
  NewConstraint,
  BoundChanged,  // a partition's bound (a MAXVALUE or other partition shrunk to make room for a new month)
  DomainChanged, // a domain's default or check constraints
  ConstraintChanged,  // a constraint of the same name with another definition
  EnumRenamed,   // ALTER TYPE ... RENAME VALUE
  Renamed,       // an index or constraint under another name
  CommentChanged
};
const char *to_string(DriftKind k);

struct Drift {
  sql::QualifiedName table;  // for enum_label: the type
  DriftKind kind;
  std::string column;        // the column, label, index or constraint name
  std::string detail;
  bool blocking = false;     // stops the sync for the table
  std::string statement;     // what the sync runs on the target for it ("" if nothing or not yet known)
  bool sets_not_null = false;  // null_changed: SET NOT NULL (after the data), else DROP NOT NULL (before it)
};

// Column and table drift of the selected tables and their partitioned or
// inheritance parents that exist on both sides.
std::vector<Drift> find_drift(const catalog::Catalog &src, const catalog::Catalog &dst,
                              const std::vector<catalog::TableDef> &selected);

// Tables the tool copied (they have a watermark) that the source no longer
// has and the target still has: each a blocking dropped_table drift (once the
// target's is dropped too, nothing is said).
std::vector<Drift> find_dropped_tables(const catalog::Catalog &src, const catalog::Catalog &dst,
                                      const std::vector<sql::QualifiedName> &copied);

}  // namespace pgcutover::sync
