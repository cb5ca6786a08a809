#include "pgcutover/sql/traffic.hpp"

#include <algorithm>

namespace pgcutover::sql::traffic {

namespace {

std::string where(const KeyColumns &key) {
  std::string out;
  for (size_t i = 0; i < key.names.size(); ++i)
    out += (i ? " AND " : "") + quote_ident(key.names[i]) + " = $" + std::to_string(i + 1) + "::" + key.types[i];
  return out;
}

std::string keys_as_text(const KeyColumns &key) {
  std::string out;
  for (size_t i = 0; i < key.names.size(); ++i) out += (i ? ", " : "") + quote_ident(key.names[i]) + "::text";
  return out;
}

}  // namespace

std::string sample_keys(const QualifiedName &table, const KeyColumns &key, double estimated_rows, int limit) {
  const std::string head = "SELECT " + keys_as_text(key) + " FROM " + table.quoted();
  if (estimated_rows < 200000) return head + " ORDER BY random() LIMIT " + std::to_string(limit);
  double percent = std::min(100.0, 4.0 * limit / estimated_rows * 100);
  return head + " TABLESAMPLE SYSTEM (" + std::to_string(percent) + ") LIMIT " + std::to_string(limit);
}

std::string update_row(const QualifiedName &table, const KeyColumns &key, const std::string &change_column) {
  std::string set = change_column.empty() ? quote_ident(key.names[0]) + " = " + quote_ident(key.names[0])
                                          : quote_ident(change_column) + " = now()";
  return "UPDATE " + table.quoted() + " SET " + set + " WHERE " + where(key);
}

std::string delete_row(const QualifiedName &table, const KeyColumns &key) {
  return "DELETE FROM " + table.quoted() + " WHERE " + where(key);
}

std::string insert_copy(const QualifiedName &table, const KeyColumns &key, const std::vector<std::string> &columns,
                        const std::string &change_column, const std::vector<std::string> &defaulted) {
  std::string cols, values;
  for (const std::string &c : columns) {
    if (c == key.names[0]) continue;
    if (c != change_column && std::find(defaulted.begin(), defaulted.end(), c) != defaulted.end()) continue;
    cols += (cols.empty() ? "" : ", ") + quote_ident(c);
    values += (values.empty() ? "" : ", ") + (c == change_column ? std::string("now()") : quote_ident(c));
  }
  if (cols.empty()) return "";
  return "INSERT INTO " + table.quoted() + " (" + cols + ") SELECT " + values + " FROM " + table.quoted() +
         " WHERE " + where(key) + " RETURNING " + keys_as_text(key);
}

std::string set_time_zone(const std::string &zone) { return "SET TimeZone = " + quote_literal(zone); }

}  // namespace pgcutover::sql::traffic
