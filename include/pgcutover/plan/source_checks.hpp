#pragma once
// What the source role must be able to read, checked before any data moves.
//
// A source role need not be a superuser: SELECT on the tables, USAGE on their
// schemas and SELECT on the sequences feeding them are enough. Row-level
// security is the trap: every session runs with row_security = off, so a
// table whose policies apply to the role would fail in the middle of a copy
// (or, with row_security on, be copied in part). Such a table is refused by
// name at plan time, with what would let the role see every row.
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::plan {

// Moves every table of `tables` the source role cannot read whole (no USAGE
// on its schema, no SELECT on it, row-level security applying to the role, a
// sequence feeding it the role cannot read) into `refused`, naming the grant.
void refuse_unreadable(pg::Connection &src, std::vector<catalog::TableDef> &tables,
                       const std::vector<std::string> &exclude_schemas, std::vector<Refusal> &refused);

}  // namespace pgcutover::plan
