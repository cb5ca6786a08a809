#pragma once
// Statements of ledger/write_guard: the target's user triggers and foreign
// keys that act on the tables a command writes, and setting them aside.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::write_guard {
// $1 schemas, $2 names -> schema, table, trigger, tgenabled: user triggers
// that fire in a plain session (enabled 'O' or ALWAYS 'A').
const char *firing_triggers();
// $1 schemas, $2 names -> schema, table, constraint, definition, validated: foreign keys
// declared (not inherited) on one of the tables or their ancestors, or
// referencing one of them or their ancestors.
const char *acting_foreign_keys();
// $1 schemas, $2 names -> schema.table of each table, or table holding one
// of their foreign keys, that the current role does not own.
const char *not_owned();
// $1 schemas, $2 names -> schema, table, name, definition of the NOT VALID
// check constraints of the named tables (their own, not inherited) that the
// role may alter: the rows the source kept from before the check would fail it.
const char *not_valid_checks();
// The same for the domains the named tables' columns use (through arrays and
// domains over domains): schema, domain, name, definition.
const char *not_valid_domain_checks();
std::string drop_domain_constraint(const QualifiedName &domain, const std::string &name);
// ADD ... NOT VALID from pg_get_constraintdef's definition, which already
// ends in NOT VALID when the constraint was not validated (convalidated).
std::string add_domain_constraint(const QualifiedName &domain, const std::string &name, const std::string &definition,
                                  bool validated);

std::string disable_trigger(const QualifiedName &table, const std::string &trigger);
// ENABLE [ALWAYS] TRIGGER, as tgenabled said ('A' -> ALWAYS)
std::string enable_trigger(const QualifiedName &table, const std::string &trigger, const std::string &tgenabled);
std::string drop_constraint(const QualifiedName &table, const std::string &name);
// ADD CONSTRAINT ... NOT VALID, the same way (validated: convalidated)
std::string add_constraint_not_valid(const QualifiedName &table, const std::string &name, const std::string &definition,
                                     bool validated);
// ADD CONSTRAINT as defined (validated at once)
std::string add_constraint(const QualifiedName &table, const std::string &name, const std::string &definition);
const char *is_partitioned();  // $1 schema, $2 table -> bool
std::string validate_constraint(const QualifiedName &table, const std::string &name);
}  // namespace pgcutover::sql::write_guard
