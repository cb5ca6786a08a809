#pragma once
// Lock diagnostics: who holds the locks a statement timed out waiting for.
#include <vector>

#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/sql/ident.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::pg {

// For a lock timeout (SQLSTATE 55P03): names the sessions holding locks on the
// tables (any user table when empty) in e.hint, asking both servers afresh.
// Any failure while asking leaves e as it was.
void explain_lock_timeout(Error &e, const Endpoints &ends, const std::vector<sql::QualifiedName> &tables);

}  // namespace pgcutover::pg
