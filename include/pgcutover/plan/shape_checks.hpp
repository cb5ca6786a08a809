#pragma once
// Shapes checked before data moves: differences between a source table and
// its target that would put rows in the wrong place or lose values, which the
// column comparison cannot see:
// - a partition on one side and a plain table on the other, or partitions of
//   different parents (rows would land in a table outside its parent), and a
//   partitioned source parent that is a plain table on the target;
// - a plain source table that is partitioned on the target;
// - generated columns missing, extra, or plain on the other side.
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::plan {

// Moves every table of plan.tables with such a difference to plan.refused,
// with the reason naming it.
void check_shapes(pg::Connection &src, pg::Connection &dst, Plan &plan);

}  // namespace pgcutover::plan
