// Range predicates and key sets (see range.hpp), and the fragments other
// statement files share (fragments.hpp).
#include "pgcutover/sql/range.hpp"

#include <fmt/format.h>

#include "fragments.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::sql {

namespace detail {

const char *format_option(copybin::StreamFormat format) {
  return format == copybin::StreamFormat::Binary ? "(FORMAT binary)" : "(FORMAT text)";
}

std::string key_expr(const KeySpec &key) {
  std::string cols = ident_list(key.columns);
  return key.columns.size() == 1 ? cols : "(" + cols + ")";
}

std::string key_order_expr(const KeySpec &key) {
  std::string cols = order_by_key(key);
  return key.columns.size() == 1 ? cols : "(" + cols + ")";
}

std::string bound_literal(const KeySpec &key, const KeyValue &b) {
  if (b.values.size() != key.columns.size()) throw_internal("key bound has the wrong number of values");
  std::string out;
  for (size_t i = 0; i < b.values.size(); ++i) {
    if (i) out += ", ";
    out += quote_literal(b.values[i]) + "::" + key.types[i];
  }
  return key.columns.size() == 1 ? out : "(" + out + ")";
}

std::string where_range(const KeySpec &key, const KeyInterval &range, const std::string &filter) {
  std::string pred = range_predicate(key, range);
  if (!filter.empty()) pred = pred.empty() ? "(" + filter + ")" : pred + " AND (" + filter + ")";
  return pred.empty() ? "" : " WHERE " + pred;
}

std::string as_text(const std::vector<std::string> &columns, const std::string &prefix) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + prefix + quote_ident(columns[i]) + "::text";
  return out;
}

std::string key_set_predicate(const KeySpec &key, int first_param) {
  std::string casts, arrays, names;
  for (size_t i = 0; i < key.columns.size(); ++i) {
    std::string u = fmt::format("k{}", i + 1);
    casts += fmt::format("{}u.{}::{}", i ? ", " : "", u, key.types[i]);
    arrays += fmt::format("{}${}::text[]", i ? ", " : "", first_param + static_cast<int>(i));
    names += (i ? ", " : "") + u;
  }
  return fmt::format("{} IN (SELECT {} FROM unnest({}) AS u({}))", key_expr(key), casts, arrays, names);
}

std::string key_set_literals(const KeySpec &key, const std::vector<KeyValue> &keys) {
  std::string out = key_expr(key) + " IN (";
  for (size_t i = 0; i < keys.size(); ++i) out += (i ? ", " : "") + bound_literal(key, keys[i]);
  return out + ")";
}

}  // namespace detail

std::string range_predicate(const KeySpec &key, const KeyInterval &range) {
  std::string out;
  if (range.lower) out = detail::key_order_expr(key) + " >= " + detail::bound_literal(key, *range.lower);
  if (range.upper) {
    if (!out.empty()) out += " AND ";
    out += detail::key_order_expr(key) + " < " + detail::bound_literal(key, *range.upper);
  }
  return out;
}

std::string order_by_key(const KeySpec &key, const std::string &prefix) {
  std::string out;
  for (size_t i = 0; i < key.columns.size(); ++i) {
    out += (i ? ", " : "") + prefix + quote_ident(key.columns[i]);
    if (key.collated(i)) out += R"( COLLATE "C")";
  }
  return out;
}

std::vector<std::string> key_set_params(const KeySpec &key, const std::vector<KeyValue> &keys) {
  std::vector<std::vector<std::string>> columns(key.columns.size());
  for (const KeyValue &k : keys) {
    if (k.values.size() != key.columns.size()) throw_internal("key has the wrong number of values");
    for (size_t i = 0; i < k.values.size(); ++i) columns[i].push_back(k.values[i]);
  }
  std::vector<std::string> out;
  for (const auto &c : columns) out.push_back(array_literal(c));
  return out;
}

}  // namespace pgcutover::sql
