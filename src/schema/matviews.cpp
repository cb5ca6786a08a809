#include "pgcutover/schema/matviews.hpp"

#include <chrono>
#include <set>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/nontable.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::schema {

namespace nt = sql::nontable;

MatviewResult refresh_matviews(pg::Connection &source, pg::Connection &target,
                               const std::vector<std::string> &exclude_schemas) {
  auto t0 = std::chrono::steady_clock::now();
  MatviewResult out;
  std::set<sql::QualifiedName> populated, on_target;
  pg::Result s = source.query(nt::populated_matviews(), {sql::array_literal(exclude_schemas)});
  for (int i = 0; i < s.rows(); ++i) populated.insert({std::string(s.get(i, 0)), std::string(s.get(i, 1))});
  pg::Result t = target.query(nt::target_matviews(), {sql::array_literal(exclude_schemas)});
  for (int i = 0; i < t.rows(); ++i) {
    sql::QualifiedName name{std::string(t.get(i, 0)), std::string(t.get(i, 1))};
    on_target.insert(name);
    if (!populated.count(name)) {
      out.skipped.push_back({name, "not populated on the source (WITH NO DATA): left as it is"});
      continue;
    }
    MatviewRefresh r{name, t.get_bool(i, 2) && t.get_bool(i, 3), 0};
    auto r0 = std::chrono::steady_clock::now();
    try {
      target.exec(nt::refresh_matview(name, r.concurrently));
    } catch (const Error &e) {
      throw Error(e.kind, "refreshing materialized view " + name.display() + " on the target failed: " + e.what(),
                  "the data is copied; fix the cause (the view's owner needs SELECT on what it reads; a "
                  "CONCURRENTLY refresh needs its unique index valid) and rerun the same command, which refreshes "
                  "it again");
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
    log::info("materialized view {} refreshed{} in {:.2f} s", name.display(), r.concurrently ? " concurrently" : "",
              r.seconds);
    out.refreshed.push_back(r);
  }
  for (const sql::QualifiedName &name : populated)
    if (!on_target.count(name)) out.skipped.push_back({name, "populated on the source, missing on the target"});
  for (const MatviewSkip &k : out.skipped) log::info("materialized view {} not refreshed: {}", k.name.display(), k.why);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace pgcutover::schema
