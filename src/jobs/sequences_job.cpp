#include "pgcutover/jobs/sequences_job.hpp"

#include "pgcutover/ledger/run_lock.hpp"

namespace pgcutover::jobs {

SequencesResult run_sequences(const Scope &scope) {
  const pg::Endpoints &ends = scope.ends;
  pg::Connection src = pg::Connection::open(ends.source_conninfo, ends.source_settings);
  pg::Connection dst = pg::Connection::open(ends.target_conninfo, ends.target_settings);
  pg::refuse_same_database(src, dst);
  pg::check_target_writable(dst);
  ledger::RunLock run_lock(ends.target_conninfo, ends.target_settings, scope.tool_schema, "sequences", ledger::RunMode::Exclusive, false);
  return {sequences::reset_sequences(src, dst, scope.tables, scope.tables.empty(), scope.excluded_schemas())};
}

}  // namespace pgcutover::jobs
