// Shapes checked before data moves: partitioned against plain tables, and
// generated columns missing, extra or plain on the other side, refused by
// name; matching shapes copy as before.
#include <gtest/gtest.h>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;

namespace {

struct Shapes : ::testing::Test {
  std::string db = "faults_shape";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
  }
};

}  // namespace

TEST_F(Shapes, MismatchesAreRefusedByNameBeforeAnyDataMoves) {
  exec(src(), R"SQL(
    CREATE TABLE public.events (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
    CREATE TABLE public.events_1 PARTITION OF public.events FOR VALUES FROM (0) TO (1000);
    CREATE TABLE public.events_2 PARTITION OF public.events FOR VALUES FROM (1000) TO (2000);
    INSERT INTO public.events SELECT g, md5(g::text) FROM generate_series(1, 1999) g;
    CREATE TABLE public.flat (id int PRIMARY KEY, v text);
    INSERT INTO public.flat SELECT g, 'x' FROM generate_series(1, 100) g;
    CREATE TABLE public.gen (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED);
    INSERT INTO public.gen (id, a) SELECT g, g FROM generate_series(1, 100) g;
    CREATE TABLE public.extra (id int PRIMARY KEY, a int);
    INSERT INTO public.extra SELECT g, g FROM generate_series(1, 100) g;
  )SQL");
  exec(dst(), R"SQL(
    CREATE TABLE public.events (id int PRIMARY KEY, v text);
    CREATE TABLE public.flat (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
    CREATE TABLE public.flat_1 PARTITION OF public.flat FOR VALUES FROM (0) TO (1000);
    CREATE TABLE public.gen (id int PRIMARY KEY, a int);
    CREATE TABLE public.extra (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED);
  )SQL");
  RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  for (const char *want : {"public.events_1: its parent public.events is partitioned on the source but a plain table",
                           "public.events_2: its parent public.events is partitioned on the source but a plain table",
                           "public.flat: a plain table on the source but partitioned on the target",
                           "public.gen: generated column \"b\" is missing on the target",
                           "public.extra: generated column \"b\" exists only on the target"})
    EXPECT_NE(r.err.find(want), std::string::npos) << want << "\n" << r.err;
  // Nothing moved, nothing was created.
  EXPECT_EQ(query_value(dst(), "SELECT (SELECT count(*) FROM public.events) + (SELECT count(*) FROM public.flat) + "
                               "(SELECT count(*) FROM public.gen) + (SELECT count(*) FROM public.extra)"),
            "0");
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_class WHERE relname IN ('events_1', 'events_2')"), "0");
  // plan names them too (exit 3: refusals).
  r = run_pgcutover({"plan", "--source", src(), "--target", dst()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("generated column \"b\" is missing on the target"), std::string::npos) << r.out;
}

TEST_F(Shapes, MatchingPartitionsAndGeneratedColumnsCopy) {
  const char *ddl = R"SQL(
    CREATE TABLE public.events (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
    CREATE TABLE public.events_1 PARTITION OF public.events FOR VALUES FROM (0) TO (1000);
    CREATE TABLE public.events_2 PARTITION OF public.events FOR VALUES FROM (1000) TO (2000);
    CREATE TABLE public.gen (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED);
  )SQL";
  exec(src(), std::string(ddl) + "INSERT INTO public.events SELECT g, md5(g::text) FROM generate_series(1, 1999) g;"
                                 "INSERT INTO public.gen (id, a) SELECT g, g FROM generate_series(1, 100) g;");
  exec(dst(), ddl);
  RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(table_digest(src(), "public.events", "id"), table_digest(dst(), "public.events", "id"));
  EXPECT_EQ(table_digest(src(), "public.gen", "id"), table_digest(dst(), "public.gen", "id"));
}
