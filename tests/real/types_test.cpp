// Issue 22, point 2: types without a binary form. A column whose type, or a
// type its binary form goes through (a domain's base, an array's element, a
// composite's field), has no send/receive function (aclitem, a user base type
// declared without them) makes its table go as text in copy, sync, verify
// (client hash), repair and load; plan says so and why. Equal content by the
// independent compare.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "compare.hpp"
#include "hostile.hpp"
#include "pg_cluster.hpp"
#include "real.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

const char *SCHEMA = R"SQL(
  CREATE SCHEMA nb;
  CREATE TYPE nb.mytext;
  CREATE FUNCTION nb.mytext_in(cstring) RETURNS nb.mytext AS 'textin' LANGUAGE internal IMMUTABLE STRICT;
  CREATE FUNCTION nb.mytext_out(nb.mytext) RETURNS cstring AS 'textout' LANGUAGE internal IMMUTABLE STRICT;
  CREATE TYPE nb.mytext (INPUT = nb.mytext_in, OUTPUT = nb.mytext_out, LIKE = text);
  CREATE DOMAIN nb.mydom AS nb.mytext;
  CREATE TYPE nb.pair AS (a int, b nb.mytext);
  CREATE TABLE nb.t_base (id int PRIMARY KEY, v nb.mytext, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE TABLE nb.t_dom (id int PRIMARY KEY, v nb.mydom);
  CREATE TABLE nb.t_arr (id int PRIMARY KEY, v nb.mytext[]);
  CREATE TABLE nb.t_comp (id int PRIMARY KEY, v nb.pair);
  CREATE TABLE nb.t_acl (id int PRIMARY KEY, v aclitem, va aclitem[]);
  CREATE TABLE nb.t_ok (id int PRIMARY KEY, v text);
  CREATE INDEX ON nb.t_base (updated_at);
  INSERT INTO nb.t_base (id, v) SELECT g, ('b' || g || E' tab\t')::text::nb.mytext FROM generate_series(1, 3000) g;
  INSERT INTO nb.t_dom SELECT g, ('d' || g)::text::nb.mytext FROM generate_series(1, 500) g;
  INSERT INTO nb.t_arr SELECT g, ARRAY[('x' || g)::text::nb.mytext, NULL, 'y, "z"'::text::nb.mytext] FROM generate_series(1, 500) g;
  INSERT INTO nb.t_comp SELECT g, ROW(g, ('c' || g)::text::nb.mytext)::nb.pair FROM generate_series(1, 500) g;
  INSERT INTO nb.t_acl SELECT g, 'postgres=arw/postgres'::aclitem, ARRAY['=r/postgres', 'postgres=r*/postgres']::aclitem[]
    FROM generate_series(1, 500) g;
  INSERT INTO nb.t_ok SELECT g, 'ok' FROM generate_series(1, 500) g;
  ANALYZE;
)SQL";

}  // namespace

TEST(Types, WithoutBinaryIoGoAsTextEverywhere) {
  const std::string db = "nobinary";
  auto [src, dst] = real::fresh_databases(db);
  exec(src, SCHEMA);

  RunResult r = run_pgcutover({"plan", "--source", src, "--target", dst, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  nlohmann::json plan = nlohmann::json::parse(r.out);
  std::map<std::string, std::pair<std::string, std::string>> formats;
  for (const auto &t : plan["tables"]) formats[t["table"]] = {t["format"], t["format_reason"]};
  for (const char *t : {"nb.t_base", "nb.t_dom", "nb.t_arr", "nb.t_comp", "nb.t_acl"}) {
    ASSERT_TRUE(formats.count(t)) << t << "\n" << r.out;
    EXPECT_EQ(formats[t].first, "text") << t;
    EXPECT_NE(formats[t].second.find("no binary send/receive"), std::string::npos) << t << ": " << formats[t].second;
  }
  EXPECT_NE(formats["nb.t_base"].second.find("nb.mytext"), std::string::npos) << formats["nb.t_base"].second;
  EXPECT_NE(formats["nb.t_acl"].second.find("aclitem"), std::string::npos) << formats["nb.t_acl"].second;
  EXPECT_EQ(formats["nb.t_ok"].first, "binary");

  r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");

  // A forced binary copy is refused by name, before anything moves.
  r = run_pgcutover({"plan", "--source", src, "--target", dst, "--format", "binary"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("nb.t_base"), std::string::npos) << r.out << r.err;

  // Sync, verify with the client hash, repair.
  std::this_thread::sleep_for(50ms);
  exec(src, "UPDATE nb.t_base SET v = 'changed'::text::nb.mytext, updated_at = clock_timestamp() WHERE id <= 100");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms", "--final", "--allow-scan"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--hash", "client"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  exec(dst, "UPDATE nb.t_arr SET v = NULL WHERE id = 7; UPDATE nb.t_acl SET v = '=r/postgres' WHERE id = 9;"
            " DELETE FROM nb.t_comp WHERE id = 3");
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--hash", "client"});
  EXPECT_NE(r.exit_code, 0) << "verify did not see the damage\n" << r.err << r.out;
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--hash", "client", "--mode", "full", "--repair"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");

  // Through a kept spill folder into another target.
  const std::string db2 = "nobinary_load";
  recreate_database(target_cluster(), db2);
  std::string dst2 = target_cluster().conninfo(db2);
  std::filesystem::path spill = test_temp_path("nobinary-spill");
  std::filesystem::remove_all(spill);
  r = run_pgcutover({"copy", "--source", src, "--target", dst2, "--spill-dir", spill.string(), "--keep-spill"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  recreate_database(target_cluster(), db2);
  r = run_pgcutover({"load", "--target", dst2, "--from-spill", spill.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst2)), "");
  std::filesystem::remove_all(spill);
}
