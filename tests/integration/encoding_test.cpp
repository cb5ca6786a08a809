// Source and target with different encodings (issue 12 point 6). Every
// session speaks UTF8; both COPY formats convert text on both ends (binary
// COPY through the types' send/receive functions), so a LATIN1 source lands
// in a UTF8 target as the same characters, never as raw LATIN1 bytes. Text a
// LATIN1 target cannot hold ('€', CJK) is refused before anything is written,
// naming the table and the column.
#include <gtest/gtest.h>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;

namespace {

void create_db(Cluster &c, const std::string &db, const std::string &encoding) {
  exec(c.conninfo(), "DROP DATABASE IF EXISTS " + db);
  exec(c.conninfo(), "CREATE DATABASE " + db + " ENCODING '" + encoding +
                         "' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
}

const char *LATIN1_TEXT = "café ÿ Ü ß «naïve» ½";

}  // namespace

TEST(Encodings, Latin1SourceLandsAsTheSameCharactersInAUtf8TargetInBothFormats) {
  create_db(source_cluster(), "enc_latin1", "LATIN1");
  create_db(target_cluster(), "enc_utf8_bin", "UTF8");
  create_db(target_cluster(), "enc_utf8_txt", "UTF8");
  const std::string src = source_cluster().conninfo("enc_latin1");
  exec(src, std::string(R"SQL(
    CREATE TYPE mood AS ENUM ('gaîté', 'ennui');
    CREATE DOMAIN label AS text CHECK (length(VALUE) < 100);
    CREATE TABLE texts (id int PRIMARY KEY, a text, b varchar(40), c char(8), d name, e jsonb, f text[], g mood,
                        h label, j json);
    INSERT INTO texts VALUES
      (1, ')SQL") + LATIN1_TEXT + R"SQL(', 'Ünïcödé', 'é', 'nämé', '{"clé": "é"}', '{é,ü,"a b"}', 'gaîté', 'àçè', '{"ß": 1}'),
      (2, 'plain ascii', 'x', 'y', 'z', '{"k": 1}', '{a}', 'ennui', 'l', '[]'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
  )SQL");
  ASSERT_EQ(query_value(src, "SELECT octet_length(a) FROM texts WHERE id = 1"), "20") << "not stored as LATIN1";
  const std::string cols = "SELECT id, a, b, c, d, e::text, f::text, g::text, h, j::text FROM texts ORDER BY id";
  const auto expected = query_rows(src, cols);

  for (const auto &[db, format] : {std::pair<std::string, std::string>{"enc_utf8_bin", "binary"}, {"enc_utf8_txt", "text"}}) {
    const std::string dst = target_cluster().conninfo(db);
    RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst, "--format", format});
    ASSERT_EQ(r.exit_code, 0) << format << ": " << r.err;
    // The same characters, stored as valid UTF8 (a raw LATIN1 byte would not compare equal, or not load).
    EXPECT_EQ(query_rows(dst, cols), expected) << format;
    EXPECT_EQ(query_value(dst, std::string("SELECT a = '") + LATIN1_TEXT + "' AND octet_length(a) = 28 FROM texts WHERE id = 1"),
              "t")
        << format;
    EXPECT_EQ(query_value(dst, "SELECT e->>'clé' FROM texts WHERE id = 1"), "é") << format;
    r = run_pgcutover({"verify", "--source", src, "--target", dst});
    EXPECT_EQ(r.exit_code, 0) << format << ": " << r.err << r.out;
    // Server-side hashes read each server's bytes: they must hash the same characters the same.
    r = run_pgcutover({"verify", "--source", src, "--target", dst, "--hash", "server", "--mode", "full"});
    EXPECT_EQ(r.exit_code, 0) << format << ": " << r.err << r.out;
  }
  // A real difference in a row with non-ASCII text is found, repaired, and then nothing differs.
  const std::string dst = target_cluster().conninfo("enc_utf8_bin");
  exec(dst, "UPDATE texts SET b = 'Ünïcödé!' WHERE id = 1");
  RunResult r = run_pgcutover({"verify", "--source", src, "--target", dst, "--hash", "server", "--mode", "full", "--json"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"b\""), std::string::npos) << "the differing column is named: " << r.out;
  EXPECT_EQ(r.out.find("\"a\""), std::string::npos) << "no false difference: " << r.out;
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--hash", "server", "--repair"});
  EXPECT_EQ(query_rows(dst, cols), expected) << r.err << r.out;
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--hash", "server", "--mode", "full"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

TEST(Encodings, Utf8TextALatin1TargetCannotHoldIsRefusedNamingTableAndColumn) {
  create_db(source_cluster(), "enc_utf8_src", "UTF8");
  create_db(target_cluster(), "enc_latin1_dst", "LATIN1");
  const std::string src = source_cluster().conninfo("enc_utf8_src");
  const std::string dst = target_cluster().conninfo("enc_latin1_dst");
  exec(src, R"SQL(
    CREATE TABLE prices (id int PRIMARY KEY, fits text, note text, tags text[]);
    INSERT INTO prices SELECT g, 'naïve ' || g, 'ok ' || g, '{a}' FROM generate_series(1, 500) g;
    UPDATE prices SET note = '5 €' WHERE id = 250;
    UPDATE prices SET tags = '{日本,b}' WHERE id = 17;
    CREATE TABLE latin (id int PRIMARY KEY, v text);
    INSERT INTO latin VALUES (1, 'café'), (2, 'Straße');
  )SQL");

  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("public.prices: column \"note\" holds text the target's encoding LATIN1 cannot represent"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("column \"tags\" holds text the target's encoding LATIN1 cannot represent"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("column \"fits\""), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("public.latin:"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"), "0")
      << "nothing may be written before the refusal";

  r = run_pgcutover({"plan", "--source", src, "--target", dst});
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;

  // What LATIN1 can hold is converted.
  r = run_pgcutover({"copy", "--source", src, "--target", dst, "--table", "public.latin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(query_rows(dst, "SELECT id, v FROM latin ORDER BY id"), query_rows(src, "SELECT id, v FROM latin ORDER BY id"));
  EXPECT_EQ(query_value(dst, "SELECT octet_length(v) FROM latin WHERE id = 1"), "4");
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--table", "public.latin"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}
