// Issue 22, acceptance: the rental shop (monthly partitions of payments with a
// MAXVALUE partition, last_update kept by triggers, domains with checks,
// materialized views, large objects, INCLUDE keys, owners and GRANTs to
// roles) goes through the whole maneuver exactly: copy with default options,
// a day of business on the source (writes through triggers, deletes, the
// classic split of the MAXVALUE partition to add a month, a domain
// constraint and default, a new column with a volatile default, an enum
// label, a new large object, a refreshed materialized view), sync, sync
// --final --deletes detect, verify; each compared by an independent check.
#include <gtest/gtest.h>

#include "hostile.hpp"
#include "pg_cluster.hpp"
#include "real.hpp"

using namespace pgcutover::testing;

TEST(RentalShop, TheWholeManeuverIsExact) {
  const std::string db = "rental_shop";
  auto [src, dst] = real::fresh_databases(db);
  real::create_roles(target_cluster().conninfo(), {"rental_app", "rental_readonly"});
  exec(source_cluster().conninfo(), "ALTER DATABASE " + db + " SET TimeZone = 'America/New_York'");
  run_sql_file(src, fixture_sql("rental_shop_schema.sql"));
  run_sql_file(src, fixture_sql("rental_shop_data.sql"));

  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  hostile::CompareOptions o;
  o.indexes_and_constraints = true;
  o.sequences = hostile::CompareOptions::Sequences::Exist;
  EXPECT_EQ(hostile::report(hostile::compare_databases(src, dst, o)), "");
  EXPECT_EQ(hostile::report(hostile::compare_large_objects(src, dst)), "");
  EXPECT_EQ(hostile::report(hostile::compare_schema_dumps(src, dst, {}, o), 200), "");

  run_sql_file(src, fixture_sql("rental_shop_day.sql"));
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s", "--final", "--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = run_pgcutover({"verify", "--source", src, "--target", dst});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;

  // sales_by_store is stale on the source on purpose: the target's is what a
  // REFRESH computes, which the source's becomes once refreshed too.
  exec(src, "REFRESH MATERIALIZED VIEW public.sales_by_store");
  o.sequences = hostile::CompareOptions::Sequences::Rule;
  EXPECT_EQ(hostile::report(hostile::compare_databases(src, dst, o)), "");
  EXPECT_EQ(hostile::report(hostile::compare_matviews(src, dst, o)), "");
  EXPECT_EQ(hostile::report(hostile::compare_large_objects(src, dst)), "");
  EXPECT_EQ(hostile::report(hostile::compare_schema_dumps(src, dst, {}, o), 200), "");
}
