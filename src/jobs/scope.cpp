#include "pgcutover/jobs/scope.hpp"

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/catalog.hpp"
#include "pgcutover/util/error.hpp"

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

void Scope::check_tables(pg::Connection &src) const {
  if (tables.empty()) return;
  std::vector<std::string> schemas, names;
  for (const sql::QualifiedName &t : tables) {
    schemas.push_back(t.schema);
    names.push_back(t.name);
  }
  pg::Result r = src.query(sql::catalog::missing_tables(),
                           {sql::array_literal(schemas), sql::array_literal(names), sql::array_literal(excluded_schemas())});
  if (r.rows() == 0) return;
  std::string list;
  for (int i = 0; i < r.rows(); ++i)
    list += (list.empty() ? "" : ", ") + sql::QualifiedName{std::string(r.get(i, 0)), std::string(r.get(i, 1))}.display();
  throw_usage("no such table on the source: " + list,
              "check the --table names (schema.table; quote mixed-case names); nothing was written to the target");
}

Scope Scope::with_tables(std::vector<sql::QualifiedName> t) const {
  Scope s = *this;
  s.tables = std::move(t);
  s.job.clear();
  return s;
}

}  // namespace pgcutover::jobs
