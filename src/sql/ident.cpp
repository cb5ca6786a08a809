#include "pgcutover/sql/ident.hpp"

#include <cctype>

#include "pgcutover/util/error.hpp"

namespace pgcutover::sql {

namespace {
std::string quote_with(const std::string &raw, char q) {
  if (raw.find('\0') != std::string::npos) throw_usage("a name or value contains a NUL byte, which PostgreSQL cannot store");
  std::string out;
  out.reserve(raw.size() + 2);
  out.push_back(q);
  for (char c : raw) {
    if (c == q) out.push_back(q);
    out.push_back(c);
  }
  out.push_back(q);
  return out;
}

// Reads one identifier at text[pos]: quoted ("..." with "" escapes) or plain
// (folded to lower case, as the server does).
std::string read_ident(const std::string &text, size_t &pos) {
  std::string out;
  if (pos < text.size() && text[pos] == '"') {
    ++pos;
    for (;;) {
      if (pos >= text.size()) throw_usage("unterminated quoted name in '" + text + "'");
      if (text[pos] == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          out.push_back('"');
          pos += 2;
          continue;
        }
        ++pos;
        break;
      }
      out.push_back(text[pos++]);
    }
    if (out.empty()) throw_usage("empty quoted name in '" + text + "'");
    return out;
  }
  while (pos < text.size() && text[pos] != '.') {
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[pos]))));
    ++pos;
  }
  if (out.empty()) throw_usage("empty name in '" + text + "'");
  return out;
}
}  // namespace

std::string quote_ident(const std::string &raw) { return quote_with(raw, '"'); }
std::string quote_literal(const std::string &raw) { return quote_with(raw, '\''); }

QualifiedName parse_qualified_name(const std::string &text) {
  size_t pos = 0;
  std::string first = read_ident(text, pos);
  if (pos == text.size()) return {"public", first};
  if (text[pos] != '.') throw_usage("cannot read table name '" + text + "'", "write schema.table; quote names with capitals or dots: '\"My Schema\".\"T\"'");
  ++pos;
  std::string second = read_ident(text, pos);
  if (pos != text.size()) throw_usage("cannot read table name '" + text + "'", "write schema.table; quote names with capitals or dots: '\"My Schema\".\"T\"'");
  return {first, second};
}

std::string ident_list(const std::vector<std::string> &raw_names, const std::string &prefix) {
  std::string out;
  for (size_t i = 0; i < raw_names.size(); ++i) {
    if (i) out += ", ";
    out += prefix + quote_ident(raw_names[i]);
  }
  return out;
}

}  // namespace pgcutover::sql
