// Usage errors are usage errors (issue 23, point 8): a malformed conninfo or
// a --table the source lacks exits 2 naming what is wrong, and nothing (not
// even the tool schema) is created on the target.
#include <gtest/gtest.h>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;

namespace {

struct UsageErrors : ::testing::Test {
  std::string db = "faults_usage";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), "CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t VALUES (1, 'a')");
    exec(dst(), "CREATE TABLE public.t (id int PRIMARY KEY, v text)");
  }
  std::string target_schemas() {
    return query_value(dst(), "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover'");
  }
};

}  // namespace

TEST_F(UsageErrors, MalformedConninfoExits2NamingTheKeyword) {
  const std::string bad_port = "host=127.0.0.1 port=notanumber dbname=" + db;
  for (const std::string &cmd : {"copy", "sync", "verify", "plan"}) {
    RunResult r = run_pgcutover({cmd, "--source", src(), "--target", bad_port});
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("--target: port \"notanumber\" is not a port number"), std::string::npos) << cmd << ": " << r.err;
    r = run_pgcutover({cmd, "--source", "host= port=1 dbname=" + db, "--target", dst()});
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("--source: host is given without a value"), std::string::npos) << cmd << ": " << r.err;
  }
  RunResult r = run_pgcutover({"finish", "--target", "host='' dbname=" + db});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--target: host is given but empty"), std::string::npos) << r.err;
  EXPECT_EQ(target_schemas(), "0");
}

TEST_F(UsageErrors, UnknownTableWritesNothingToTheTarget) {
  for (const std::string &cmd : {"copy", "sync"}) {
    RunResult r = run_pgcutover({cmd, "--source", src(), "--target", dst(), "--table", "public.t", "--table", "public.nosuch"});
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("no such table on the source: public.nosuch"), std::string::npos) << cmd << ": " << r.err;
    EXPECT_EQ(target_schemas(), "0") << cmd << " created the tool schema before checking the table names";
  }
  RunResult r = run_pgcutover({"verify", "--source", src(), "--target", dst(), "--repair", "--table", "public.nosuch"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(target_schemas(), "0") << "verify --repair created the tool schema before checking the table names";
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM public.t"), "0");
}
