// The source is read-only to pgcutover, and a source and target that are one
// database (reached through different host names) are refused before anything
// is written anywhere.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pg_cluster.hpp"
#include "pgcutover/cli/options.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/pg/connection.hpp"

using namespace pgcutover::testing;

namespace {

struct SameDatabase : ::testing::Test {
  std::string db = "faults_same";
  std::string via(const std::string &host, const std::string &user = "postgres") {
    return "host=" + host + " port=" + std::to_string(source_cluster().port) + " dbname=" + db + " user=" + user;
  }
  std::string fingerprint() {
    return query_value(via("127.0.0.1"),
                       "SELECT (SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'pgcutover') || '/' || "
                       "(SELECT md5(string_agg(id || ':' || v || ':' || touched, ',' ORDER BY id)) FROM public.t)");
  }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    // A trigger that stamps every write: the issue saw a same-database run rewrite each row's stamp.
    exec(via("127.0.0.1"), R"SQL(
      CREATE TABLE public.t (id int PRIMARY KEY, v text, touched timestamptz DEFAULT '2000-01-01');
      INSERT INTO public.t (id, v) SELECT g, md5(g::text) FROM generate_series(1, 500) g;
      CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
      CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION public.stamp();
      ALTER TABLE public.t ENABLE ALWAYS TRIGGER stamp;
    )SQL");
  }
  // Every command that takes both ends refuses, exit 2, naming the problem, and nothing changed.
  void expect_refused(const std::string &src, const std::string &dst) {
    std::string before = fingerprint();
    ASSERT_EQ(before.substr(0, 2), "0/");
    std::vector<std::vector<std::string>> commands = {
        {"copy", "--source", src, "--target", dst},
        {"sync", "--source", src, "--target", dst, "--copy-uncopied"},
        {"verify", "--source", src, "--target", dst, "--repair"},
        {"sequences", "--source", src, "--target", dst},
        {"plan", "--source", src, "--target", dst},
    };
    for (const auto &args : commands) {
      RunResult r = run_pgcutover(args, {}, 60);
      EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
      EXPECT_NE(r.err.find("the source and the target are the same database \"" + db + "\""), std::string::npos)
          << args[0] << ": " << r.err;
      EXPECT_EQ(fingerprint(), before) << args[0] << " wrote to the database";
    }
  }
};

}  // namespace

TEST_F(SameDatabase, LocalhostAgainstLoopbackAddressIsRefusedBeforeAnyWrite) {
  expect_refused(via("localhost"), via("127.0.0.1"));
}

// Without pg_control_system() (revoked, a plain role), a snapshot exported on
// the source and imported on the target tells the same database apart.
TEST_F(SameDatabase, RefusedWithoutAccessToTheSystemIdentifier) {
  exec(source_cluster().conninfo(),
       "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'plain_reader') THEN "
       "CREATE ROLE plain_reader LOGIN; END IF; END $$");
  exec(via("127.0.0.1"), "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_control_system() FROM PUBLIC; "
                         "GRANT SELECT ON public.t TO plain_reader");
  ASSERT_EQ(query_value(via("127.0.0.1", "plain_reader"),
                        "SELECT has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')"),
            "f");
  expect_refused(via("localhost", "plain_reader"), via("127.0.0.1", "plain_reader"));
}

// Two databases of one cluster are two databases: not refused.
TEST_F(SameDatabase, AnotherDatabaseOfTheSameClusterIsNotRefused) {
  recreate_database(source_cluster(), "faults_same_other");
  std::string other = "host=127.0.0.1 port=" + std::to_string(source_cluster().port) + " dbname=faults_same_other user=postgres";
  RunResult r = run_pgcutover({"copy", "--source", via("localhost"), "--target", other}, {}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(table_digest(via("127.0.0.1"), "public.t", "id"), table_digest(other, "public.t", "id"));
}

// Every session on the source is read-only: what the command line builds
// for the source opens sessions whose transactions cannot write.
TEST(SourceSessions, AreReadOnly) {
  recreate_database(source_cluster(), "faults_ro");
  std::string src = source_cluster().conninfo("faults_ro");
  exec(src, "CREATE TABLE public.w (id int)");
  pgcutover::cli::ConnectionOptions conn;
  conn.source = src;
  conn.target = target_cluster().conninfo("faults_ro");
  pgcutover::jobs::Scope scope = pgcutover::cli::scope_of(conn, pgcutover::cli::SelectionOptions{});
  pgcutover::pg::Connection c = pgcutover::pg::Connection::open(scope.ends.source_conninfo, scope.ends.source_settings);
  EXPECT_EQ(std::string(c.exec("SHOW default_transaction_read_only").get(0, 0)), "on");
  try {
    c.exec("INSERT INTO public.w VALUES (1)");
    ADD_FAILURE() << "a source session wrote a row";
  } catch (const pgcutover::Error &e) {
    EXPECT_EQ(e.sqlstate, "25006") << e.what();
  }
  EXPECT_EQ(query_value(src, "SELECT count(*) FROM public.w"), "0");
  // The target's sessions are not read-only.
  EXPECT_FALSE(scope.ends.target_settings.read_only);
}
