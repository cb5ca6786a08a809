// Issue 22, points 8 and 10: small tables are never the reason a final sync
// fails. Tables whose change detection reads them whole (xmin, an unindexed
// change column) are scanned by default up to --scan-below, with the time
// shown; only bigger ones are refused, and `plan` and `copy` list both days
// ahead. The messages say what is true of each table: "no timestamp column"
// only when there is none, "index the change column" only when there is one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "hostile.hpp"
#include "pg_cluster.hpp"
#include "real.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

const char *SCHEMA = R"SQL(
  CREATE TABLE only_xmin (id int PRIMARY KEY, v text);                          -- 20 rows, no timestamp at all
  CREATE TABLE unindexed (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE other_stamp (id int PRIMARY KEY, v text, logged timestamptz);    -- a timestamp, not a change column
  CREATE TABLE big_xmin (id int PRIMARY KEY, v text);                           -- above the threshold below
  CREATE TABLE big_unindexed (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO only_xmin SELECT g, 'x' FROM generate_series(1, 20) g;
  INSERT INTO unindexed SELECT g, 'u' FROM generate_series(1, 20) g;
  INSERT INTO other_stamp SELECT g, 'o', now() FROM generate_series(1, 20) g;
  INSERT INTO big_xmin SELECT g, repeat('b', 200) FROM generate_series(1, 5000) g;
  INSERT INTO big_unindexed SELECT g, repeat('b', 200) FROM generate_series(1, 5000) g;
  CREATE TABLE big_nokey (id int NOT NULL, v text);                             -- no key: every sync reloads it
  INSERT INTO big_nokey SELECT g, repeat('n', 200) FROM generate_series(1, 5000) g;
  ANALYZE;
)SQL";

}  // namespace

TEST(FinalScan, SmallTablesAreScannedBigOnesRefusedAndBothListedDaysAhead) {
  const std::string db = "finalscan";
  auto [src, dst] = real::fresh_databases(db);
  exec(src, SCHEMA);

  // Days ahead: plan lists every table the final sync reads whole, with size and cost.
  RunResult r = run_pgcutover({"plan", "--source", src, "--target", dst, "--scan-below", "200kB", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  nlohmann::json plan = nlohmann::json::parse(r.out);
  std::map<std::string, bool> refused;
  for (const auto &s : plan["final_sync_scans"]) refused[s["table"]] = s["refused_without_allow_scan"];
  EXPECT_EQ(refused.size(), 6u) << plan["final_sync_scans"].dump();
  EXPECT_TRUE(refused["public.big_nokey"]);
  // The choices, days ahead: a key for the key-less table, an index for the unindexed change column.
  std::map<std::string, std::string> choices;
  for (const auto &s : plan["final_sync_scans"]) choices[s["table"]] = s["choices"];
  EXPECT_NE(choices["public.big_nokey"].find("ADD PRIMARY KEY"), std::string::npos) << choices["public.big_nokey"];
  EXPECT_NE(choices["public.big_nokey"].find("--allow-scan"), std::string::npos) << choices["public.big_nokey"];
  EXPECT_NE(choices["public.big_unindexed"].find("CREATE INDEX CONCURRENTLY"), std::string::npos)
      << choices["public.big_unindexed"];
  EXPECT_FALSE(refused["public.only_xmin"]);
  EXPECT_FALSE(refused["public.unindexed"]);
  EXPECT_TRUE(refused["public.big_xmin"]);
  EXPECT_TRUE(refused["public.big_unindexed"]);
  std::map<std::string, std::string> reason;
  for (const auto &t : plan["tables"]) reason[t["table"]] = t["sync"]["reason"];
  EXPECT_NE(reason["public.only_xmin"].find("no timestamp column"), std::string::npos) << reason["public.only_xmin"];
  EXPECT_EQ(reason["public.other_stamp"].find("no timestamp column"), std::string::npos) << reason["public.other_stamp"];
  EXPECT_NE(reason["public.other_stamp"].find("\"logged\""), std::string::npos) << reason["public.other_stamp"];

  r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("the final sync reads 6 table(s) whole"), std::string::npos) << r.out;

  std::this_thread::sleep_for(50ms);
  exec(src, R"SQL(
    UPDATE only_xmin SET v = 'changed' WHERE id % 2 = 0;
    UPDATE unindexed SET v = 'changed', updated_at = clock_timestamp() WHERE id % 3 = 0;
    UPDATE other_stamp SET v = 'changed' WHERE id % 4 = 0;
    UPDATE big_xmin SET v = 'changed' WHERE id % 5 = 0;
    UPDATE big_unindexed SET v = 'changed', updated_at = clock_timestamp() WHERE id % 5 = 0;
    UPDATE big_nokey SET v = 'changed' WHERE id % 5 = 0;
  )SQL");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--final", "--overlap", "100ms", "--scan-below", "200kB"});
  // The big ones are refused, each with a fix that fits it; the small ones are synced.
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  std::string all = r.err + r.out;
  EXPECT_NE(all.find("public.big_unindexed"), std::string::npos) << all;
  EXPECT_NE(all.find("CREATE INDEX CONCURRENTLY"), std::string::npos) << all;
  EXPECT_NE(all.find("above --scan-below"), std::string::npos) << all;
  // The key-less one is refused like the scans, with its own choices.
  EXPECT_NE(all.find("public.big_nokey: no primary key"), std::string::npos) << all;
  EXPECT_NE(all.find("ADD PRIMARY KEY"), std::string::npos) << all;
  EXPECT_NE(hostile::table_rows(src, "public.big_nokey"), hostile::table_rows(dst, "public.big_nokey"))
      << "a refused key-less table was reloaded";
  size_t xmin_line = all.find("public.big_xmin:");
  ASSERT_NE(xmin_line, std::string::npos) << all;
  std::string line = all.substr(xmin_line, all.find('\n', xmin_line) - xmin_line);
  EXPECT_EQ(line.find("index the change column"), std::string::npos) << line;
  EXPECT_NE(all.find("public.only_xmin: scanned whole"), std::string::npos) << all;
  for (const char *t : {"public.only_xmin", "public.unindexed", "public.other_stamp"})
    EXPECT_EQ(hostile::table_rows(src, t), hostile::table_rows(dst, t)) << t;
  EXPECT_NE(hostile::table_rows(src, "public.big_xmin"), hostile::table_rows(dst, "public.big_xmin"))
      << "a refused table was synced";

  // With --allow-scan the big ones go too.
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--final", "--overlap", "100ms", "--scan-below", "200kB",
                     "--allow-scan"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");
}
