// Encoding checks (see encoding_checks.hpp).
#include "pgcutover/plan/encoding_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>

#include "pgcutover/pg/probe.hpp"
#include "pgcutover/sql/source_checks.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::plan {

namespace {

// Built-in types whose text form is ASCII whatever the values (numbers, time,
// network, bit strings, geometry, uuid, bytea in hex): never probed.
constexpr u32 ASCII_TYPES[] = {16,   17,   20,   21,   23,   26,   600,  601,  602,  603,  604,  628,  650,
                               700,  701,  718,  774,  790,  829,  869,  1082, 1083, 1114, 1184, 1186, 1266,
                               1560, 1562, 1700, 2950, 3220, 3904, 3906, 3908, 3910, 3912, 3926};

bool may_hold_text(const catalog::ColumnDef &c) {
  const u32 base = c.elem_type_oid ? c.elem_type_oid : c.base_type_oid;
  return std::find(std::begin(ASCII_TYPES), std::end(ASCII_TYPES), base) == std::end(ASCII_TYPES);
}

// The server's words without our "endpoint: query failed: " prefix.
std::string server_words(const Error &e) {
  const std::string what = e.what(), mark = "query failed: ";
  const size_t at = what.find(mark);
  return at == std::string::npos ? what : what.substr(at + mark.size());
}

// 22P05 untranslatable_character, 22021 character_not_in_repertoire.
std::optional<Error> try_probe(pg::Connection &src, const std::string &probe) {
  return pg::try_statement(src, probe, {"22P05", "22021"});
}

std::string encoding_of(pg::Connection &conn) {
  return std::string(conn.exec(sql::source_checks::database_encoding()).get(0, 0));
}

}  // namespace

void refuse_unencodable(pg::Connection &src, pg::Connection &dst, std::vector<catalog::TableDef> &tables,
                        std::vector<Refusal> &refused) {
  if (tables.empty()) return;
  const std::string from = encoding_of(src), to = encoding_of(dst);
  // UTF8 holds every character; SQL_ASCII converts nothing either way.
  if (from == to || to == "UTF8" || to == "SQL_ASCII" || from == "SQL_ASCII") return;
  log::info("the source's encoding is {} and the target's {}: checking that every text value fits {}", from, to, to);
  std::erase_if(tables, [&](const catalog::TableDef &t) {
    std::vector<std::string> cols;
    for (const catalog::ColumnDef &c : t.columns)
      if (may_hold_text(c)) cols.push_back(c.name);
    if (cols.empty() || !try_probe(src, sql::source_checks::convert_probe(t.name, cols, to))) return false;
    std::string problems;
    for (const std::string &c : cols)
      if (std::optional<Error> e = try_probe(src, sql::source_checks::convert_probe(t.name, {c}, to)))
        problems += (problems.empty() ? "" : "; ") +
                    fmt::format("column \"{}\" holds text the target's encoding {} cannot represent ({})", c, to,
                                server_words(*e));
    if (problems.empty()) problems = "a value holds text the target's encoding " + to + " cannot represent";
    refused.push_back({t.name.display(), problems + "; make the target database UTF8, or change those values on "
                                                    "the source"});
    return true;
  });
}

}  // namespace pgcutover::plan
