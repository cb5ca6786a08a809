// Version-stable comparisons (see compare.hpp).
#include "pgcutover/sql/compare.hpp"

#include <fmt/format.h>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql {

namespace {

// Built-in types whose text form depends on the float output of the major
// (their OIDs are fixed in pg_type.dat, the same on every version).
const char *float_send(u32 oid) {
  switch (oid) {
    case 700: return "float4send";
    case 701: return "float8send";
    case 600: return "point_send";
    case 601: return "lseg_send";
    case 602: return "path_send";
    case 603: return "box_send";
    case 604: return "poly_send";
    case 628: return "line_send";
    case 718: return "circle_send";
    default: return nullptr;
  }
}

}  // namespace

std::string stable_send_function(u32 base_oid, u32 elem_oid) {
  if (const char *f = float_send(base_oid)) return f;
  // array_send writes the element type's OID (built in: the same everywhere)
  // and each element through its send function.
  if (elem_oid != 0 && float_send(elem_oid)) return "array_send";
  return "";
}

std::string compared_value(const ComparedColumn &c, const std::string &prefix) {
  if (c.send.empty()) return prefix + quote_ident(c.name);
  return "pg_catalog." + c.send + "(" + prefix + quote_ident(c.name) + ")";
}

std::string compared_list(const std::vector<ComparedColumn> &columns, const std::string &prefix) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + compared_value(columns[i], prefix);
  return out;
}

std::string compared_row_text(const std::vector<ComparedColumn> &columns) {
  return "ROW(" + compared_list(columns) + ")::text";
}

std::string compared_as_text(const std::vector<ComparedColumn> &columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + compared_value(columns[i]) + "::text";
  return out;
}

RowHash row_hash_for(int source_version, int target_version, bool same_encoding) {
  if (!same_encoding) return RowHash::Md5Utf8;
  return source_version >= 110000 && target_version >= 110000 ? RowHash::Extended : RowHash::Md5;
}

const char *to_string(RowHash h) {
  return h == RowHash::Extended ? "hashtextextended" : h == RowHash::Md5 ? "md5" : "md5 of UTF8";
}

std::string row_md5(RowHash hash, const std::string &text_expr) {
  if (hash == RowHash::Md5Utf8) return fmt::format("pg_catalog.md5(pg_catalog.convert_to({}, 'UTF8'))", text_expr);
  return fmt::format("pg_catalog.md5({})", text_expr);
}

std::string row_hash_sum(RowHash hash, const std::string &text_expr) {
  if (hash == RowHash::Extended)
    return fmt::format("coalesce(sum(pg_catalog.hashtextextended({}, 0)::numeric), 0)::text", text_expr);
  return fmt::format("coalesce(sum(('x' || pg_catalog.left({}, 16))::bit(64)::bigint::numeric), 0)::text",
                     row_md5(hash, text_expr));
}

}  // namespace pgcutover::sql
