#pragma once
// How a range lands on the target, beyond what the plan decides (format,
// Direct or Merge): levers the bench compares. copy and sync use the defaults.
#include <optional>

#include "pgcutover/plan/plan.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::pipeline {

// How a merge lands the staged rows.
enum class MergeSql { Upsert, MergeStatement, DeleteInsert };
const char *to_string(MergeSql m);

struct WriteOptions {
  // Another target table than the source's name (the bench's scratch tables).
  std::optional<sql::QualifiedName> target_name;
  MergeSql merge_sql = MergeSql::Upsert;
  // An UNLOGGED staging table in the target's schema instead of a temp one.
  bool unlogged_stage = false;
  // Direct only: TRUNCATE the target, then COPY FREEZE, in the range's
  // transaction (COPY FREEZE needs that). Empties the table: one range only.
  bool truncate_and_freeze = false;

  const sql::QualifiedName &target(const plan::TablePlan &tp) const {
    return target_name ? *target_name : tp.table.name;
  }
};

}  // namespace pgcutover::pipeline
