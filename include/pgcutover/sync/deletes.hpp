#pragma once
// Delete detection: a timestamp sync cannot see deleted rows. This compares
// the key sets of both sides range by range (a key-only digest per range,
// bisected down to the keys where they differ: diff/, as verify uses it) and deletes on
// the target the keys the source no longer has, one transaction per range,
// ranges in parallel.
#include <map>
#include <string>

#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::sync {

// Returns rows deleted per table (display name).
std::map<std::string, i64> delete_missing_rows(const plan::Plan &plan, const pg::Endpoints &ends,
                                               const pg::SnapshotInfo &source_snapshot, int jobs);

}  // namespace pgcutover::sync
