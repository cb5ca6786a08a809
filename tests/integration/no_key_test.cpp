// Tables without a primary key (duplicate rows allowed): the copy moves them
// in one range into an empty table; sync cannot match their rows, so it
// replaces all of them from its snapshot in one transaction; verify --repair
// does the same for one that differs. Checked by the independent content
// compare (all columns, duplicates counted).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

namespace {

struct NoKey : ::testing::Test {
  std::string db = "nokey";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE TABLE keyed (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX ON keyed (updated_at);
      CREATE TABLE bag (a int, b text);
      INSERT INTO keyed SELECT g, 'k' || g FROM generate_series(1, 500) g;
      INSERT INTO bag SELECT g % 50, 'dup ' || (g % 50) || repeat('.', 30) FROM generate_series(1, 30000) g;
      ANALYZE;
    )SQL");
    // Several ranges for the keyed table; the keyless one is larger than one range and still copies.
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

}  // namespace

TEST_F(NoKey, SyncReplacesTheRowsOfATableWithoutPrimaryKey) {
  exec(src(), R"SQL(
    INSERT INTO bag VALUES (1, 'dup 1'), (1, 'dup 1'), (999, 'new');
    DELETE FROM bag WHERE ctid = (SELECT min(ctid) FROM bag WHERE a = 2);
    UPDATE bag SET b = 'changed' WHERE a = 3;
    UPDATE keyed SET v = 'changed', updated_at = now() WHERE id = 7;
  )SQL");
  RunResult r = run_pgcutover({"sync", "--source", src(), "--target", dst(), "--overlap", "1s", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json j = json::parse(r.out);
  bool reloaded = false;
  for (const json &t : j["tables"])
    if (t["table"] == "public.bag") {
      EXPECT_EQ(t["method"], "reload") << t.dump();
      EXPECT_EQ(t["rows_written"], 30002) << t.dump();
      reloaded = true;
    }
  EXPECT_TRUE(reloaded) << "public.bag is not in the sync's tables: " << r.out;
  EXPECT_NE(r.err.find("public.bag: no primary key"), std::string::npos) << r.err;
  expect_same_content(src(), dst());
}

TEST_F(NoKey, VerifyFindsAndRepairsADifferenceInATableWithoutPrimaryKey) {
  exec(dst(), "DELETE FROM bag WHERE ctid = (SELECT min(ctid) FROM bag WHERE a = 5); INSERT INTO bag VALUES (6, 'dup 6')");
  RunResult r = run_pgcutover({"verify", "--source", src(), "--target", dst()});
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  EXPECT_NE((r.out + r.err).find("public.bag"), std::string::npos) << r.out << r.err;
  r = run_pgcutover({"verify", "--source", src(), "--target", dst(), "--repair"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  expect_same_content(src(), dst());
}
