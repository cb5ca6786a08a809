// SQLSTATE classes, sizes and durations, conninfo display and redaction.
#include <gtest/gtest.h>

#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/pg/sqlstate.hpp"
#include "pgcutover/pg/target_checks.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/units.hpp"

using namespace pgcutover;

TEST(SqlState, Classes) {
  EXPECT_EQ(pg::classify_sqlstate("08006"), ErrorKind::Transient);
  EXPECT_EQ(pg::classify_sqlstate("40001"), ErrorKind::Transient);
  EXPECT_EQ(pg::classify_sqlstate("40P01"), ErrorKind::Transient);
  EXPECT_EQ(pg::classify_sqlstate("57P01"), ErrorKind::Transient);
  EXPECT_EQ(pg::classify_sqlstate("57P03"), ErrorKind::Transient);
  EXPECT_EQ(pg::classify_sqlstate("28P01"), ErrorKind::Auth);
  EXPECT_EQ(pg::classify_sqlstate("53100"), ErrorKind::DiskFull);
  EXPECT_EQ(pg::classify_sqlstate("42P01"), ErrorKind::Permanent);
  EXPECT_EQ(pg::classify_sqlstate("25006"), ErrorKind::Permanent);
  EXPECT_EQ(pg::classify_sqlstate("57014"), ErrorKind::Permanent);
  EXPECT_EQ(pg::classify_sqlstate(""), ErrorKind::Permanent);
}

// Connect-time refusals come as text; the SQLSTATE that PQERRORS_VERBOSE puts
// in it classifies, whatever the server's language.
TEST(SqlState, FromVerboseConnectMessages) {
  std::string de = "connection to server at \"127.0.0.1\", port 5432 failed: SCHWERWIEGEND:  28P01: "
                   "Passwort-Authentifizierung f\u00fcr Benutzer \u00bbx\u00ab fehlgeschlagen\nLOCATION:  auth_failed, auth.c:326";
  EXPECT_EQ(pg::sqlstate_of_verbose_message(de), "28P01");
  EXPECT_EQ(pg::without_verbose_fields(de).find("28P01"), std::string::npos);
  EXPECT_EQ(pg::without_verbose_fields(de).find("LOCATION"), std::string::npos);
  EXPECT_NE(pg::without_verbose_fields(de).find("SCHWERWIEGEND:  Passwort"), std::string::npos);
  std::string two_hosts = "connection to server at \"a\" failed: FATAL:  57P03: the database system is starting up\n"
                          "connection to server at \"b\" failed: FATAL:  3D000: database \"x\" does not exist";
  EXPECT_EQ(pg::sqlstate_of_verbose_message(two_hosts), "3D000");
  EXPECT_EQ(pg::sqlstate_of_verbose_message("could not translate host name \"nope\" to address"), "");
}

// A connect timeout and TCP keepalives unless the conninfo sets them.
TEST(Conninfo, ConnectDefaultsFillOnlyWhatIsUnset) {
  auto has = [](const std::vector<std::pair<std::string, std::string>> &v, const std::string &k) {
    for (const auto &p : v)
      if (p.first == k) return true;
    return false;
  };
  auto d = pg::connect_defaults("host=db dbname=x");
  EXPECT_TRUE(has(d, "connect_timeout"));
  EXPECT_TRUE(has(d, "keepalives"));
  EXPECT_TRUE(has(d, "keepalives_idle"));
  EXPECT_TRUE(has(d, "keepalives_interval"));
  EXPECT_TRUE(has(d, "keepalives_count"));
  d = pg::connect_defaults("postgresql://db/x?connect_timeout=3&keepalives_idle=5");
  EXPECT_FALSE(has(d, "connect_timeout"));
  EXPECT_FALSE(has(d, "keepalives_idle"));
  EXPECT_TRUE(has(d, "keepalives_count"));
  EXPECT_TRUE(pg::connect_defaults("service=prod").empty());
}

TEST(Units, Sizes) {
  EXPECT_EQ(util::parse_size("256MB"), 256000000);
  EXPECT_EQ(util::parse_size("1GiB"), 1073741824);
  EXPECT_EQ(util::parse_size("64k"), 64000);
  EXPECT_EQ(util::parse_size("1048576"), 1048576);
  EXPECT_THROW(util::parse_size("lots"), Error);
  EXPECT_THROW(util::parse_size("5 parsecs"), Error);
  EXPECT_THROW(util::parse_size("-1MB"), Error);
}

TEST(Units, Durations) {
  EXPECT_EQ(util::parse_duration_ms("30s"), 30000);
  EXPECT_EQ(util::parse_duration_ms("5min"), 300000);
  EXPECT_EQ(util::parse_duration_ms("2h"), 7200000);
  EXPECT_EQ(util::parse_duration_ms("250ms"), 250);
  EXPECT_EQ(util::parse_duration_ms("10"), 10000);
  EXPECT_THROW(util::parse_duration_ms("soon"), Error);
}

TEST(Conninfo, DisplayNeverShowsThePassword) {
  auto v = pg::parse_conninfo("host=db.example port=6543 dbname=app user=mig password=hunter2");
  EXPECT_EQ(pg::display_name(v), "db.example:6543/app user=mig");
  auto u = pg::parse_conninfo("postgresql://mig:s3cr%40t@db:5433/app");
  EXPECT_EQ(u.password, "s3cr@t");
  EXPECT_EQ(pg::display_name(u), "db:5433/app user=mig");
  EXPECT_EQ(pg::redact("failed for s3cr@t and s3cr@t", u), "failed for ******** and ********");
}

TEST(Conninfo, UnparsableStringIsNotEchoed) {
  try {
    pg::parse_conninfo("host=x password=Secret123 =broken");
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::Usage);
    EXPECT_EQ(std::string(e.what()).find("Secret123"), std::string::npos);
  }
}

// Issue 23, point 8: a malformed conninfo is a usage error naming the option
// and the keyword, before anything connects; secrets are never echoed.
TEST(Conninfo, MalformedIsAUsageErrorNamingTheKeyword) {
  auto message = [](const std::string &conninfo) -> std::string {
    try {
      pg::check_conninfo(conninfo, "--target");
    } catch (const Error &e) {
      EXPECT_EQ(e.kind, ErrorKind::Usage) << conninfo;
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message("host=db port=notanumber"), "--target: port \"notanumber\" is not a port number (1 to 65535)");
  EXPECT_EQ(message("host=db port=70000"), "--target: port \"70000\" is not a port number (1 to 65535)");
  EXPECT_EQ(message("postgresql://db:abc/app"), "--target: port \"abc\" is not a port number (1 to 65535)");
  EXPECT_EQ(message("host='' dbname=app"), "--target: host is given but empty");
  EXPECT_NE(message("host= port=5432").find("host is given without a value"), std::string::npos);
  EXPECT_EQ(message("host=db bogus=1"), "--target: unknown connection keyword \"bogus\"");
  EXPECT_EQ(message("host=db connect_timeout=ten"), "--target: connect_timeout is not a whole number");
  std::string broken = message("host=db password=Secret123 'unclosed");
  EXPECT_NE(broken.find("cannot be parsed"), std::string::npos) << broken;
  EXPECT_EQ(broken.find("Secret123"), std::string::npos) << broken;
  // Well-formed ones pass: several hosts and ports, an empty port in a list, a URI, a password like a keyword.
  EXPECT_EQ(message("host=a,b port=5432,5433 dbname=app"), "");
  EXPECT_EQ(message("host=a,b port=,5433"), "");
  EXPECT_EQ(message("postgresql://u:pw@db:5433/app?connect_timeout=5"), "");
  EXPECT_EQ(message("host=db password=user=x"), "");
}

// Two servers share a machine (and its CPUs) when both are reached over a
// Unix socket or loopback, or at one address: then the copy builds indexes
// after the data by default.
TEST(IndexBuilds, SameMachineFromServerAddresses) {
  using pgcutover::pg::same_machine_addresses;
  EXPECT_TRUE(same_machine_addresses("", ""));
  EXPECT_TRUE(same_machine_addresses("127.0.0.1", "::1"));
  EXPECT_TRUE(same_machine_addresses("127.0.0.1", ""));
  EXPECT_TRUE(same_machine_addresses("10.0.0.5", "10.0.0.5"));
  EXPECT_FALSE(same_machine_addresses("10.0.0.5", "10.0.0.6"));
  EXPECT_FALSE(same_machine_addresses("127.0.0.1", "10.0.0.6"));
  EXPECT_FALSE(same_machine_addresses("", "db.internal.example"));
}
