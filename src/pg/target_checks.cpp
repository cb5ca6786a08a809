// Checks on the target (see target_checks.hpp).
#include "pgcutover/pg/target_checks.hpp"

#include "pgcutover/sql/server.hpp"

namespace pgcutover::pg {

void check_target_writable(Connection &dst) {
  Result r = dst.exec(sql::server::writability());
  if (r.get_bool(0, 0))
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is a standby (in recovery) and cannot take writes",
                "point --target at the primary");
  if (r.get(0, 1) == "on")
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is read-only (default_transaction_read_only is on)",
                "point --target at a writable server or turn default_transaction_read_only off for this user");
}

}  // namespace pgcutover::pg
