#pragma once
// SQLSTATE classification: the state classifies, message text never does.
// https://www.postgresql.org/docs/current/errcodes-appendix.html
#include <string_view>

#include "pgcutover/util/error.hpp"

namespace pgcutover::pg {

// Transient: class 08 (connection), 40001 serialization, 40P01 deadlock,
// 57P01/57P02/57P03 (admin/crash shutdown, cannot connect now), 55P03 lock not
// available, 57014 query cancelled (statement_timeout) is NOT transient.
// Auth: class 28. DiskFull: 53100. Everything else, and no SQLSTATE at all
// (a client-side failure), Permanent: a broken connection is transient by
// its status (Connection::make_error), not by a missing state.
ErrorKind classify_sqlstate(std::string_view sqlstate);

}  // namespace pgcutover::pg
