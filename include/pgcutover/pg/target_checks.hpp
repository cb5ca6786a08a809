#pragma once
// Checks on the target before a command writes to it.
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::pg {

// Refuses a target that cannot take writes (a standby, or read-only by
// default): throws a Usage error naming the server and what to do.
void check_target_writable(Connection &dst);

}  // namespace pgcutover::pg
