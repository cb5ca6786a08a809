#include "pgcutover/pg/sqlstate.hpp"

namespace pgcutover::pg {

ErrorKind classify_sqlstate(std::string_view s) {
  // No state: a client-side failure. Only the connection's status makes it
  // transient (Connection::make_error checks it), never its absence alone.
  if (s.size() != 5) return ErrorKind::Permanent;
  if (s.starts_with("08")) return ErrorKind::Transient;
  if (s == "40001" || s == "40P01") return ErrorKind::Transient;
  if (s == "57P01" || s == "57P02" || s == "57P03") return ErrorKind::Transient;
  if (s.starts_with("28")) return ErrorKind::Auth;
  if (s == "53100") return ErrorKind::DiskFull;
  return ErrorKind::Permanent;
}

}  // namespace pgcutover::pg
