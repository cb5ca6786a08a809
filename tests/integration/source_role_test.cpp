// A source role that is not a superuser (issue 12 point 4): SELECT on the
// tables and sequences and USAGE on the schema are enough for copy, sync and
// verify. A table whose rows row-level security would hide from that role is
// refused by name before anything is written, never copied in part; with
// BYPASSRLS it is copied exactly. A sequence the role may not read is named
// up front too (setting the target's sequences reads it after the data).
#include <gtest/gtest.h>

#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

const char *SCHEMA = R"SQL(
  CREATE TABLE plain (id serial PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON plain (updated_at);
  CREATE TABLE secret (id int PRIMARY KEY, owner_name text NOT NULL, v text);
  ALTER TABLE secret ENABLE ROW LEVEL SECURITY;
  CREATE POLICY own_rows ON secret USING (owner_name = current_user);
  INSERT INTO plain (v) SELECT 'p' || g FROM generate_series(1, 300) g;
  INSERT INTO secret SELECT g, CASE WHEN g % 3 = 0 THEN 'reader' ELSE 'someone_else' END, 's' || g
    FROM generate_series(1, 90) g;
  ANALYZE;
)SQL";

struct SourceRole : ::testing::Test {
  std::string db = "reader_src";
  std::string src_admin() { return source_cluster().conninfo(db); }
  std::string src() { return source_cluster().conninfo(db, "reader"); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    exec(source_cluster().conninfo(),
         "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN "
         "CREATE ROLE reader LOGIN NOSUPERUSER; END IF; END $$; ALTER ROLE reader NOBYPASSRLS");
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src_admin(), SCHEMA);
    exec(src_admin(), "GRANT USAGE ON SCHEMA public TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;"
                      "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO reader");
    ASSERT_EQ(query_value(src(), "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"), "f");
    // What RLS does to the role: 30 of 90 rows.
    ASSERT_EQ(query_value(src(), "SET row_security = on; SELECT count(*) FROM secret"), "30");
  }
  RunResult tool(const std::string &cmd, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {cmd, "--source", src(), "--target", dst()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a);
  }
  std::string target_tables() {
    return query_value(dst(), "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') FROM pg_class "
                              "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'");
  }
};

}  // namespace

TEST_F(SourceRole, RowLevelSecurityTableIsRefusedByNameBeforeAnythingMoves) {
  RunResult r = tool("copy");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("public.secret: row-level security is enabled (1 policy) and applies to the source role "
                       "reader, which is neither its owner nor BYPASSRLS"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("BYPASSRLS"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("public.plain:"), std::string::npos) << "plain is readable: " << r.err;
  EXPECT_EQ(target_tables(), "") << "nothing may be written before the refusal";

  r = tool("plan");
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  EXPECT_NE((r.out + r.err).find("public.secret"), std::string::npos) << r.out << r.err;
}

TEST_F(SourceRole, ForceRowLevelSecurityIsRefusedForTheOwnerToo) {
  exec(source_cluster().conninfo(),
       "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'secret_owner') THEN "
       "CREATE ROLE secret_owner LOGIN NOSUPERUSER; END IF; END $$");
  exec(src_admin(), "ALTER TABLE secret OWNER TO secret_owner; ALTER TABLE secret FORCE ROW LEVEL SECURITY;"
                    "GRANT USAGE ON SCHEMA public TO secret_owner");
  RunResult r = run_pgcutover({"copy", "--source", source_cluster().conninfo(db, "secret_owner"), "--target", dst(),
                               "--table", "public.secret", "--no-owner"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("public.secret: row-level security is enabled (1 policy) with FORCE ROW LEVEL SECURITY and "
                       "applies to the source role secret_owner, which owns it, but FORCE applies the policies to "
                       "the owner too"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(target_tables(), "");
  // Without FORCE the owner sees every row: copied exactly.
  exec(src_admin(), "ALTER TABLE secret NO FORCE ROW LEVEL SECURITY");
  r = run_pgcutover({"copy", "--source", source_cluster().conninfo(db, "secret_owner"), "--target", dst(), "--table",
                     "public.secret", "--no-owner", "--no-privileges"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(table_digest(src_admin(), "public.secret", "id"), table_digest(dst(), "public.secret", "id"));
}

TEST_F(SourceRole, SelectOnlyRoleCopiesSyncsAndVerifiesAndWithBypassRlsTheWholeDatabase) {
  // The readable table alone: copy, sync, verify as the reader (--no-owner: the
  // target lacks the source's roles; --no-privileges: nor the GRANTs to them).
  RunResult r = tool("copy", {"--table", "public.plain", "--jobs", "2", "--no-owner", "--no-privileges"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(table_digest(src_admin(), "public.plain", "id"), table_digest(dst(), "public.plain", "id"));
  EXPECT_EQ(query_value(dst(), "SELECT last_value FROM plain_id_seq"), "300");
  std::this_thread::sleep_for(50ms);
  exec(src_admin(), "UPDATE plain SET v = 'changed', updated_at = clock_timestamp() WHERE id % 7 = 0;"
                    "INSERT INTO plain (v) VALUES ('new')");
  r = tool("sync", {"--table", "public.plain", "--overlap", "1s", "--final"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(table_digest(src_admin(), "public.plain", "id"), table_digest(dst(), "public.plain", "id"));
  EXPECT_EQ(query_value(dst(), "SELECT last_value FROM plain_id_seq"), "301");
  r = tool("verify", {"--table", "public.plain"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  r = tool("verify", {"--table", "public.plain", "--hash", "server", "--mode", "full"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;

  // BYPASSRLS: every row of the RLS table, exactly.
  exec(source_cluster().conninfo(), "ALTER ROLE reader BYPASSRLS");
  r = tool("copy", {"--table", "public.secret", "--no-owner", "--no-privileges"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM secret"), "90");
  EXPECT_EQ(table_digest(src_admin(), "public.secret", "id"), table_digest(dst(), "public.secret", "id"));
  r = tool("verify");
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  exec(source_cluster().conninfo(), "ALTER ROLE reader NOBYPASSRLS");
}

TEST_F(SourceRole, UnreadableSequenceOrTableIsNamedWithTheGrantBeforeAnythingMoves) {
  exec(src_admin(), "REVOKE SELECT ON SEQUENCE plain_id_seq FROM reader");
  RunResult r = tool("copy", {"--table", "public.plain"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("public.plain: the source role may not read sequence public.plain_id_seq feeding column "
                       "\"id\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("GRANT SELECT ON SEQUENCE \"public\".\"plain_id_seq\""), std::string::npos) << r.err;
  EXPECT_EQ(target_tables(), "");

  exec(src_admin(), "GRANT SELECT ON SEQUENCE plain_id_seq TO reader; REVOKE SELECT ON plain FROM reader");
  r = tool("copy", {"--table", "public.plain"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("public.plain: the source role reader may not read it (GRANT SELECT ON \"public\".\"plain\" "
                       "TO \"reader\")"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(target_tables(), "");
}

TEST_F(SourceRole, TransactionStartsTheRoleCannotSeeAreWarnedAbout) {
  // Another role's open transaction: pg_stat_activity hides its start from the
  // reader, so the point the next sync starts from cannot account for it.
  std::thread holder([&] { exec(src_admin(), "BEGIN; SELECT pg_sleep(4); COMMIT"); });
  std::this_thread::sleep_for(700ms);
  RunResult r = tool("copy", {"--table", "public.plain", "--no-owner", "--no-privileges"});
  holder.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // (At least the holder's session: a backend of the previous test may still be exiting.)
  EXPECT_NE(r.err.find("the role reader cannot see when "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("other session(s) on this database started their transactions"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("GRANT pg_read_all_stats TO reader"), std::string::npos) << r.err;
  EXPECT_EQ(table_digest(src_admin(), "public.plain", "id"), table_digest(dst(), "public.plain", "id"));
}
