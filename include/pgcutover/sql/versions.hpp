#pragma once
// Statements of plan/version_checks: values a newer source holds that an
// older target cannot (checked per column before any data moves).
#include <string>
#include <vector>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::versions {

// A condition true for a row whose column holds an infinite interval (17+),
// in the column itself or, for an array, in one of its elements.
std::string infinite_interval(const std::string &column, bool array);
// The same for numeric 'Infinity' / '-Infinity' (14+).
std::string infinite_numeric(const std::string &column, bool array);
// -> one boolean per condition: whether any row of the table meets it (one scan).
std::string any_row_meets(const QualifiedName &table, const std::vector<std::string> &conditions);

}  // namespace pgcutover::sql::versions
