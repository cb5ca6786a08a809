#pragma once
// Sequences: every target sequence must stand at or past its source, and past
// the extreme value of every column it feeds on the target (above the max
// ascending, below the min descending; or the next insert with a default id
// collides); a CYCLE sequence exactly where the source's stands. The rule is
// sequences/sequences.hpp's.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pg/connection.hpp"

namespace pgcutover::verify {

struct SequenceVerdict {
  std::string sequence;
  std::string table;
  i64 source_value = 0;
  i64 target_value = 0;
  std::string column_max;  // the extreme (max ascending, min descending) of its columns on the target, "" if none
  bool ok = true;
  std::string problem;
};

// The source's sequence positions to compare against, by display name,
// instead of the live source's: sequences are not transactional, so a check
// "as of a snapshot" compares with the positions read right after it (see
// jobs::VerifyConfig::sequence_baseline). A sequence it lacks is read live.
using SequenceBaseline = std::map<std::string, catalog::SequenceState>;

std::vector<SequenceVerdict> check_sequences(pg::Connection &src, pg::Connection &dst,
                                             const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                             const std::vector<std::string> &exclude_schemas,
                                             const SequenceBaseline *baseline = nullptr,
                                             const std::function<void()> &between_tables = {});

}  // namespace pgcutover::verify
