// Issue 22, point 1: a key is its key columns only. A primary key or unique
// index with INCLUDE columns keys ranges, ON CONFLICT, delete detection and
// verify by its first indnkeyatts columns; and a table whose merge fails
// fails alone (named, exit 3), the rest synced and the sequences set.
#include <gtest/gtest.h>

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
  CREATE TABLE inc (id int, name text NOT NULL, email text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    PRIMARY KEY (id) INCLUDE (name));
  CREATE UNIQUE INDEX inc_email ON inc (email) INCLUDE (name);
  CREATE INDEX ON inc (updated_at);
  CREATE TABLE plain (id int PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON plain (updated_at);
  CREATE TABLE counter (id bigserial PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON counter (updated_at);
  INSERT INTO inc SELECT g, 'n' || g || repeat('-', 60), 'e' || g || '@x' FROM generate_series(1, 40000) g;
  INSERT INTO plain SELECT g, g FROM generate_series(1, 5000) g;
  INSERT INTO counter SELECT FROM generate_series(1, 100);
  ANALYZE;
)SQL";

}  // namespace

TEST(Keys, IncludeColumnsAreNoPartOfTheKey) {
  const std::string db = "inckeys";
  auto [src, dst] = real::fresh_databases(db);
  exec(src, SCHEMA);
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Nothing changed: this sync failed with 42P10 when INCLUDE columns were taken as key columns.
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  std::this_thread::sleep_for(50ms);
  exec(src, R"SQL(
    UPDATE inc SET name = name || '!', updated_at = clock_timestamp() WHERE id % 7 = 0;
    -- an email moves between two rows (a unique value with INCLUDE columns)
    BEGIN;
    UPDATE inc SET email = 'tmp', updated_at = clock_timestamp() WHERE id = 10;
    UPDATE inc SET email = 'e10@x', updated_at = clock_timestamp() WHERE id = 39990;
    UPDATE inc SET email = 'e39990@x', updated_at = clock_timestamp() WHERE id = 10;
    COMMIT;
    DELETE FROM inc WHERE id BETWEEN 100 AND 120;
    INSERT INTO inc SELECT g, 'new' || g, 'new' || g || '@x' FROM generate_series(40001, 40100) g;
  )SQL");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms", "--final", "--deletes", "detect",
                     "--range-bytes", "1MB"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  expect_same_content(src, dst);
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--mode", "full", "--range-bytes", "1MB"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

TEST(Keys, ATableWhoseMergeFailsFailsAlone) {
  const std::string db = "failalone";
  auto [src, dst] = real::fresh_databases(db);
  exec(src, SCHEMA);
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A check the target has and the source lacks: plain's merge must fail.
  exec(dst, "ALTER TABLE plain ADD CONSTRAINT v_small CHECK (v < 100000)");
  std::this_thread::sleep_for(50ms);
  exec(src, R"SQL(
    UPDATE inc SET name = 'changed', updated_at = clock_timestamp() WHERE id <= 50;
    UPDATE plain SET v = 100000 + id, updated_at = clock_timestamp() WHERE id <= 50;
    INSERT INTO counter SELECT FROM generate_series(1, 50);
  )SQL");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms", "--final", "--json"});
  ASSERT_EQ(r.exit_code, 3) << r.err << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["not_synced"].size(), 1u) << r.out;
  std::string why = j["not_synced"][0];
  EXPECT_NE(why.find("public.plain"), std::string::npos) << why;
  EXPECT_NE(why.find("v_small"), std::string::npos) << why;
  // The others are synced, and the sequences set.
  EXPECT_EQ(hostile::table_rows(src, "public.inc"), hostile::table_rows(dst, "public.inc"));
  EXPECT_EQ(hostile::table_rows(src, "public.counter"), hostile::table_rows(dst, "public.counter"));
  EXPECT_EQ(query_value(dst, "SELECT last_value FROM counter_id_seq"), "150");
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM plain WHERE v >= 100000"), "0");
  // Its window is read again once the cause is gone.
  exec(dst, "ALTER TABLE plain DROP CONSTRAINT v_small");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms", "--final"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  expect_same_content(src, dst);
}

// Found on PostgreSQL's regression database: a primary key over a generated
// column (not among the copied columns) crashed delete detection.
TEST(Keys, AKeyOverAGeneratedColumnSyncsWithDeleteDetection) {
  auto [src, dst] = real::fresh_databases("genkey");
  exec(src, "CREATE TABLE g (a int NOT NULL, b int GENERATED ALWAYS AS (a * 2) STORED, v text, PRIMARY KEY (b));"
            "INSERT INTO g (a, v) SELECT g, 'x' FROM generate_series(1, 500) g");
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(src, "DELETE FROM g WHERE a % 5 = 0; UPDATE g SET v = 'y' WHERE a % 7 = 0");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms", "--final", "--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src, dst)), "");
}
