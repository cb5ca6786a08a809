#pragma once
// Statements of sequences/ and the sequence check of verify/.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::sequences {
// $1 sequence schema, $2 sequence name, $3 value, $4 is_called
const char *set_value();
// The largest (ascending) or smallest (descending) value of a column, as text,
// over the table and its inheritance children or partitions.
std::string extreme_value(const QualifiedName &table, const std::string &column, bool ascending);
}  // namespace pgcutover::sql::sequences
