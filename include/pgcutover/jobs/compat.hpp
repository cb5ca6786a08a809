#pragma once
// TEMPORARY: names the lower layers are moving to pg/ (endpoints, target
// checks, lock diagnostics), until that move lands. Removed at the merge.
#include "pgcutover/pipeline/pipeline.hpp"

namespace pgcutover::pg {
using Endpoints = pipeline::Endpoints;
void check_target_writable(Connection &dst);
inline void explain_lock_timeout(Error &e, const Endpoints &ends, const std::vector<sql::QualifiedName> &tables) {
  pipeline::explain_lock_timeout(e, ends, tables);
}
}  // namespace pgcutover::pg

#include "pgcutover/ledger/ledger.hpp"
namespace pgcutover::ledger {
std::optional<Job> load_if_exists(const Ledger &l, pg::Connection &c);
}
