#pragma once
// Statements of schema/matviews and schema/large_objects: objects that are
// not tables.
#include <string>

#include "pgcutover/sql/ident.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::sql::nontable {

// Source: $1 text[] schemas left out -> schema, name of the materialized
// views that are populated.
const char *populated_matviews();
// Target: $1 text[] schemas left out -> schema, name, populated, has a unique
// index on plain columns without a predicate (CONCURRENTLY can use it),
// depth (0 for one over no other materialized view), ordered by depth.
const char *target_matviews();
std::string refresh_matview(const QualifiedName &name, bool concurrently);

// -> oid, owner name, one row per GRANT: grantee ('' for PUBLIC), privilege,
// grantable (NULL grantee for objects without GRANTs beyond the owner's).
const char *large_objects();
// -> how many large objects there are.
const char *large_object_totals();
// $1 oid[] -> oid, length, md5 of the content.
const char *large_object_digests();
// $1 oid, $2 offset, $3 length -> the bytes, hex-encoded (whatever bytea_output is).
const char *large_object_chunk();
const char *large_object_create();  // $1 oid
const char *large_object_put();     // $1 oid, $2 offset, $3 hex text
const char *large_object_unlink();  // $1 oid
std::string large_object_owner(u32 oid, const std::string &role);
std::string large_object_grant(u32 oid, const std::string &privilege, const std::string &grantee, bool grantable);

}  // namespace pgcutover::sql::nontable
