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

// Source (in the copy's snapshot): $1 int[] TOC ids, $2 oid[] catalog oids,
// $3 oid[] object oids of post-data items -> id, kind ('index' | 'constraint'
// | 'foreign key'), schema and name of the table, name of the object, schema
// and name of the referenced table (foreign keys, else NULL), for the items
// that build on plain tables alone: a table's indexes, its primary key,
// unique and exclusion constraints, and foreign keys between two plain
// tables. Partitioned parents' items, triggers, comments and the rest are not
// returned.
const char *post_data_tables();

// Target: $1 int[] ids, $2 text[] kinds, $3 text[] table schemas, $4 text[]
// table names, $5 text[] object names -> the ids whose object exists.
const char *post_data_existing();

}  // namespace pgcutover::sql::schema_support
