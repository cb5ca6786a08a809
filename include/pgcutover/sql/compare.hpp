#pragma once
// Comparisons that mean the same on every major version (10 to 18).
//
// Verify, bisection, repair and delete detection compare what two servers say
// about their rows. Two things differ between majors:
//  - Text forms of floating point values. With extra_float_digits = 3 (pinned
//    in every session), 12 and later print the shortest exact form ("0.1"),
//    10 and 11 print 17 significant digits ("0.10000000000000001"). So float4,
//    float8, the geometric types built on float8 and arrays of them are
//    compared through their binary send function (the exact bits, the same on
//    every major), never through their text.
//  - Hash functions. hashtextextended (a 64-bit hash) exists from 11 on; the
//    server digest of a pair where either side is older uses a 64-bit slice of
//    md5 instead, which every version has. Both sides always use the same one.
#include <string>
#include <vector>

#include "pgcutover/util/types.hpp"

namespace pgcutover::sql {

// A column as a comparison reads it: its name, and the send function to read
// it through ("" = its text form).
struct ComparedColumn {
  std::string name;
  std::string send;
  ComparedColumn(std::string n, std::string s = "") : name(std::move(n)), send(std::move(s)) {}
  ComparedColumn(const char *n) : name(n) {}
};

// The send function that makes a type's value comparable across majors, or ""
// when its text form already is: base_oid is the type under its domains,
// elem_oid the element type of an array base (0 if none).
std::string stable_send_function(u32 base_oid, u32 elem_oid);

// "prefix"col" or pg_catalog.float8send("prefix"col"): the value as compared.
std::string compared_value(const ComparedColumn &c, const std::string &prefix = "");
// The comma-separated list of compared_value()s.
std::string compared_list(const std::vector<ComparedColumn> &columns, const std::string &prefix = "");
// ROW(<compared list>)::text: a row's version-stable text.
std::string compared_row_text(const std::vector<ComparedColumn> &columns);
// The compared values, each as text (for naming the columns that differ).
std::string compared_as_text(const std::vector<ComparedColumn> &columns);

// The 64-bit row hash both servers of a comparison compute.
// Hashes read the server's own bytes of the text, so two servers whose
// encodings differ (LATIN1 and UTF8) hash the text converted to UTF8 first.
enum class RowHash {
  Extended,  // pg_catalog.hashtextextended(text, 0): 11 and later
  Md5,       // the first 64 bits of md5(text): every version
  Md5Utf8,   // the first 64 bits of md5(convert_to(text, 'UTF8')): encodings differ
};
// The hash both servers have: Md5Utf8 when their encodings differ, else
// Extended when both are 11 or later.
RowHash row_hash_for(int source_version, int target_version, bool same_encoding = true);
// SQL of the md5 (hex text) of text_expr as the hash compares it: of the UTF8
// form for Md5Utf8, of the server's own bytes otherwise.
std::string row_md5(RowHash hash, const std::string &text_expr);
const char *to_string(RowHash h);
// SQL of the sum of the row hashes of text_expr over a query's rows, as text
// (numeric: no overflow).
std::string row_hash_sum(RowHash hash, const std::string &text_expr);

}  // namespace pgcutover::sql
