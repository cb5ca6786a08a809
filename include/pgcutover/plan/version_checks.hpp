#pragma once
// Downgrades: what an older target cannot hold, found per column before any
// data moves. Binary COPY carries bytes, not meaning: an infinite interval
// (17+) lands in a 15 server as "178956970 years 7 mons ...", and the client
// hash of verify, over identical bytes, would call it equal. So such values
// are refused at plan time, by name:
//  - a type the target does not have: multiranges (14+) into 10 to 13, and any
//    other built-in type of the source's major the target's lacks;
//  - values the target's type cannot represent: infinite intervals into a
//    target before 17, numeric 'Infinity' into a target before 14 (a data
//    check: one scan of the table, only for such pairs and columns).
// A source older than 10 is refused with its version named.
#include <set>
#include <string>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::plan {

// The lowest source major the tool reads.
constexpr int MIN_SOURCE_VERSION = 100000;

// Throws Usage when the source's version is outside the supported range.
void check_source_version(int source_version);

// The built-in type OIDs the columns of these tables use (under domains, and
// array elements) that the target's server lacks. Empty for an upgrade.
std::set<u32> builtin_types_missing(pg::Connection &dst, const std::vector<catalog::TableDef> &tables,
                                    int source_version, int target_version);

// Why the target's version cannot hold this table's columns ("; "-separated,
// one per column), or "" when it can. src runs in the copy's snapshot; reads
// the table only when a column needs a data check.
std::string version_problems(pg::Connection &src, const catalog::TableDef &table, int source_version,
                             int target_version, const std::set<u32> &missing_types);

}  // namespace pgcutover::plan
