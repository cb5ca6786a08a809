// Issue 22, point 5: roles and privileges up front. Before any data moves,
// plan and copy name every role the created objects' owners, GRANTs and
// policies need and the target lacks, with the fix; --no-owner keeps the
// GRANTs when only owners are missing; --no-privileges leaves GRANTs out.
#include <gtest/gtest.h>

#include "compare.hpp"
#include "hostile.hpp"
#include "pg_cluster.hpp"
#include "real.hpp"

using namespace pgcutover::testing;

TEST(Roles, NamedBeforeAnyDataMoves) {
  const std::string db = "roles22";
  auto [src, dst] = real::fresh_databases(db);
  // Roles are cluster-wide: these exist on the source's cluster only.
  exec(source_cluster().conninfo(), R"SQL(
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'r22_owner') THEN CREATE ROLE r22_owner NOLOGIN; END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'r22_reader') THEN CREATE ROLE r22_reader NOLOGIN; END IF;
    END $$;
  )SQL");
  exec(target_cluster().conninfo(), "DROP ROLE IF EXISTS r22_owner; DROP ROLE IF EXISTS r22_reader");
  exec(src, R"SQL(
    CREATE TABLE owned (id int PRIMARY KEY, v text);
    ALTER TABLE owned OWNER TO r22_owner;
    GRANT SELECT ON owned TO r22_reader;
    CREATE TABLE plain (id int PRIMARY KEY);
    INSERT INTO owned SELECT g, 'v' FROM generate_series(1, 1000) g;
  )SQL");
  auto nothing_written = [&] {
    EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_class WHERE relname IN ('owned', 'plain')"), "0");
  };
  RunResult r = run_pgcutover({"plan", "--source", src, "--target", dst});
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  EXPECT_NE(r.out.find("r22_owner"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("r22_reader"), std::string::npos) << r.out;

  r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("role \"r22_owner\" owns table public.owned"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("role \"r22_reader\" is granted privileges by the GRANTs on table public.owned"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--no-owner"), std::string::npos) << r.err;
  nothing_written();

  // --no-owner alone: the grantee is still missing, and named alone.
  r = run_pgcutover({"copy", "--source", src, "--target", dst, "--no-owner"});
  ASSERT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_EQ(r.err.find("r22_owner"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("r22_reader"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--no-privileges"), std::string::npos) << r.err;
  nothing_written();

  // With the grantee created, --no-owner keeps the GRANT.
  exec(target_cluster().conninfo(), "CREATE ROLE r22_reader NOLOGIN");
  r = run_pgcutover({"copy", "--source", src, "--target", dst, "--no-owner"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(query_value(dst, "SELECT has_table_privilege('r22_reader', 'public.owned', 'SELECT')"), "t");
  EXPECT_EQ(query_value(dst, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'owned'"), "postgres");
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");
  exec(target_cluster().conninfo(), "DROP OWNED BY r22_reader CASCADE");
  recreate_database(target_cluster(), db);
  exec(target_cluster().conninfo(), "DROP ROLE r22_reader");

  // --no-owner --no-privileges: neither role is needed.
  r = run_pgcutover({"copy", "--source", src, "--target", dst, "--no-owner", "--no-privileges"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");
}
