// How the copy loads the target (issue 15's session-level levers): new TOAST
// values lz4-compressed in the writers' sessions where the target has lz4
// (a column's own compression kept; pglz on request), and one-range tables
// the copy created loaded with COPY FREEZE (their pages all-frozen in the
// visibility map, checked with pg_visibility) when they are at least
// --freeze-above big: the TRUNCATE that COPY FREEZE needs costs milliseconds
// per table, which thousands of small tables add up. The content compare is the
// tests' own (compare.hpp), independent of the code under test.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

namespace {

struct Loading : ::testing::Test {
  std::string db = "loading";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    // docs: one range; its values are large and compressible. pinned keeps
    // pglz as the column's own setting. multi: several ranges.
    exec(src(), R"SQL(
      CREATE TABLE docs (id int PRIMARY KEY, body text, pinned text COMPRESSION pglz);
      INSERT INTO docs SELECT g, repeat('word ' || g || ' ', 3000), repeat('pin ' || g || ' ', 3000)
        FROM generate_series(1, 40) g;
      CREATE TABLE multi (id int PRIMARY KEY, v text);
      INSERT INTO multi SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 20000) g;
      ANALYZE;
    )SQL");
  }

  json copy(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = run_pgcutover(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }

  std::string compressions(const std::string &column) {
    return query_value(dst(), "SELECT string_agg(DISTINCT coalesce(pg_column_compression(" + column +
                                  "), 'none'), ',') FROM docs");
  }
};

}  // namespace

TEST_F(Loading, Lz4ForNewToastValuesUnlessTheColumnHasItsOwn) {
  json j = copy();
  ASSERT_TRUE(j.contains("loading")) << j.dump();
  EXPECT_EQ(j["loading"]["toast_compression"], "lz4") << j.dump();
  EXPECT_EQ(compressions("body"), "lz4");
  EXPECT_EQ(compressions("pinned"), "pglz");  // the column's own setting, from pg_dump
  expect_same_content(src(), dst());
}

TEST_F(Loading, PglzOnRequest) {
  json j = copy({"--toast-compression", "pglz"});
  EXPECT_EQ(j["loading"]["toast_compression"], "pglz") << j.dump();
  EXPECT_EQ(compressions("body"), "pglz");
  expect_same_content(src(), dst());
}

TEST_F(Loading, OneRangeTablesTheCopyCreatedAreLoadedFrozen) {
  json j = copy({"--freeze-above", "0"});
  ASSERT_TRUE(j.contains("loading")) << j.dump();
  EXPECT_EQ(j["loading"]["frozen_tables"], json::array({"public.docs"})) << j.dump();
  exec(dst(), "CREATE EXTENSION IF NOT EXISTS pg_visibility");
  // Every page of docs all-frozen straight after the load; multi (several
  // ranges, plain COPY) has none.
  EXPECT_EQ(query_value(dst(), "SELECT bool_and(all_frozen)::text FROM pg_visibility_map('docs')"), "true");
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FILTER (WHERE all_frozen) FROM pg_visibility_map('multi')"), "0");
  expect_same_content(src(), dst());
}

TEST_F(Loading, SmallTablesAreNotTruncatedForFreezeByDefault) {
  // docs is one range of well under the default --freeze-above (16MB): a
  // plain COPY, no TRUNCATE (the table keeps the files it was created with).
  json j = copy();
  ASSERT_TRUE(j.contains("loading")) << j.dump();
  EXPECT_EQ(j["loading"]["frozen_tables"], json::array()) << j.dump();
  exec(dst(), "CREATE EXTENSION IF NOT EXISTS pg_visibility");
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FILTER (WHERE all_frozen) FROM pg_visibility_map('docs')"), "0");
  // Created by the copy's pre-data and never truncated: its file is the
  // one CREATE TABLE gave it (relfilenode = oid for a new table).
  EXPECT_EQ(query_value(dst(), "SELECT (relfilenode = oid)::text FROM pg_class WHERE oid = 'docs'::regclass"), "true");
  expect_same_content(src(), dst());
}
