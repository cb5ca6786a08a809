// Statements allowed to fail (see probe.hpp).
#include "pgcutover/pg/probe.hpp"

#include <algorithm>

#include "pgcutover/sql/source_checks.hpp"

namespace pgcutover::pg {

std::optional<Error> try_statement(Connection &conn, const std::string &sql,
                                   std::initializer_list<std::string_view> expected) {
  const bool sub = PQtransactionStatus(conn.raw()) == PQTRANS_INTRANS;
  if (sub) conn.exec(sql::source_checks::savepoint());
  try {
    conn.exec(sql);
    if (sub) conn.exec(sql::source_checks::release_savepoint());
    return std::nullopt;
  } catch (Error &e) {
    if (std::find(expected.begin(), expected.end(), e.sqlstate) == expected.end()) throw;
    if (sub) conn.exec(sql::source_checks::rollback_to_savepoint());
    return e;
  }
}

bool same_encoding(const Connection &a, const Connection &b) {
  const char *x = PQparameterStatus(a.raw(), "server_encoding");
  const char *y = PQparameterStatus(b.raw(), "server_encoding");
  return std::string(x ? x : "") == std::string(y ? y : "");
}

}  // namespace pgcutover::pg
