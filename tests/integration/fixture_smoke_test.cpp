// The test fixture itself: both clusters up and distinct, the libpq helpers,
// table_digest's sensitivity, scram auth for secret_user, the fixture SQL
// files, and running the pgcutover binary.
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>

#include "pg_cluster.hpp"

namespace pgcutover::testing {
namespace {

std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

TEST(FixtureClusters, BothAnswerSelectVersion) {
  for (Cluster *c : {&source_cluster(), &target_cluster()}) {
    SCOPED_TRACE(c->name);
    EXPECT_EQ(query_value(c->conninfo(), "SELECT version()").rfind("PostgreSQL ", 0), 0u);
    EXPECT_EQ(query_value(c->conninfo(), "SHOW listen_addresses"), "127.0.0.1");
    EXPECT_EQ(query_value(c->conninfo(), "SHOW fsync"), "off");
    EXPECT_EQ(query_value(c->conninfo(), "SHOW max_connections"), "100");
    EXPECT_EQ(query_value(c->conninfo(), "SELECT current_user"), "postgres");
    // The deterministic helper session.
    EXPECT_EQ(query_value(c->conninfo(), "SHOW TimeZone"), "UTC");
    EXPECT_EQ(query_value(c->conninfo(), "SELECT timestamptz '2024-05-06 07:08:09+02'"), "2024-05-06 05:08:09+00");
  }
}

TEST(FixtureClusters, AreDifferentServers) {
  const Cluster &s = source_cluster(), &t = target_cluster();
  EXPECT_EQ(s.name, "source");
  EXPECT_EQ(t.name, "target");
  EXPECT_NE(s.port, t.port);
  EXPECT_NE(s.data_dir, t.data_dir);
  EXPECT_EQ(s.conninfo("db1", "u1"), "host=127.0.0.1 port=" + std::to_string(s.port) + " dbname=db1 user=u1");
  const std::string sql = "SELECT system_identifier FROM pg_control_system()";
  EXPECT_NE(query_value(s.conninfo(), sql), query_value(t.conninfo(), sql));
  EXPECT_EQ(query_value(s.conninfo(), "SHOW port"), std::to_string(s.port));
  EXPECT_EQ(query_value(t.conninfo(), "SHOW port"), std::to_string(t.port));
}

TEST(FixtureHelpers, ExecThrowsWithServerMessage) {
  const std::string err = error_of([] { exec(source_cluster().conninfo(), "SELECT * FROM no_such_table"); });
  EXPECT_NE(err.find("no_such_table"), std::string::npos) << err;
  EXPECT_NE(err.find("42P01"), std::string::npos) << err;
  EXPECT_THROW(query_value(source_cluster().conninfo(), "SELECT 1 WHERE false"), std::runtime_error);
}

TEST(FixtureHelpers, QueryRowsKeepsNullsApartFromEmptyStrings) {
  auto rows = query_rows(source_cluster().conninfo(),
                         "SELECT * FROM (VALUES (1, NULL::text), (2, ''), (3, 'x')) v(a, b) ORDER BY a");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "1");
  EXPECT_EQ(rows[0][1], std::nullopt);
  EXPECT_EQ(rows[1][1], "");
  EXPECT_EQ(rows[2][1], "x");
  EXPECT_EQ(query_value(source_cluster().conninfo(), "SELECT NULL"), "");
}

TEST(FixtureHelpers, RecreateDatabaseDropsContentAndOpenSessions) {
  Cluster &c = source_cluster();
  const std::string db = "fixture smoke \"db\"";
  recreate_database(c, db);
  exec(c.conninfo(db), "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
  EXPECT_EQ(query_value(c.conninfo(db), "SELECT count(*) FROM t"), "1");

  // An open session does not stop it (WITH (FORCE)).
  std::unique_ptr<PGconn, decltype(&PQfinish)> held(PQconnectdb(c.conninfo(db).c_str()), &PQfinish);
  ASSERT_EQ(PQstatus(held.get()), CONNECTION_OK) << PQerrorMessage(held.get());
  recreate_database(c, db);
  EXPECT_EQ(query_value(c.conninfo(db), "SELECT count(*) FROM pg_class WHERE relname = 't'"), "0");
  exec(c.conninfo(), "DROP DATABASE \"fixture smoke \"\"db\"\"\"");
}

TEST(FixtureDigest, EqualContentEqualDigestAcrossClusters) {
  const std::string create =
      "DROP TABLE IF EXISTS digest_t; CREATE TABLE digest_t (id int PRIMARY KEY, v text, f float8)";
  exec(source_cluster().conninfo(), create);
  exec(target_cluster().conninfo(), create);
  // Same rows, inserted in a different physical order.
  exec(source_cluster().conninfo(),
       "INSERT INTO digest_t SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 1000) g");
  exec(target_cluster().conninfo(),
       "INSERT INTO digest_t SELECT g, 'v' || g, g / 3.0 FROM generate_series(1000, 1, -1) g");
  const TableDigest a = table_digest(source_cluster().conninfo(), "public.digest_t", "id");
  const TableDigest b = table_digest(target_cluster().conninfo(), "public.digest_t", "id");
  EXPECT_EQ(a.rows, 1000);
  EXPECT_EQ(a.md5.size(), 32u);
  EXPECT_EQ(a, b);
}

TEST(FixtureDigest, DiffersOnOneByteOneRowOrNull) {
  const std::string conn = source_cluster().conninfo();
  exec(conn,
       "DROP TABLE IF EXISTS digest_u; CREATE TABLE digest_u (id int PRIMARY KEY, v text, b bytea);"
       "INSERT INTO digest_u SELECT g, 'value ' || g, '\\x00ff'::bytea FROM generate_series(1, 500) g");
  const TableDigest base = table_digest(conn, "public.digest_u", "id");
  EXPECT_EQ(base.rows, 500);

  exec(conn, "UPDATE digest_u SET v = 'value 251' WHERE id = 250");  // one byte differs from 'value 250'
  EXPECT_NE(table_digest(conn, "public.digest_u", "id"), base);
  exec(conn, "UPDATE digest_u SET v = 'value 250' WHERE id = 250");
  EXPECT_EQ(table_digest(conn, "public.digest_u", "id"), base);

  exec(conn, "UPDATE digest_u SET b = '\\x00fe' WHERE id = 7");  // one bit in a bytea
  EXPECT_NE(table_digest(conn, "public.digest_u", "id"), base);
  exec(conn, "UPDATE digest_u SET b = '\\x00ff' WHERE id = 7");

  exec(conn, "UPDATE digest_u SET v = NULL WHERE id = 3");
  const TableDigest with_null = table_digest(conn, "public.digest_u", "id");
  exec(conn, "UPDATE digest_u SET v = '' WHERE id = 3");
  const TableDigest with_empty = table_digest(conn, "public.digest_u", "id");
  EXPECT_NE(with_null, base);
  EXPECT_NE(with_null, with_empty);
  exec(conn, "UPDATE digest_u SET v = 'value 3' WHERE id = 3");

  exec(conn, "INSERT INTO digest_u VALUES (501, 'extra', NULL)");
  const TableDigest extra = table_digest(conn, "public.digest_u", "id");
  EXPECT_EQ(extra.rows, 501);
  EXPECT_NE(extra, base);
  exec(conn, "DELETE FROM digest_u WHERE id = 501");
  EXPECT_EQ(table_digest(conn, "public.digest_u", "id"), base);

  exec(conn, "TRUNCATE digest_u");
  EXPECT_EQ(table_digest(conn, "public.digest_u", "id"), (TableDigest{0, ""}));
}

TEST(FixtureAuth, SecretUserNeedsTheRightPassword) {
  const Cluster &c = source_cluster();
  const std::string user = SECRET_USER;
  const std::string wrong = "wrong-" + std::string(SECRET_PASSWORD);

  const std::string err = error_of([&] { query_value(c.conninfo("postgres", user) + " password=" + wrong, "SELECT 1"); });
  EXPECT_NE(err.find("password authentication failed"), std::string::npos) << err;
  EXPECT_EQ(err.find(wrong), std::string::npos) << "the error leaks the password: " << err;

  EXPECT_THROW(query_value(c.conninfo("postgres", user), "SELECT 1"), std::runtime_error);  // no password at all

  for (const Cluster *k : {&source_cluster(), &target_cluster()}) {
    const std::string ok = k->conninfo("postgres", user) + " password=" + SECRET_PASSWORD;
    EXPECT_EQ(query_value(ok, "SELECT current_user"), user);
    EXPECT_EQ(query_value(ok, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = current_user"), "t");
  }
}

TEST(FixtureSql, FilesLoadTwiceAndDigestsMatchAcrossClusters) {
  const std::string db = "fixture_sql";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  for (const char *file : {"all_types.sql", "odd_identifiers.sql", "skewed_keys.sql"}) {
    SCOPED_TRACE(file);
    run_sql_file(source_cluster().conninfo(db), fixture_sql(file));
    run_sql_file(source_cluster().conninfo(db), fixture_sql(file));  // idempotent
    run_sql_file(target_cluster().conninfo(db), fixture_sql(file));
  }
  const std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);

  struct Expect {
    std::string table, order_by;
    long long min_rows;
  };
  const std::vector<Expect> tables = {
      {"public.all_types", "id", 2000},
      {"public.skewed", "id", 150000},
      {"public.skewed_text", "key", 30000},
      {R"("Odd ""Schema"""."select")", R"("Order")", 300},
      {R"("Odd ""Schema"""."user Table")", R"("group", "Order")", 400},
      {R"("Odd ""Schema"""."MiXeD ""Quoted"" it's")", R"("ID")", 250},
      {R"("Odd ""Schema"""."uuid_keyed")", R"("Id")", 300},
  };
  for (const auto &t : tables) {
    SCOPED_TRACE(t.table);
    const TableDigest a = table_digest(src, t.table, t.order_by);
    EXPECT_GE(a.rows, t.min_rows);
    EXPECT_EQ(a, table_digest(dst, t.table, t.order_by));  // the files are deterministic
  }

  // Every nullable column of all_types is NULL somewhere, and big jsonb went out of line.
  auto columns = query_rows(src,
                            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = 'public.all_types'::regclass "
                            "AND attnum > 0 AND NOT attisdropped AND NOT attnotnull");
  EXPECT_GE(columns.size(), 35u);
  for (const auto &col : columns) {
    EXPECT_NE(query_value(src, "SELECT count(*) FROM public.all_types WHERE " + *col[0] + " IS NULL"), "0") << *col[0];
  }
  EXPECT_EQ(query_value(src, "SELECT count(*) FROM public.all_types WHERE pg_column_size(c_jsonb) > 50000"), "4");
  EXPECT_EQ(query_value(src, "SELECT octet_length(c_bytea) FROM public.all_types WHERE id = 9223372036854775807"), "256");
  EXPECT_NE(query_value(src, "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'public.skewed'::regclass"), "0");
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
}

TEST(FixtureClusters, RestartKeepsDataAndPort) {
  Cluster &c = target_cluster();
  exec(c.conninfo(), "DROP TABLE IF EXISTS restart_t; CREATE TABLE restart_t AS SELECT 42 AS v");
  c.restart();
  EXPECT_EQ(query_value(c.conninfo(), "SELECT v FROM restart_t"), "42");
  c.stop();
  EXPECT_THROW(query_value(c.conninfo(), "SELECT 1"), std::runtime_error);
  c.stop();  // no-op when already stopped
  c.start();
  EXPECT_EQ(query_value(c.conninfo(), "SELECT v FROM restart_t"), "42");
  exec(c.conninfo(), "DROP TABLE restart_t");
}

TEST(FixtureRun, PgcutoverVersion) {
  const RunResult r = run_pgcutover({"--version"}, {}, 60);
  EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  EXPECT_FALSE(r.out.empty() && r.err.empty());
}

TEST(FixtureRun, UnknownOptionFailsWithAMessage) {
  const RunResult r = run_pgcutover({"--no-such-option-at-all"}, {{"PGCUTOVER_FIXTURE_PROBE", "1"}}, 60);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.out.empty() && r.err.empty());
}

// A run that outlives its timeout is killed and reported. The child is stopped
// (SIGSTOP) right after it starts, so it cannot finish first; its source is a
// socket that accepts but never answers, in case the stop comes late.
TEST(FixtureRun, TimeoutKillsAndThrows) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len), 0);
  const std::string silent = "host=127.0.0.1 port=" + std::to_string(ntohs(addr.sin_port)) + " dbname=x user=x";

  PgcutoverProcess p({"copy", "--source", silent, "--target", silent});
  p.send_signal(SIGSTOP);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string err = error_of([&] { p.wait(1); });
  EXPECT_NE(err.find("TIMEOUT"), std::string::npos) << err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(p.running());
  EXPECT_NE(kill(p.pid(), 0), 0);  // reaped: the pid is gone
  close(fd);
}

}  // namespace
}  // namespace pgcutover::testing
