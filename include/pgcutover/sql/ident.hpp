#pragma once
// Identifiers and literals. Names travel raw (as pg_catalog spells them) and
// are quoted only here, always: there is no "quote when needed" heuristic.
// quote_literal is valid because every session sets standard_conforming_strings.
#include <fmt/format.h>

#include <string>
#include <vector>

namespace pgcutover::sql {

std::string quote_ident(const std::string &raw);    // "x""y"; throws on NUL
std::string quote_literal(const std::string &raw);  // 'it''s'; throws on NUL

struct Ident {
  std::string raw;
  bool operator==(const Ident &) const = default;
};

struct QualifiedName {
  std::string schema;
  std::string name;
  std::string quoted() const { return quote_ident(schema) + "." + quote_ident(name); }
  std::string display() const { return schema + "." + name; }  // for messages, unquoted
  bool operator==(const QualifiedName &) const = default;
  auto operator<=>(const QualifiedName &) const = default;
};

// Parses "schema.table", "table" (schema public), or quoted forms
// ("My Schema"."T.1") the way PostgreSQL reads them. Throws Usage on bad input.
QualifiedName parse_qualified_name(const std::string &text);

// A comma-separated list of quoted identifiers, optionally prefixed ("t." ...).
std::string ident_list(const std::vector<std::string> &raw_names, const std::string &prefix = "");

}  // namespace pgcutover::sql

template <>
struct fmt::formatter<pgcutover::sql::Ident> : fmt::formatter<std::string> {
  auto format(const pgcutover::sql::Ident &id, fmt::format_context &ctx) const {
    return fmt::formatter<std::string>::format(pgcutover::sql::quote_ident(id.raw), ctx);
  }
};
template <>
struct fmt::formatter<pgcutover::sql::QualifiedName> : fmt::formatter<std::string> {
  auto format(const pgcutover::sql::QualifiedName &q, fmt::format_context &ctx) const {
    return fmt::formatter<std::string>::format(q.quoted(), ctx);
  }
};
