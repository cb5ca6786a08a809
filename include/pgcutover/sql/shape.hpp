#pragma once
// Statements of the shape checks (plan/shape_checks): how tables are laid out
// on each server, beyond their copyable columns.
#include <string>

namespace pgcutover::sql::shape {

// $1 text[] schemas, $2 text[] names (same order) -> schema, name, relkind,
// is a partition (bool), its partition parent's schema and name (NULL if none).
// Tables that do not exist yield no row.
const char *table_shapes();
// $1, $2 as above -> schema, name, column, generated (bool): every live user
// column. Generated columns exist from PostgreSQL 12 on.
std::string column_kinds(int server_version);

// $1 text[] schemas, $2 text[] names of tables -> schema, table, constraint,
// referenced schema, referenced table of each of their foreign keys.
const char *foreign_keys();

}  // namespace pgcutover::sql::shape
