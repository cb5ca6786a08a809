#include "pgcutover/catalog/table.hpp"

#include <algorithm>

namespace pgcutover::catalog {

std::vector<std::string> TableDef::column_names() const {
  std::vector<std::string> out;
  out.reserve(columns.size());
  for (const ColumnDef &c : columns) out.push_back(c.name);
  return out;
}

std::vector<sql::ComparedColumn> TableDef::compared_columns() const {
  std::vector<sql::ComparedColumn> out;
  out.reserve(columns.size());
  for (const ColumnDef &c : columns) out.emplace_back(c.name, sql::stable_send_function(c.base_type_oid, c.elem_type_oid));
  return out;
}

const ColumnDef *TableDef::find_column(const std::string &n) const {
  for (const ColumnDef &c : columns)
    if (c.name == n) return &c;
  return nullptr;
}

std::string ColumnDef::text_reason() const {
  if (!no_binary_io.empty())
    return no_binary_io == type || no_binary_io == "\"" + type + "\""
               ? "type " + no_binary_io + " has no binary send/receive functions"
               : "it goes through type " + no_binary_io + ", which has no binary send/receive functions";
  if (needs_text) return "its binary form embeds type OIDs that differ between databases";
  return "";
}

const ColumnDef *TableDef::text_only_column() const {
  for (const ColumnDef &c : columns)
    if (!c.text_reason().empty()) return &c;
  return nullptr;
}

bool TableDef::key_orders_differ() const {
  return std::find(key_collate_c.begin(), key_collate_c.end(), true) != key_collate_c.end();
}

}  // namespace pgcutover::catalog
