// Statements of the source checks (see source_checks.hpp).
#include "pgcutover/sql/source_checks.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::source_checks {

namespace {

// has_table_privilege(oid, 'SELECT') covers table-level grants only; a table
// read through column grants is refused too (the copy reads every column).
// pg_has_role(owner, 'USAGE') is "has the owner's privileges", the test
// row-level security itself applies to decide who counts as the owner.
constexpr const char *TABLE_ACCESS_SQL = R"SQL(
SELECT n.nspname, c.relname,
       pg_catalog.has_schema_privilege(n.oid, 'USAGE') AS schema_usage,
       pg_catalog.has_table_privilege(c.oid, 'SELECT') AS can_select,
       c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls
         AND (c.relforcerowsecurity OR NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')) AS rls_applies,
       c.relforcerowsecurity,
       (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid) AS policies,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       current_user
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_roles r ON r.rolname = current_user
 WHERE c.oid = ANY ($1::oid[])
 ORDER BY 1, 2
)SQL";

constexpr const char *UNREADABLE_SEQUENCES_SQL = R"SQL(
SELECT n.nspname, c.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN unnest($1::text[], $2::text[]) AS u(s, t) ON n.nspname = u.s AND c.relname = u.t
 WHERE c.relkind = 'S'
   AND NOT (pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_sequence_privilege(c.oid, 'SELECT'))
 ORDER BY 1, 2
)SQL";

}  // namespace

const char *table_access() { return TABLE_ACCESS_SQL; }
const char *unreadable_sequences() { return UNREADABLE_SEQUENCES_SQL; }
const char *database_encoding() { return "SELECT pg_catalog.getdatabaseencoding()"; }
const char *savepoint() { return "SAVEPOINT pgcutover_probe"; }
const char *rollback_to_savepoint() { return "ROLLBACK TO SAVEPOINT pgcutover_probe"; }
const char *release_savepoint() { return "RELEASE SAVEPOINT pgcutover_probe"; }

std::string convert_probe(const QualifiedName &table, const std::vector<std::string> &columns,
                          const std::string &encoding) {
  std::string counts;
  for (const std::string &c : columns)
    counts += fmt::format("{}pg_catalog.count(pg_catalog.convert_to({}::text, {}))", counts.empty() ? "" : " + ",
                          Ident{c}, quote_literal(encoding));
  return fmt::format("SELECT {} FROM ONLY {}", counts.empty() ? std::string("0") : counts, table);
}

}  // namespace pgcutover::sql::source_checks
