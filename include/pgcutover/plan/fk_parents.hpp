#pragma once
// Foreign keys whose referenced table a selection leaves out. Rows of a
// selected table copied without their parent's rows can break the key, and a
// foreign key that the writers bypass (session_replication_role = replica, or
// set aside and re-created) would then stand on the target marked valid, or
// fail after the data. So before anything moves, a table whose foreign key
// (on the source, or on a target made beforehand) references a table outside
// the selection is refused naming the parent, unless --with-fk-parents takes
// the parents too (their parents in turn), or the caller accepts parents that
// the target has and keeps current (a sync creating new tables: its other
// tables are synced with them).
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::plan {

struct FkGap {
  sql::QualifiedName child;
  std::string constraint;
  sql::QualifiedName parent;
  bool on_target = false;  // the key is the target's (made beforehand), not the source's
};

// The foreign keys of `selected` (on the source, and on the target where the
// table exists there) whose referenced table is not selected (a partitioned
// parent counts as selected when all its leaves are).
std::vector<FkGap> fk_gaps(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &src_cat,
                           const std::vector<catalog::TableDef> &selected);

// Applies the rule above to the selection: adds the parents (with_fk_parents),
// or records a refusal per child table (returned, to be moved to plan.refused).
// `dst_cat` tells which parents the target has.
std::vector<Refusal> resolve_fk_parents(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &src_cat,
                                        const catalog::Catalog &dst_cat, std::vector<catalog::TableDef> &selected,
                                        const BuildOptions &opt);

}  // namespace pgcutover::plan
