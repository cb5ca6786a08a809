#pragma once
// Statements of schema/: what tables copied with --table need beyond their
// own definitions (their schemas, the types their columns use).
namespace pgcutover::sql::schema_support {

// Source: $1 text[] schemas, $2 text[] names of tables -> schema, name of every
// user-defined enum, domain, range or standalone composite type their columns
// use, directly or through arrays, domains, ranges and composites.
const char *types_used();

// Target: $1 text[] schemas, $2 text[] names -> those of the pairs that name
// no type on the target.
const char *types_missing();

// Target: $1 text[] schemas -> those that do not exist.
const char *schemas_missing();

}  // namespace pgcutover::sql::schema_support
