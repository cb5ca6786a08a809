#pragma once
// Pieces that several statement files of sql/ assemble (private to sql/).
#include <string>
#include <vector>

#include "pgcutover/sql/range.hpp"

namespace pgcutover::sql::detail {

// "(FORMAT binary)" / "(FORMAT text)"
const char *format_option(copybin::StreamFormat format);
// "k" or "(k1, k2)": for equality (key sets).
std::string key_expr(const KeySpec &key);
// The same with COLLATE "C" on the columns that ask for it: for ordering.
std::string key_order_expr(const KeySpec &key);
// ('v1'::t1, 'v2'::t2) or 'v'::t for a one-column key.
std::string bound_literal(const KeySpec &key, const KeyValue &b);
// " WHERE <range> [AND (filter)]", or "" when both are empty.
std::string where_range(const KeySpec &key, const KeyInterval &range, const std::string &filter = "");
// "prefix"k1"::text, ..." for the given columns.
std::string as_text(const std::vector<std::string> &columns, const std::string &prefix = "");
// key IN (SELECT u.k1::t1, ... FROM unnest($first::text[], ...) AS u(k1, ...)):
// the key set travels as parameters (see key_set_params); text -> type casts
// work for every type, arrays and composites included.
std::string key_set_predicate(const KeySpec &key, int first_param = 1);
// key IN ('v'::t, ...): literals, for COPY (which takes no parameters).
std::string key_set_literals(const KeySpec &key, const std::vector<KeyValue> &keys);

}  // namespace pgcutover::sql::detail
