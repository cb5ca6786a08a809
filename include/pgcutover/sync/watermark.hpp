#pragma once
// Watermarks: the point in time each table's copy on the target stands at.
// The base copy records the earliest snapshot its ranges used; each sync range
// records its snapshot in the same transaction as its merge (a "part"), and
// when every range of a table committed, the parts collapse into the table's
// point. Until then the table's point is the earliest row, so a crash never
// skips a window.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sync {

struct Watermark {
  std::string point;  // ISO 8601 UTC
  std::string xmin;   // txid: oldest transaction running at the snapshot
  // Schema drift changed rows the change column cannot see (an added column's
  // values, a backfill before SET NOT NULL): the next sync reads every row.
  // Cleared when a sync of the table commits its point.
  bool reread = false;
};

// The part name and method that ask for a reread (see Watermark::reread).
inline constexpr const char *REREAD = "reread";

std::optional<Watermark> read_watermark(pg::Connection &c, const std::string &tool_schema, const sql::QualifiedName &t);
void write_watermark(pg::Connection &c, const std::string &tool_schema, const sql::QualifiedName &t,
                     const std::string &part, const Watermark &w, const std::string &method);
// Every table that has a watermark on the target.
std::vector<sql::QualifiedName> watermarked_tables(pg::Connection &c, const std::string &tool_schema);
// Replaces the table's parts by one committed point (one transaction).
void commit_watermark(pg::Connection &c, const std::string &tool_schema, const sql::QualifiedName &t, const Watermark &w,
                      const std::string &method);
// The same for many tables, in one transaction of two statements.
void commit_watermarks(pg::Connection &c, const std::string &tool_schema,
                       const std::vector<std::pair<sql::QualifiedName, Watermark>> &points, const std::string &method);
// Every table's watermark (read_watermark of each), in one statement.
std::map<sql::QualifiedName, Watermark> read_watermarks(pg::Connection &c, const std::string &tool_schema);

}  // namespace pgcutover::sync
