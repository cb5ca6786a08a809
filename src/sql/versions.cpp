// Statements of plan/version_checks (see versions.hpp).
#include "pgcutover/sql/versions.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::versions {

namespace {

std::string infinite(const std::string &column, bool array, const char *type, const char *inf) {
  const std::string c = quote_ident(column);
  if (array)
    return fmt::format("('{1}'::pg_catalog.{2} = ANY ({0}) OR '-{1}'::pg_catalog.{2} = ANY ({0}))", c, inf, type);
  return fmt::format("{0} IN ('{1}'::pg_catalog.{2}, '-{1}'::pg_catalog.{2})", c, inf, type);
}

}  // namespace

std::string infinite_interval(const std::string &column, bool array) {
  return infinite(column, array, "interval", "infinity");
}

std::string infinite_numeric(const std::string &column, bool array) {
  return infinite(column, array, "numeric", "Infinity");
}

std::string any_row_meets(const QualifiedName &table, const std::vector<std::string> &conditions) {
  std::string list;
  for (size_t i = 0; i < conditions.size(); ++i)
    list += fmt::format("{}coalesce(pg_catalog.bool_or({}), false)", i ? ", " : "", conditions[i]);
  return fmt::format("SELECT {} FROM ONLY {}", list, table);
}

}  // namespace pgcutover::sql::versions
