#pragma once
// Running a statement that may fail without losing the transaction around it.
#include <optional>
#include <string>

#include "pgcutover/pg/connection.hpp"

namespace pgcutover::pg {

// Runs sql; inside a transaction (the plan's snapshot) within a savepoint, so
// a failure leaves the transaction usable. Returns the Error when its
// SQLSTATE is one of `expected`, rethrows any other.
std::optional<Error> try_statement(Connection &conn, const std::string &sql,
                                   std::initializer_list<std::string_view> expected);

// Whether both servers store text in the same encoding (server_encoding, as
// reported at connect time): hashes over text bytes only compare then.
bool same_encoding(const Connection &a, const Connection &b);

}  // namespace pgcutover::pg
