// Statements of diff/ (see diff.hpp).
#include "pgcutover/sql/diff.hpp"

#include <fmt/format.h>

#include "fragments.hpp"

namespace pgcutover::sql::diff {

std::string count_range(const QualifiedName &table, const KeySpec &key, const KeyInterval &range) {
  return fmt::format("SELECT count(*), 0::text FROM ONLY {}{}", table, detail::where_range(key, range));
}

std::string server_digest(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key,
                          const KeyInterval &range, RowHash hash) {
  return fmt::format("SELECT count(*), {} FROM ONLY {}{}", row_hash_sum(hash, compared_row_text(columns)), table,
                     detail::where_range(key, range));
}

std::string key_hashes(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key,
                       const KeyInterval &range, RowHash hash) {
  return fmt::format("SELECT {}, {} FROM ONLY {}{}", detail::as_text(key.columns),
                     row_md5(hash, compared_row_text(columns)), table,
                     detail::where_range(key, range));
}

std::string key_quantiles(const QualifiedName &table, const KeySpec &key, const KeyInterval &range, i64 step,
                          const std::string &filter) {
  return fmt::format(
      "SELECT {}, pgcutover_rn FROM (SELECT {}, row_number() OVER (ORDER BY {}) AS pgcutover_rn FROM ONLY {}{}) s "
      "WHERE pgcutover_rn % {} = 0 ORDER BY pgcutover_rn",
      detail::as_text(key.columns), ident_list(key.columns), order_by_key(key), table, detail::where_range(key, range, filter), step);
}

std::string rows_by_keys(const QualifiedName &table, const std::vector<ComparedColumn> &columns, const KeySpec &key) {
  return fmt::format("SELECT {}, {} FROM ONLY {} WHERE {}", detail::as_text(key.columns), compared_as_text(columns),
                     table, detail::key_set_predicate(key));
}

std::string delete_keys(const QualifiedName &table, const KeySpec &key) {
  return fmt::format("DELETE FROM ONLY {} WHERE {}", table, detail::key_set_predicate(key));
}

}  // namespace pgcutover::sql::diff
