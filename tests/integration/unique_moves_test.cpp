// Unique values that move between rows of different ranges in one sync: a
// swap between the first and the last range (neither range can commit
// alone), and a value freed by a row deleted on the source and taken by a
// row of another range. The sync merges them together and the target equals
// the source; checked by the independent content compare.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

TEST(UniqueMoves, SwapsAndFreedValuesAcrossRangesMerge) {
  const std::string db = "umoves";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, R"SQL(
    CREATE TABLE u (id int PRIMARY KEY, badge int NOT NULL UNIQUE, email text UNIQUE, pad text,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE INDEX ON u (updated_at);
    INSERT INTO u SELECT g, g, 'e' || g || '@x', repeat('p', 120) FROM generate_series(1, 50000) g;
    ANALYZE;
  )SQL");
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(50ms);
  exec(src, R"SQL(
    -- every row changed, so the change set spans several ranges
    UPDATE u SET pad = repeat('q', 120), updated_at = clock_timestamp();
    -- a swap between the first and the last range (badge and email both)
    BEGIN;
    UPDATE u SET badge = -1, email = 'tmp', updated_at = clock_timestamp() WHERE id = 1;
    UPDATE u SET badge = 1, email = 'e1@x', updated_at = clock_timestamp() WHERE id = 50000;
    UPDATE u SET badge = 50000, email = 'e50000@x', updated_at = clock_timestamp() WHERE id = 1;
    COMMIT;
    -- a value freed by a deleted row, taken by a row far away
    DELETE FROM u WHERE id = 2;
    UPDATE u SET badge = 2, updated_at = clock_timestamp() WHERE id = 49999;
  )SQL");
  ASSERT_EQ(query_value(src, "SELECT badge || ' ' || email FROM u WHERE id = 1"), "50000 e50000@x");
  ASSERT_EQ(query_value(src, "SELECT badge || ' ' || email FROM u WHERE id = 50000"), "1 e1@x");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s", "--jobs", "2", "--range-bytes", "1MB",
                     "--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.err.find("merging"), std::string::npos) << "the ranges did not need merging together: the test lost its point\n"
                                                       << r.err;
  expect_same_content(src, dst);
}

// Rows inserted on the source since the copy (keys above the target's
// largest) are written with a plain COPY, without the stage and the upsert;
// the rest of the change set is merged. When a new row takes a unique value
// a target row still holds (freed by a row deleted on the source, removed
// only by the delete detection after the data), the plain COPY fails and the
// range falls back to the merge-together path. Equal content both times.
TEST(UniqueMoves, NewKeysSkipTheStageAndAClashFallsBackToTheMerge) {
  const std::string db = "newkeys";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, R"SQL(
    CREATE TABLE u (id bigint PRIMARY KEY, badge int NOT NULL UNIQUE, pad text,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE INDEX ON u (updated_at);
    INSERT INTO u SELECT g, g, repeat(md5(g::text), 10) FROM generate_series(1, 20000) g;
    ANALYZE;
  )SQL");
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(50ms);
  // Half the rows changed and as many new: a change set worth splitting (over 4 MB).
  exec(src, R"SQL(
    UPDATE u SET pad = repeat(md5((-id)::text), 10), updated_at = clock_timestamp() WHERE id <= 10000;
    INSERT INTO u SELECT g, g, repeat(md5(g::text), 10) FROM generate_series(20001, 30000) g;
  )SQL");
  auto sync = [&] {
    return run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s", "--jobs", "2", "--deletes",
                          "detect", "--json"});
  };
  r = sync();
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["tables"].size(), 1u) << r.out;
  EXPECT_EQ(j["tables"][0]["rows_appended"], 10000) << "the new keys were not written with a plain COPY\n" << r.out;
  expect_same_content(src, dst);

  std::this_thread::sleep_for(50ms);
  exec(src, R"SQL(
    UPDATE u SET pad = 'changed', updated_at = clock_timestamp() WHERE id <= 15000;
    DELETE FROM u WHERE id = 7;
    INSERT INTO u VALUES (30001, 7, 'takes the badge of the deleted row 7', clock_timestamp());
    INSERT INTO u SELECT g, g, repeat(md5(g::text), 10) FROM generate_series(30002, 31000) g;
  )SQL");
  r = sync();
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.err.find("merging"), std::string::npos) << "the new keys' COPY did not clash: the test lost its point\n"
                                                       << r.err;
  j = nlohmann::json::parse(r.out);
  // The clashing range went through the merge (which removed the target's row 7
  // holding the badge, before the delete detection): nothing appended.
  EXPECT_EQ(j["tables"][0]["rows_appended"], 0) << r.out;
  expect_same_content(src, dst);
}

// Issue 23, point 2: a unique value moves to a new row, away from a row
// whose change the change column cannot see (created_at: updates are
// invisible to it). The target row holding the value is not simply deleted:
// the source still has that row, with another value, and the sync writes it
// as the source has it. A row the source deleted meanwhile goes.
TEST(UniqueMoves, AHolderTheChangeColumnCannotSeeIsReadAgainNotLost) {
  const std::string db = "uholder";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, R"SQL(
    CREATE TABLE member (id int PRIMARY KEY, badge int NOT NULL UNIQUE, email text UNIQUE, v text,
                         created_at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE INDEX ON member (created_at);
    INSERT INTO member (id, badge, email, v) SELECT g, g, 'm' || g || '@x', 'v' || g FROM generate_series(1, 3000) g;
    ANALYZE;
  )SQL");
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(50ms);
  exec(src, R"SQL(
    -- invisible to created_at: row 5 gives up its badge, row 6 its email and badge
    UPDATE member SET badge = 100005, v = 'badge moved away' WHERE id = 5;
    UPDATE member SET email = 'm6-new@x', badge = 100006, v = 'email and badge moved away' WHERE id = 6;
    -- a chain: row 8's new badge is row 9's old one, and row 9 moved on (both invisible)
    UPDATE member SET badge = 100009 WHERE id = 9;
    UPDATE member SET badge = 9, v = 'took the badge of 9' WHERE id = 8;
    -- a holder the source deleted
    DELETE FROM member WHERE id = 10;
    -- new rows (visible) take the freed values
    INSERT INTO member (id, badge, email, v) VALUES (5001, 5, 'new5@x', 'takes badge 5'),
                                                    (5002, 8, 'm6@x', 'takes email of 6 and badge 8'),
                                                    (5003, 10, 'new10@x', 'takes badge of deleted 10');
  )SQL");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s", "--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.err.find("merging"), std::string::npos) << "the new rows did not clash: the test lost its point\n" << r.err;
  EXPECT_EQ(query_value(dst, "SELECT badge || ' ' || v FROM member WHERE id = 5"), "100005 badge moved away")
      << "the row that gave up its badge was lost";
  EXPECT_EQ(query_value(dst, "SELECT badge || ' ' || email FROM member WHERE id = 6"), "100006 m6-new@x");
  EXPECT_EQ(query_value(dst, "SELECT badge || ' ' || v FROM member WHERE id = 8"), "9 took the badge of 9");
  EXPECT_EQ(query_value(dst, "SELECT badge FROM member WHERE id = 9"), "100009");
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM member WHERE id = 10"), "0");
  expect_same_content(src, dst);
}
