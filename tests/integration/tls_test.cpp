// TLS as managed services require it (issue 12 point 5): both servers run
// with ssl = on, a CA and server certificates made here, and pg_hba.conf has
// hostssl lines only for TCP (no `host` line), the tool's role authenticating
// by client certificate. copy (with pg_dump and pg_restore children creating
// the tables and indexes) and verify run with sslmode=verify-full; a cancel
// request reaches a server that takes TLS only; a wrong CA gives one clear
// message naming the endpoint and the certificate problem, and the password
// in the conninfo is never printed.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "pg_cluster.hpp"
#include "pgcutover/pg/connection.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char *PASSWORD = "Never-Print-Me-42";

void sh(const std::string &script) {
  std::string cmd = "set -e; " + script + " 2>&1";
  FILE *p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  ASSERT_EQ(status, 0) << script << "\n" << out;
}

// A CA, a server certificate for 127.0.0.1 signed by it, a client certificate
// for tls_user, and a second CA that signed nothing here.
struct Certificates {
  std::string dir;
  Certificates() {
    char templ[] = "/tmp/pgcutover-tls-XXXXXX";
    dir = mkdtemp(templ);
    chmod(dir.c_str(), 0755);
    const std::string d = dir;
    sh("cd " + d + " && "
       "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pgcutover-test-ca -keyout ca.key -out ca.crt && "
       "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other_ca.crt && "
       "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
       "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr && "
       "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext "
       "-out server.crt && "
       "openssl req -newkey rsa:2048 -nodes -subj /CN=tls_user -keyout client.key -out client.csr && "
       "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt && "
       "chmod 600 server.key client.key && chmod 644 ca.crt server.crt client.crt other_ca.crt");
    // The server runs as `postgres` when the tests run as root: its key must be its own.
    struct passwd *pw = geteuid() == 0 ? getpwnam("postgres") : nullptr;
    if (pw) {
      for (const char *f : {"server.key", "server.crt", "ca.crt"})
        EXPECT_EQ(chown((d + "/" + f).c_str(), pw->pw_uid, pw->pw_gid), 0);
    }
  }
  ~Certificates() { fs::remove_all(dir); }
  std::string file(const char *name) const { return dir + "/" + name; }
  ScopedCluster::Setup setup() const {
    return {"ssl = on\nssl_cert_file = '" + file("server.crt") + "'\nssl_key_file = '" + file("server.key") +
                "'\nssl_ca_file = '" + file("ca.crt") + "'\n",
            "local   all all                    trust\n"
            "hostssl all postgres 127.0.0.1/32  trust\n"
            "hostssl all tls_user 127.0.0.1/32  cert\n"};
  }
};

struct Tls : ::testing::Test {
  static inline Certificates *certs = nullptr;
  static inline ScopedCluster *source = nullptr;
  static inline ScopedCluster *target = nullptr;
  std::string db = "tlsdb";

  static void SetUpTestSuite() {
    certs = new Certificates();
    source = new ScopedCluster("tls_source", "", certs->setup());
    target = new ScopedCluster("tls_target", "", certs->setup());
    for (ScopedCluster *c : {source, target})
      exec((*c)->conninfo(), "CREATE ROLE tls_user LOGIN SUPERUSER PASSWORD 'unused'");
  }
  static void TearDownTestSuite() {
    delete source;
    delete target;
    delete certs;
  }

  // The tool's conninfo: verify-full against the test CA, a client certificate, and a password that must never show.
  std::string tls(ScopedCluster *c, const std::string &ca = "ca.crt", bool client_cert = true) {
    std::string s = (*c)->conninfo(db, "tls_user") + " password=" + PASSWORD + " sslmode=verify-full sslrootcert=" +
                    certs->file(ca.c_str());
    if (client_cert) s += " sslcert=" + certs->file("client.crt") + " sslkey=" + certs->file("client.key");
    return s;
  }
  std::string admin(ScopedCluster *c) { return (*c)->conninfo(db); }

  void SetUp() override {
    recreate_database(**source, db);
    recreate_database(**target, db);
    exec(admin(source), R"SQL(
      CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), seen timestamptz);
      CREATE INDEX items_name ON items (name);
      INSERT INTO items (name, price, seen)
        SELECT 'item ' || g, g * 1.25, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 5000) g;
      ANALYZE;
    )SQL");
  }
  static void expect_no_password(const RunResult &r) {
    EXPECT_EQ(r.out.find(PASSWORD), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(PASSWORD), std::string::npos) << r.err;
  }
};

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_F(Tls, CopyAndVerifyOverVerifyFullWithClientCertificates) {
  // Only TLS with a client certificate gets in: a plain TCP attempt is turned away.
  EXPECT_THROW(query_value((*source)->conninfo(db, "tls_user") + " sslmode=disable", "SELECT 1"), std::runtime_error);
  EXPECT_EQ(query_value(tls(source), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t");

  // The target lacks the table: pg_dump (source) and pg_restore (target, pre- and post-data) connect too.
  RunResult r = run_pgcutover({"copy", "--source", tls(source), "--target", tls(target), "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_no_password(r);
  EXPECT_EQ(table_digest(admin(source), "public.items", "id"), table_digest(admin(target), "public.items", "id"));
  EXPECT_EQ(query_value(admin(target), "SELECT count(*) FROM pg_indexes WHERE indexname = 'items_name'"), "1")
      << "post-data (pg_restore) did not run over TLS";
  EXPECT_EQ(query_value(admin(target), "SELECT last_value FROM items_id_seq"), "5000");

  r = run_pgcutover({"verify", "--source", tls(source), "--target", tls(target)});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  expect_no_password(r);
  exec(admin(target), "UPDATE items SET name = 'damaged' WHERE id = 77");
  r = run_pgcutover({"verify", "--source", tls(source), "--target", tls(target), "--mode", "full", "--hash", "server"});
  EXPECT_NE(r.exit_code, 0) << "the damaged row went unnoticed: " << r.err << r.out;
  r = run_pgcutover({"verify", "--source", tls(source), "--target", tls(target), "--repair"});
  expect_no_password(r);
  EXPECT_EQ(table_digest(admin(source), "public.items", "id"), table_digest(admin(target), "public.items", "id"))
      << r.err << r.out;
  r = run_pgcutover({"verify", "--source", tls(source), "--target", tls(target)});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

TEST_F(Tls, CancelRequestReachesAServerThatTakesTlsOnly) {
  pgcutover::pg::SessionSettings s;
  s.role = "source";
  pgcutover::pg::Connection conn = pgcutover::pg::Connection::open(tls(source), s);
  auto started = std::chrono::steady_clock::now();
  auto sleeper = std::async(std::launch::async, [&] {
    try {
      conn.exec("SELECT pg_sleep(60)");
      return std::string("not cancelled");
    } catch (const pgcutover::Error &e) {
      return e.sqlstate;
    }
  });
  std::this_thread::sleep_for(700ms);
  conn.cancel();
  ASSERT_EQ(sleeper.wait_for(20s), std::future_status::ready) << "the cancel request did not reach the server";
  EXPECT_EQ(sleeper.get(), "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
}

TEST_F(Tls, WrongCaGivesOneClearMessageNamingTheEndpoint) {
  RunResult r = run_pgcutover({"verify", "--source", tls(source, "other_ca.crt"), "--target", tls(target)});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot connect to the source 127.0.0.1:" + std::to_string((*source)->port) +
                       "/tlsdb user=tls_user"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(count(r.err, "certificate verify failed"), 1u) << r.err;
  EXPECT_NE(r.err.find("certificate does not verify against the CA file: set sslrootcert="), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("check that the server is running"), std::string::npos) << r.err;
  expect_no_password(r);

  r = run_pgcutover({"copy", "--source", tls(source), "--target", tls(target, "other_ca.crt")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot connect to the target 127.0.0.1:" + std::to_string((*target)->port)), std::string::npos)
      << r.err;
  EXPECT_EQ(count(r.err, "certificate verify failed"), 1u) << r.err;
  expect_no_password(r);
  EXPECT_EQ(query_value(admin(target), "SELECT count(*) FROM pg_class WHERE relname = 'items'"), "0");

  // No client certificate, where the server requires one.
  r = run_pgcutover({"verify", "--source", tls(source, "ca.crt", false), "--target", tls(target)});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot connect to the source"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
  expect_no_password(r);
}
