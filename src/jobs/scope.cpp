#include "pgcutover/jobs/scope.hpp"

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pg/conninfo.hpp"

namespace pgcutover::jobs {

std::vector<std::string> Scope::excluded_schemas() const {
  std::vector<std::string> out = exclude_schemas;
  out.push_back(tool_schema);
  return out;
}

plan::BuildOptions Scope::build_options() const {
  plan::BuildOptions b;
  b.tables = tables;
  b.exclude_schemas = excluded_schemas();
  b.ranges.range_bytes = range_bytes;
  b.with_fk_parents = with_fk_parents;
  b.fk_parents_on_target = fk_parents_on_target;
  return b;
}

std::string Scope::job_name() const {
  if (!job.empty()) return job;
  std::vector<std::string> names;
  for (const sql::QualifiedName &t : tables) names.push_back(t.quoted());
  return ledger::default_job_name(pg::display_name(pg::parse_conninfo(ends.source_conninfo)), names);
}

Scope Scope::with_tables(std::vector<sql::QualifiedName> t) const {
  Scope s = *this;
  s.tables = std::move(t);
  s.job.clear();
  return s;
}

}  // namespace pgcutover::jobs
