#pragma once
// Which pg_dump / pg_restore to run. pg_dump reads only servers up to its own
// major version ("aborting because of server version mismatch"), so the one
// used must be at least the source's major: --pg-bin when given (and then it
// must fit), else the newest installed (/usr/lib/postgresql/*/bin, then PATH).
// When none fits, the command says so before anything is written to the
// target, with what to install or how to go on without pg_dump (--no-schema
// into tables made beforehand).
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::schema {

struct DumpTools {
  std::string pg_dump;   // path of pg_dump
  std::string pg_restore;  // path of pg_restore, same folder (may be "" if absent)
  std::string bin_dir;   // their folder
  int major = 0;         // pg_dump's major version
};

// The major version `program --version` prints (e.g. 15 for "pg_dump
// (PostgreSQL) 15.6 (Debian ...)"), nullopt when it does not run or says
// something else.
std::optional<int> program_major(const std::string &program);
// The major of a server_version_num (170002 -> 17, 90624 -> 9).
int major_of(int server_version);

// The pg_dump that can read a source of this server_version_num (see above).
// Throws Usage naming the source's version, the newest pg_dump found, and the
// ways on (install a newer client and point --pg-bin at it, or --no-schema).
DumpTools find_dump_tools(const std::string &pg_bin, int source_version);

// Whether any of the tables the command would copy (`tables`, or every table
// of the source when empty) is missing on the target: then the copy must
// create it with pg_dump.
bool target_lacks_tables(pg::Connection &src, pg::Connection &dst, const std::vector<sql::QualifiedName> &tables,
                         const std::vector<std::string> &exclude_schemas);

}  // namespace pgcutover::schema
