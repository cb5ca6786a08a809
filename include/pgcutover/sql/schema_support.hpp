#pragma once
// Statements of schema/: the objects behind a schema archive's entries, and
// the post-data items that build on one table.
#include <string>

#include "pgcutover/util/types.hpp"

namespace pgcutover::sql::schema_support {


// Source (in the copy's snapshot): $1 int[] TOC ids, $2 oid[] catalog oids,
// $3 oid[] object oids of post-data items -> id, kind ('index' | 'constraint'
// | 'foreign key'), schema and name of the table, name of the object, schema
// and name of the referenced table (foreign keys, else NULL), for the items
// that build on plain tables alone: a table's indexes, its primary key,
// unique and exclusion constraints, and foreign keys between two plain
// tables. Partitioned parents' items, triggers, comments and the rest are not
// returned.
const char *post_data_tables();


// ---- Archive entries' objects (schema/objects.hpp) ----

// $1 oid[] catalog OIDs -> oid, relname of those that are catalogs in pg_catalog.
const char *catalog_names();

// The name column of a catalog table (pg_class -> relname), "" when it has
// none (pg_attrdef, pg_cast ...): a lookup by name narrows the target's rows.
std::string catalog_name_column(const std::string &catalog);

// Source: $1 oid[] OIDs in `catalog` (a pg_catalog table name, with its OID
// `catalog_oid`) -> oid, pg_identify_object type, identity, name.
// Source: $1 text[] schemas left out -> schema, name of every table pg_dump
// would lock that the session's role may not read (not extension members).
std::string unreadable_tables();

std::string identify_objects(const std::string &catalog, u32 catalog_oid, const std::string &name_column);

// Target: $1 name[] names -> pg_identify_object identity of the catalog's
// rows with those names (every row when the catalog has no name column).
std::string identities_named(const std::string &catalog, u32 catalog_oid, const std::string &name_column);

// Source: $1 oid[] catalogs, $2 oid[] objects -> catalog, object, the
// relation the object belongs to (0 for none), its schema and name, and the
// object's own relkind when it is a relation.
const char *object_relations();

// Source: $1 oid[] catalogs, $2 oid[] objects -> catalog, object, deptype
// ('o' owner, 'a' privileges, 'r' policy, ...), role name, from pg_shdepend.
const char *object_roles();

// Source or target: every role name.
const char *role_names();

// Target: $1 text parent identity, $2 text child identity -> whether the
// child is attached to the parent (either way round).
const char *attached();

}  // namespace pgcutover::sql::schema_support
