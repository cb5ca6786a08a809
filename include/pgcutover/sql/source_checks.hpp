#pragma once
// Statements of plan/source_checks and plan/encoding_checks: what the source
// role may read, and whether text survives the target's encoding.
#include <string>
#include <vector>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::source_checks {

// Per table of $1 (oid[]): schema, name, USAGE on its schema, SELECT on it,
// whether row-level security applies to the current role (enabled, and the
// role is neither superuser nor BYPASSRLS nor the owner, or FORCE applies it
// to the owner too), FORCE, the number of policies, the owner, current_user.
const char *table_access();

// Sequences $1 (text[] schemas) / $2 (text[] names) the current role may not
// read (`SELECT last_value, is_called FROM seq` needs SELECT on it, and USAGE
// on its schema): schema, name.
const char *unreadable_sequences();

// -> the database's encoding name (getdatabaseencoding()).
const char *database_encoding();

// SAVEPOINT / ROLLBACK TO / RELEASE of the probes below.
const char *savepoint();
const char *rollback_to_savepoint();
const char *release_savepoint();

// One scan of the table that converts each column's text form to `encoding`
// (count(convert_to(col::text, enc))): fails with SQLSTATE 22P05 when a value
// has a character the encoding lacks.
std::string convert_probe(const QualifiedName &table, const std::vector<std::string> &columns,
                          const std::string &encoding);

}  // namespace pgcutover::sql::source_checks
