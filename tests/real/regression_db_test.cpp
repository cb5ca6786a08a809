// Shapes found by running the maneuver on PostgreSQL's own regression
// database (the acceptance harness, kept outside the project), each reduced
// to its class:
//   * a view pg_dump must split (it groups by a key: a placeholder in the
//     pre-data, CREATE OR REPLACE VIEW as a post-data _RETURN rule) was left a
//     placeholder returning one row of NULLs;
//   * a key-less table in a publication that publishes deletes cannot take
//     the DELETE of a reload (no replica identity): every sync failed on it;
//   * a run killed with objects set aside left the next sync comparing a
//     target without them: it re-created a check that its own restore had
//     just put back ("already exists").
#include <gtest/gtest.h>

#include "hostile.hpp"
#include "pg_cluster.hpp"
#include "real.hpp"

using namespace pgcutover::testing;

TEST(RegressionDb, AViewSplitByPgDumpIsTheSourcesView) {
  auto [src, dst] = real::fresh_databases("splitview");
  exec(src, "CREATE TABLE vb (key int PRIMARY KEY, data varchar(20));"
            "CREATE VIEW v AS SELECT key, data FROM vb GROUP BY key;");
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM v"), "0") << "the placeholder view is still there";
  EXPECT_EQ(hostile::report(hostile::compare_schema_dumps(src, dst)), "");
}

TEST(RegressionDb, AKeylessTableInAPublicationIsReloaded) {
  auto [src, dst] = real::fresh_databases("pubnokey");
  exec(src, "CREATE TABLE nopk (c int, d int); INSERT INTO nopk SELECT g, g FROM generate_series(1, 100) g;"
            "CREATE PUBLICATION p FOR TABLE nopk;");
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(src, "ALTER TABLE nopk REPLICA IDENTITY FULL; UPDATE nopk SET d = -d WHERE c % 3 = 0; "
            "ALTER TABLE nopk REPLICA IDENTITY DEFAULT");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--final", "--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");
}

TEST(RegressionDb, WhatAKilledRunSetAsideIsBackBeforeTheDriftIsCompared) {
  auto [src, dst] = real::fresh_databases("leftover");
  exec(src, "CREATE TABLE t (id int PRIMARY KEY, b int, updated_at timestamptz NOT NULL DEFAULT now());"
            "CREATE INDEX ON t (updated_at); INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;"
            "ALTER TABLE t ADD CONSTRAINT chk CHECK (b < 50) NOT VALID;");
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // What a run killed during its writes leaves: the check dropped, its record kept.
  exec(dst, "ALTER TABLE t DROP CONSTRAINT chk;"
            "INSERT INTO pgcutover.set_aside (kind, table_schema, table_name, name, definition)"
            " VALUES ('not_valid_check', 'public', 't', 'chk', 'CHECK ((b < 50)) NOT VALID')");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(r.err.find("new_constraint"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_constraint WHERE conname = 'chk' AND NOT convalidated"), "1");
  EXPECT_EQ(hostile::report(hostile::compare_schema_dumps(src, dst)), "");
}
