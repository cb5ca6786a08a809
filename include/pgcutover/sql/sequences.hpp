#pragma once
// Statements of sequences/ and the sequence check of verify/.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::sequences {
// $1 sequence schema, $2 sequence name, $3 value, $4 is_called
const char *set_value();
// The largest value of a column (as text).
std::string max_value(const QualifiedName &table, const std::string &column);
}  // namespace pgcutover::sql::sequences
