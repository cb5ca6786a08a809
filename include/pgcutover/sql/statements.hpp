#pragma once
// Every statement text the engine sends about user tables lives here (catalog
// introspection lives in catalog.cpp). Names are always quoted through
// sql::quote_ident; values go as $n parameters, except in COPY, which takes no
// parameters: range bounds there are 'text'::type literals.
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/plan/key_range.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql {

// The key columns and their types (format_type text), for range predicates.
struct KeySpec {
  std::vector<std::string> columns;
  std::vector<std::string> types;
};

// WHERE-clause body for a key range ("" for the whole table). Composite keys
// use row comparison, which a btree index on the key serves.
std::string range_predicate(const KeySpec &key, const plan::KeyRange &range);

// COPY (SELECT cols FROM ONLY t WHERE pred) TO STDOUT (FORMAT f).
std::string copy_out(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                     const plan::KeyRange &range, copybin::StreamFormat format);

// COPY t (cols) FROM STDIN (FORMAT f).
std::string copy_in(const QualifiedName &table, const std::vector<std::string> &columns,
                    copybin::StreamFormat format);

// A temp staging table shaped like the target's columns, dropped at commit.
std::string create_stage_table(const std::string &stage, const QualifiedName &target,
                               const std::vector<std::string> &columns);
std::string copy_in_stage(const std::string &stage, const std::vector<std::string> &columns,
                          copybin::StreamFormat format);

// INSERT INTO t (cols) SELECT cols FROM stage ON CONFLICT (key) DO UPDATE SET
// c = EXCLUDED.c for every non-key column (DO NOTHING when all columns are key).
std::string upsert_from_stage(const QualifiedName &target, const std::string &stage,
                              const std::vector<std::string> &columns, const std::vector<std::string> &key);

// Sequences.
std::string set_sequence();  // SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::boolean)

// ORDER BY list of the key columns (quoted).
std::string order_by_key(const std::vector<std::string> &key, const std::string &prefix = "");

// Key-sample query for the range planner: key columns as text and an
// estimated on-disk size of each sampled row, in key order.
std::string sample_keys(const QualifiedName &table, const std::vector<std::string> &key,
                        const std::vector<std::string> &columns, const std::string &tablesample);

}  // namespace pgcutover::sql
