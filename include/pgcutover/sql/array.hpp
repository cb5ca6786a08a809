#pragma once
// The one encoder of PostgreSQL array literals ('{"a","b\"c"}'), for values
// sent as $n parameters (text[], oid[] ...) and for the ledger's bounds. Every
// element is double-quoted, with " and \ escaped, so no element text (empty,
// NULL-looking, containing commas or braces) can change the array's shape.
#include <string>
#include <vector>

namespace pgcutover::sql {

std::string array_literal(const std::vector<std::string> &items);

}  // namespace pgcutover::sql
