#pragma once
// The sequences job: every target sequence brought to where the source's
// stands, never below the column it feeds, never backwards.
#include <vector>

#include "pgcutover/jobs/scope.hpp"
#include "pgcutover/sequences/sequences.hpp"

namespace pgcutover::jobs {

struct SequencesResult {
  std::vector<sequences::SequenceChange> changes;
};

SequencesResult run_sequences(const Scope &scope);

}  // namespace pgcutover::jobs
