// pgcutover bench on a tiny table: every combination measured, scratch tables
// dropped, and a combination that fails is reported as failed, not as fast.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

TEST(Bench, MeasuresEveryCombinationDropsScratchAndReportsFailures) {
  const std::string db = "bench";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, "CREATE TABLE t (id int PRIMARY KEY, body jsonb); "
            "INSERT INTO t SELECT g, jsonb_build_object('g', g, 'pad', repeat('x', 200)) FROM generate_series(1, 5000) g; ANALYZE");
  std::string svg = test_temp_path("pgcutover-bench-test.svg");
  std::string csv = test_temp_path("pgcutover-bench-test.csv");
  RunResult r = run_pgcutover({"bench", "--source", src, "--target", dst, "--table", "public.t", "--jobs", "1",
                               "--merge", "direct,upsert", "--into", "empty,prefilled", "--repeat", "2", "--json",
                               "--svg", svg, "--csv", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["combinations"].size(), 4u);
  int failed = 0;
  for (auto &c : j["combinations"]) {
    bool direct_into_rows = c["merge"] == "direct" && c["into"] == "prefilled";
    if (direct_into_rows) {
      ++failed;
      EXPECT_EQ(c["status"], "failed") << c.dump();
      EXPECT_NE(c["error"].get<std::string>().find("duplicate key"), std::string::npos) << c.dump();
      EXPECT_EQ(c["mb_per_s_median"].get<double>(), 0.0);
      EXPECT_EQ(c["rank"], 4) << "a failed combination must rank last";
    } else {
      EXPECT_EQ(c["status"], "ok") << c.dump();
      EXPECT_EQ(c["runs"], 2);
      EXPECT_GT(c["mb_per_s_median"].get<double>(), 0.0);
      EXPECT_GT(c["rows_per_s_median"].get<double>(), 0.0);
      EXPECT_GT(c["peak_rss_kb"].get<long long>(), 0);
      EXPECT_GT(c["wal_bytes_median"].get<double>(), 0.0);
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(j["runs"].size(), 8u);
  EXPECT_NE(j["recommended"].get<std::string>().find("[copy]"), std::string::npos);
  // Scratch tables and their schema are gone; the real table was never created.
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover_bench'"), "0");
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_class WHERE relname LIKE 't%' AND relkind = 'r'"), "0");
  // The SVG draws one bar per working combination.
  std::ifstream f(svg);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  size_t bars = 0;
  for (size_t p = s.find("class=\"bar\""); p != std::string::npos; p = s.find("class=\"bar\"", p + 1)) ++bars;
  EXPECT_EQ(bars, 3u);
  std::ifstream c(csv);
  std::string line;
  int lines = 0;
  while (std::getline(c, line)) ++lines;
  EXPECT_EQ(lines, 9);
  std::filesystem::remove(svg);
  std::filesystem::remove(csv);
}

TEST(Bench, MaxSecondsStopsAndSaysWhatWasSkipped) {
  const std::string db = "bench2";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' FROM generate_series(1, 1000) g");
  RunResult r = run_pgcutover({"bench", "--source", src, "--target", dst, "--table", "public.t", "--merge", "direct,upsert",
                               "--repeat", "3", "--max-seconds", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["runs"].size(), 0u);
  EXPECT_EQ(j["skipped"].size(), 12u);  // 2 jobs x 2 merges x 3 rounds
}
