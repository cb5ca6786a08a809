// Statements of verify/ (see verify.hpp).
#include "pgcutover/sql/verify.hpp"

#include <fmt/format.h>

#include "fragments.hpp"

namespace pgcutover::sql::verify {

std::string ordered_copy_out(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key,
                             const KeyInterval &range, copybin::StreamFormat format) {
  return fmt::format("COPY (SELECT {} FROM ONLY {}{} ORDER BY {}) TO STDOUT {}", compared_list(columns), table,
                     detail::where_range(key, range), order_by_key(key), detail::format_option(format));
}

std::string copy_out_keys(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                          const std::vector<KeyValue> &keys, copybin::StreamFormat format) {
  return fmt::format("COPY (SELECT {} FROM ONLY {} WHERE {}) TO STDOUT {}", ident_list(columns), table,
                     detail::key_set_literals(key, keys), detail::format_option(format));
}

std::string keyed_copy_out(const QualifiedName &table, const std::vector<std::string> &key,
                           const std::vector<ComparedColumn> &columns, copybin::StreamFormat format) {
  std::string keys;
  for (const std::string &k : key) keys += quote_ident(k) + "::text, ";
  return fmt::format("COPY (SELECT {}{} FROM ONLY {}) TO STDOUT {}", keys, compared_list(columns), table,
                     detail::format_option(format));
}

}  // namespace pgcutover::sql::verify
