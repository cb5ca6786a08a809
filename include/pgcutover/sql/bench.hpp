#pragma once
// Bench scratch tables and measurements.
#include <string>
#include <vector>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::bench {
std::string create_schema(const std::string &schema);
std::string drop_schema(const std::string &schema);
std::string create_like(const QualifiedName &scratch, const QualifiedName &model);
// CREATE TABLE from column names and format_type() texts, with the key as PRIMARY KEY.
std::string create_from_columns(const QualifiedName &scratch, const std::vector<std::string> &names,
                                const std::vector<std::string> &types, const std::vector<std::string> &key);
std::string set_compression(const QualifiedName &table, const std::string &column, const std::string &method);
// Deletes about one row in 16 (by a hash of the key), for the "prefilled" case.
std::string thin_out(const QualifiedName &table, const std::vector<std::string> &key);
std::string vacuum_analyze(const QualifiedName &table);
std::string current_wal_lsn();
std::string wal_bytes_since();  // $1 pg_lsn text
}  // namespace pgcutover::sql::bench
