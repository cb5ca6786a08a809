// TEMPORARY: see compat.hpp.
#include "pgcutover/jobs/compat.hpp"

#include "pgcutover/sql/statements.hpp"

namespace pgcutover::pg {
void check_target_writable(Connection &dst) {
  Result r = dst.exec("SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('transaction_read_only')");
  if (r.get_bool(0, 0))
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is a standby (in recovery) and cannot take writes",
                "point --target at the primary");
  if (r.get(0, 1) == "on")
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is read-only (default_transaction_read_only is on)",
                "point --target at a writable server or turn default_transaction_read_only off for this user");
}
}  // namespace pgcutover::pg

namespace pgcutover::ledger {
std::optional<Job> load_if_exists(const Ledger &l, pg::Connection &c) {
  if (!c.query(sql::misc::table_exists(), {sql::quote_ident(l.schema()) + ".ranges"}).get_bool(0, 0)) return std::nullopt;
  return l.load(c);
}
}  // namespace pgcutover::ledger
