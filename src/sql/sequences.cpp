// Statements of sequences/ (see sequences.hpp).
#include "pgcutover/sql/sequences.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::sequences {

const char *set_value() {
  return "SELECT pg_catalog.setval(pg_catalog.format('%I.%I', $1::text, $2::text)::regclass, $3::bigint, $4::boolean)";
}

std::string extreme_value(const QualifiedName &table, const std::string &column, bool ascending) {
  return fmt::format("SELECT {}({})::text FROM {}", ascending ? "max" : "min", quote_ident(column), table);
}

}  // namespace pgcutover::sql::sequences
