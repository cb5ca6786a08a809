// Version adaptation in statement text: catalog queries per major, the row
// hash both servers have, float columns compared through their bits, the
// downgrade data checks; and pg_dump's version read from the program.
#include <gtest/gtest.h>

#include <filesystem>

#include "pgcutover/plan/key_range.hpp"
#include "pgcutover/schema/tools.hpp"
#include "pgcutover/sql/catalog.hpp"
#include "pgcutover/sql/compare.hpp"
#include "pgcutover/sql/diff.hpp"
#include "pgcutover/sql/verify.hpp"
#include "pgcutover/sql/versions.hpp"
#include "pgcutover/util/error.hpp"

using namespace pgcutover;
using namespace pgcutover::sql;

TEST(VersionSql, GeneratedColumnsAreFilteredFromTwelveOnly) {
  EXPECT_EQ(catalog::columns(100023).find("attgenerated"), std::string::npos);
  EXPECT_EQ(catalog::columns(110022).find("attgenerated"), std::string::npos);
  EXPECT_NE(catalog::columns(120000).find("a.attgenerated = ''"), std::string::npos);
  EXPECT_NE(catalog::columns(180000).find("a.attgenerated = ''"), std::string::npos);
  EXPECT_EQ(catalog::columns(170000).find("{generated}"), std::string::npos);
}

TEST(VersionSql, RowHashIsOneBothServersHave) {
  EXPECT_EQ(row_hash_for(110000, 170000), RowHash::Extended);
  EXPECT_EQ(row_hash_for(150000, 150000), RowHash::Extended);
  EXPECT_EQ(row_hash_for(100023, 170000), RowHash::Md5);
  EXPECT_EQ(row_hash_for(170000, 100023), RowHash::Md5);
  KeySpec one{{"id"}, {"bigint"}};
  plan::KeyRange all{1, std::nullopt, std::nullopt, 0};
  std::string ext = diff::server_digest({"s", "t"}, {"id", "v"}, one, all, RowHash::Extended);
  EXPECT_NE(ext.find("pg_catalog.hashtextextended(ROW(\"id\", \"v\")::text, 0)"), std::string::npos) << ext;
  std::string md5 = diff::server_digest({"s", "t"}, {"id", "v"}, one, all, RowHash::Md5);
  EXPECT_EQ(md5.find("hashtextextended"), std::string::npos) << md5;
  EXPECT_NE(md5.find("('x' || pg_catalog.left(pg_catalog.md5(ROW(\"id\", \"v\")::text), 16))::bit(64)::bigint"),
            std::string::npos)
      << md5;
}

TEST(VersionSql, ServersWithDifferentEncodingsHashTheUtf8Form) {
  EXPECT_EQ(row_hash_for(150000, 150000, false), RowHash::Md5Utf8);
  EXPECT_EQ(row_hash_for(100023, 170000, false), RowHash::Md5Utf8);
  EXPECT_EQ(row_hash_for(150000, 150000, true), RowHash::Extended);
  KeySpec one{{"id"}, {"bigint"}};
  plan::KeyRange all{1, std::nullopt, std::nullopt, 0};
  std::string sum = diff::server_digest({"s", "t"}, {"id", "v"}, one, all, RowHash::Md5Utf8);
  EXPECT_NE(sum.find("pg_catalog.md5(pg_catalog.convert_to(ROW(\"id\", \"v\")::text, 'UTF8'))"), std::string::npos)
      << sum;
  std::string keys = diff::key_hashes({"s", "t"}, {"id", "v"}, one, all, RowHash::Md5Utf8);
  EXPECT_NE(keys.find("pg_catalog.md5(pg_catalog.convert_to(ROW(\"id\", \"v\")::text, 'UTF8'))"), std::string::npos)
      << keys;
}

TEST(VersionSql, FloatsAreComparedThroughTheirBits) {
  EXPECT_EQ(stable_send_function(701, 0), "float8send");
  EXPECT_EQ(stable_send_function(700, 0), "float4send");
  EXPECT_EQ(stable_send_function(600, 0), "point_send");
  EXPECT_EQ(stable_send_function(1022, 701), "array_send");
  EXPECT_EQ(stable_send_function(25, 0), "");
  EXPECT_EQ(stable_send_function(1009, 25), "");
  std::vector<ComparedColumn> cols = {{"id"}, {"Amount \"x\"", "float8send"}};
  EXPECT_EQ(compared_row_text(cols), "ROW(\"id\", pg_catalog.float8send(\"Amount \"\"x\"\"\"))::text");
  EXPECT_EQ(compared_as_text(cols), "\"id\"::text, pg_catalog.float8send(\"Amount \"\"x\"\"\")::text");
  KeySpec one{{"id"}, {"bigint"}};
  plan::KeyRange all{1, std::nullopt, std::nullopt, 0};
  EXPECT_NE(diff::key_hashes({"s", "t"}, cols, one, all, RowHash::Md5).find("md5(ROW(\"id\", pg_catalog.float8send("), std::string::npos);
  EXPECT_NE(verify::ordered_copy_out({"s", "t"}, cols, one, all, copybin::StreamFormat::Text)
                .find("COPY (SELECT \"id\", pg_catalog.float8send(\"Amount \"\"x\"\"\") FROM ONLY \"s\".\"t\""),
            std::string::npos);
}

TEST(VersionSql, DowngradeDataChecks) {
  EXPECT_EQ(versions::infinite_interval("d", false),
            "\"d\" IN ('infinity'::pg_catalog.interval, '-infinity'::pg_catalog.interval)");
  EXPECT_EQ(versions::infinite_interval("ds", true),
            "('infinity'::pg_catalog.interval = ANY (\"ds\") OR '-infinity'::pg_catalog.interval = ANY (\"ds\"))");
  EXPECT_EQ(versions::infinite_numeric("n", false),
            "\"n\" IN ('Infinity'::pg_catalog.numeric, '-Infinity'::pg_catalog.numeric)");
  EXPECT_EQ(versions::any_row_meets({"s", "t"}, {"a", "b"}),
            "SELECT coalesce(pg_catalog.bool_or(a), false), coalesce(pg_catalog.bool_or(b), false) FROM ONLY \"s\".\"t\"");
}

TEST(DumpTools, VersionIsReadFromTheProgram) {
  EXPECT_EQ(schema::major_of(170002), 17);
  EXPECT_EQ(schema::major_of(100023), 10);
  EXPECT_EQ(schema::major_of(90624), 9);
  EXPECT_FALSE(schema::program_major("/nonexistent/pg_dump"));
  const std::string debian = "/usr/lib/postgresql/15/bin/pg_dump";
  ASSERT_TRUE(std::filesystem::exists(debian)) << "Debian's pg_dump 15 is a dependency (scripts/lib/deps.sh)";
  EXPECT_EQ(schema::program_major(debian), 15);
  // --pg-bin too old for the source: refused, naming both versions and the way on.
  try {
    schema::find_dump_tools("/usr/lib/postgresql/15/bin", 170002);
    ADD_FAILURE() << "pg_dump 15 accepted for a 17 source";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("PostgreSQL 17"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("version 15"), std::string::npos) << e.what();
    EXPECT_NE(e.hint.find("--no-schema"), std::string::npos) << e.hint;
  }
  EXPECT_EQ(schema::find_dump_tools("/usr/lib/postgresql/15/bin", 100023).major, 15);
  EXPECT_EQ(schema::find_dump_tools("", 150004).major, 15);
}
