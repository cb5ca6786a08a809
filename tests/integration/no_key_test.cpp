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

// Without a primary key, a unique index over NOT NULL columns stands for one
// (as REPLICA IDENTITY USING INDEX does): plan names it, the copy cuts ranges
// on it, a sync reads and merges only the changed rows (not the whole table,
// as for a table with no usable key), deletes are detected on it, verify
// compares by it. A unique index over a nullable column is no key. A target
// table whose key is another one is refused by name before any row moves.
struct UniqueKey : ::testing::Test {
  std::string db = "uniquekey";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE TABLE ledger_lines (region text NOT NULL, line bigint NOT NULL, amount numeric, note text,
                                 updated_at timestamptz NOT NULL DEFAULT now());
      CREATE UNIQUE INDEX ledger_lines_region_line ON ledger_lines (region, line);
      CREATE UNIQUE INDEX ledger_lines_note ON ledger_lines (note);  -- nullable: no key
      CREATE INDEX ON ledger_lines (updated_at);
      CREATE TABLE loose (code text, v int);
      CREATE UNIQUE INDEX loose_code ON loose (code);                  -- nullable only: no key
      INSERT INTO ledger_lines (region, line, amount, note, updated_at)
        SELECT 'r' || (g % 7), g, g * 1.5, CASE WHEN g % 3 = 0 THEN 'n' || g END, '2024-01-01'
          FROM generate_series(1, 40000) g;
      INSERT INTO loose SELECT 'c' || g, g FROM generate_series(1, 100) g;
      ANALYZE;
    )SQL");
  }
};

TEST_F(UniqueKey, AUniqueIndexOverNotNullColumnsIsTheKeyEverywhere) {
  RunResult r = run_pgcutover({"plan", "--source", src(), "--target", dst(), "--range-bytes", "1MB", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json plan = json::parse(r.out);
  bool seen = false;
  for (const json &t : plan["tables"]) {
    if (t["table"] == "public.ledger_lines") {
      EXPECT_EQ(t["key"], json::array({"region", "line"})) << t.dump();
      EXPECT_EQ(t["key_index"], "ledger_lines_region_line") << t.dump();
      EXPECT_EQ(t["key_is_primary"], false) << t.dump();
      EXPECT_NE(t["key_rule"].get<std::string>().find("unique index ledger_lines_region_line"), std::string::npos);
      EXPECT_GT(t["ranges"].get<int>(), 1) << "the key cuts ranges: " << t.dump();
      seen = true;
    }
    if (t["table"] == "public.loose") EXPECT_EQ(t["key"], json::array()) << t.dump();
  }
  EXPECT_TRUE(seen) << r.out;
  r = run_pgcutover({"plan", "--source", src(), "--target", dst(), "--range-bytes", "1MB"});
  EXPECT_NE(r.out.find("by unique index ledger_lines_region_line, no primary key"), std::string::npos) << r.out;

  r = run_pgcutover({"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(expect_same_content(src(), dst()), 2);

  exec(src(), R"SQL(
    UPDATE ledger_lines SET amount = -1, updated_at = now() WHERE line % 1000 = 0;
    INSERT INTO ledger_lines (region, line, amount) VALUES ('new', 1, 1), ('new', 2, 2);
    DELETE FROM ledger_lines WHERE line IN (5, 6, 7);
  )SQL");
  r = run_pgcutover({"sync", "--source", src(), "--target", dst(), "--overlap", "1s", "--deletes", "detect", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json j = json::parse(r.out);
  bool synced = false;
  for (const json &t : j["tables"])
    if (t["table"] == "public.ledger_lines") {
      EXPECT_EQ(t["method"], "updated_at") << t.dump();
      EXPECT_EQ(t["rows_read"], 42) << "only the changed rows are read: " << t.dump();
      EXPECT_EQ(t["deleted"], 3) << t.dump();
      synced = true;
    }
  EXPECT_TRUE(synced) << r.out;
  EXPECT_EQ(expect_same_content(src(), dst()), 2);
  r = run_pgcutover({"verify", "--source", src(), "--target", dst()});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

TEST_F(UniqueKey, ATargetTableKeyedOtherwiseIsRefusedByName) {
  exec(dst(), R"SQL(
    CREATE TABLE ledger_lines (region text NOT NULL, line bigint NOT NULL, amount numeric, note text,
                               updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (line));
    INSERT INTO ledger_lines (region, line) VALUES ('x', 1);
  )SQL");
  RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst(), "--table", "public.ledger_lines"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("public.ledger_lines: the key differs: on the source unique index ledger_lines_region_line "
                       "(region, line)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM ledger_lines"), "1") << "nothing may move";
}
