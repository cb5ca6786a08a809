// Downgrade checks (see version_checks.hpp).
#include "pgcutover/plan/version_checks.hpp"

#include <fmt/format.h>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/catalog.hpp"
#include "pgcutover/sql/versions.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::plan {

namespace {

// Built-in OIDs (pg_type.dat) are fixed below 10000 (FirstGenbkiObjectId /
// FirstBootstrapObjectId): the same type has the same OID on every major.
constexpr u32 FIRST_UNFIXED_OID = 10000;
constexpr u32 INTERVAL_OID = 1186;
constexpr u32 NUMERIC_OID = 1700;

int major(int version) { return version / 10000; }

}  // namespace

void check_source_version(int source_version) {
  if (source_version < MIN_SOURCE_VERSION)
    throw_usage(fmt::format("the source runs PostgreSQL {}.{}, and pgcutover reads sources from PostgreSQL 10 on",
                            source_version / 10000, source_version / 100 % 100),
                "upgrade the source to 10 or later first (pg_upgrade), or move it with pg_dump/pg_restore");
}

std::set<u32> builtin_types_missing(pg::Connection &dst, const std::vector<catalog::TableDef> &tables,
                                    int source_version, int target_version) {
  std::set<u32> used;
  if (major(source_version) <= major(target_version)) return used;
  for (const catalog::TableDef &t : tables)
    for (const catalog::ColumnDef &c : t.columns)
      for (u32 oid : {c.base_type_oid, c.elem_type_oid})
        if (oid != 0 && oid < FIRST_UNFIXED_OID) used.insert(oid);
  if (used.empty()) return used;
  std::vector<std::string> oids;
  for (u32 o : used) oids.push_back(std::to_string(o));
  pg::Result r = dst.query(sql::catalog::types_present(), {sql::array_literal(oids)});
  for (int i = 0; i < r.rows(); ++i) used.erase(static_cast<u32>(r.get_i64(i, 0)));
  return used;
}

std::string version_problems(pg::Connection &src, const catalog::TableDef &table, int source_version,
                             int target_version, const std::set<u32> &missing_types) {
  const int from = major(source_version), to = major(target_version);
  if (from <= to) return "";
  std::string problems;
  auto add = [&](const std::string &p) { problems += (problems.empty() ? "" : "; ") + p; };
  std::vector<std::string> conditions, checked;  // data checks and what each finds
  for (const catalog::ColumnDef &c : table.columns) {
    const std::string col = "column \"" + c.name + "\" (" + c.type + ")";
    if ((c.base_typtype == 'm' || c.elem_typtype == 'm') && to < 14) {
      add(fmt::format("{} is a multirange type, which PostgreSQL {} does not have (multiranges are 14+)", col, to));
      continue;
    }
    if (missing_types.count(c.base_type_oid) || (c.elem_type_oid && missing_types.count(c.elem_type_oid))) {
      add(fmt::format("{} has a type PostgreSQL {} does not have", col, to));
      continue;
    }
    const bool interval = c.base_type_oid == INTERVAL_OID || c.elem_type_oid == INTERVAL_OID;
    if (interval && from >= 17 && to < 17) {
      conditions.push_back(sql::versions::infinite_interval(c.name, c.elem_type_oid == INTERVAL_OID));
      checked.push_back(fmt::format("{} holds infinite intervals, which PostgreSQL {} cannot store (17+): binary "
                                    "COPY would land them as huge finite intervals",
                                    col, to));
    }
    const bool numeric = c.base_type_oid == NUMERIC_OID || c.elem_type_oid == NUMERIC_OID;
    if (numeric && from >= 14 && to < 14) {
      conditions.push_back(sql::versions::infinite_numeric(c.name, c.elem_type_oid == NUMERIC_OID));
      checked.push_back(fmt::format("{} holds numeric Infinity, which PostgreSQL {} cannot store (14+)", col, to));
    }
  }
  if (!conditions.empty()) {
    pg::Result r = src.exec(sql::versions::any_row_meets(table.name, conditions));
    for (size_t i = 0; i < conditions.size(); ++i)
      if (r.get_bool(0, static_cast<int>(i))) add(checked[i]);
  }
  return problems;
}

}  // namespace pgcutover::plan
