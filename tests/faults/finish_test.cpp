// pgcutover finish: the tool's schema leaves the target after the cutover,
// never while a job works there, and not with unfinished jobs unless --force.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

struct Finish : ::testing::Test {
  std::string db = "faults_finish";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), "CREATE TABLE public.work (id int PRIMARY KEY, v text);"
                "INSERT INTO public.work SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 20000) g; ANALYZE");
    exec(dst(), R"SQL(
      CREATE TABLE public.work (id int PRIMARY KEY, v text);
      CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(0.0003); RETURN NEW; END $$;
      CREATE TRIGGER slow_down BEFORE INSERT ON public.work FOR EACH ROW EXECUTE FUNCTION public.slow_down();
      ALTER TABLE public.work ENABLE ALWAYS TRIGGER slow_down;
    )SQL");
  }
  std::vector<std::string> copy() {
    return {"copy", "--source", src(), "--target", dst(), "--table", "public.work", "--range-bytes", "1MB"};
  }
  std::string schema_count() {
    return query_value(dst(), "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover'");
  }
};

}  // namespace

TEST_F(Finish, RemovesTheToolSchemaAndSaysWhat) {
  RunResult r = run_pgcutover(copy());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(schema_count(), "1");
  r = run_pgcutover({"finish", "--target", dst()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(schema_count(), "0");
  EXPECT_NE(r.out.find("removed schema \"pgcutover\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("table pgcutover.ranges"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(finished)"), std::string::npos) << r.out;
  // The copied data stays.
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));
  r = run_pgcutover({"finish", "--target", dst()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing to remove"), std::string::npos) << r.out;
}

TEST_F(Finish, RefusedWhileACopyRuns) {
  PgcutoverProcess p(copy());
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  std::this_thread::sleep_for(500ms);
  RunResult r = run_pgcutover({"finish", "--target", dst()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("in use by pgcutover copy ("), std::string::npos) << r.err;
  EXPECT_EQ(schema_count(), "1");
  RunResult c = p.wait(120);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));
}

TEST_F(Finish, UnfinishedJobNeedsForce) {
  PgcutoverProcess p(copy());
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  std::this_thread::sleep_for(800ms);
  p.send_signal(SIGKILL);
  p.wait(30);
  // The killed process's sessions end on their own; wait until the server noticed.
  for (int i = 0; i < 100 && query_value(dst(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgcutover'") != "0"; ++i)
    std::this_thread::sleep_for(100ms);
  RunResult r = run_pgcutover({"finish", "--target", dst()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("unfinished job"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(schema_count(), "1");
  r = run_pgcutover({"finish", "--target", dst(), "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(schema_count(), "0");
  EXPECT_NE(r.out.find("(running)"), std::string::npos) << r.out;
}
