#pragma once
// Large objects are not rows of any table: pg_dump's schema archive leaves
// them out and no range carries them. A whole-database copy (or --large-objects)
// makes the target's large objects equal the source's as of the copy's
// snapshot: the ones it lacks are created with the same OID and content (read
// in 1 MB chunks, so memory stays bounded), the ones whose content differs
// (size, or an md5 of the content) are written again, and at `sync --final`
// the ones the source no longer has are unlinked. Owners and GRANTs follow
// the copy's --no-owner / --no-privileges, and the roles they need are
// checked before any data moves.
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/schema/objects.hpp"

namespace pgcutover::schema {

struct LargeObjectResult {
  i64 source_count = 0;   // large objects on the source
  i64 created = 0;        // created on the target
  i64 rewritten = 0;      // present with other content: written again
  i64 unlinked = 0;       // on the target only (sync --final): removed
  i64 bytes = 0;          // content written
  double seconds = 0;
};

// How many large objects the source has (to say what a subset copy leaves out).
i64 count_large_objects(pg::Connection &source);

// The roles the large objects' owners and GRANTs need that the target lacks.
MissingRoles large_object_roles(pg::Connection &source, pg::Connection &target);

// Makes the target's large objects equal the source's (source: in the copy's
// snapshot). unlink_extra: remove those only the target has.
LargeObjectResult sync_large_objects(pg::Connection &source, pg::Connection &target, const SchemaOptions &opt,
                                     bool unlink_extra);

}  // namespace pgcutover::schema
