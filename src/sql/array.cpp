#include "pgcutover/sql/array.hpp"

namespace pgcutover::sql {

std::string array_literal(const std::vector<std::string> &items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

}  // namespace pgcutover::sql
