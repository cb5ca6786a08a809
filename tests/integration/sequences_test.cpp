// Sequences after `sync --final` (and `sequences`): every target sequence
// hands out no value the source has handed out and no value a column it feeds
// already holds (below them for descending ones); a CYCLE sequence stands
// where the source's stands; new sequences are created by sync. Verify's
// check follows the same rule. Each test is the smallest case of one kind.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Sequences : ::testing::Test {
  std::string db = "seqrule";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  // The schema and its first rows on the source, then the base copy.
  void copy_of(const std::string &sql) {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), sql);
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::this_thread::sleep_for(50ms);
  }
  RunResult sync_final() {
    return run_pgcutover({"sync", "--final", "--source", src(), "--target", dst(), "--overlap", "100ms", "--allow-scan"});
  }
  // verify's sequence verdicts, by name -> problem ("" when ok).
  std::map<std::string, std::string> verify_sequences() {
    RunResult r = run_pgcutover({"verify", "--source", src(), "--target", dst(), "--json"});
    std::map<std::string, std::string> out;
    json j = json::parse(r.out);
    for (auto &s : j["sequences"]) out[s["sequence"]] = s["ok"].get<bool>() ? "" : s["problem"].get<std::string>();
    return out;
  }
  std::string state(const std::string &conninfo, const std::string &seq) {
    return query_value(conninfo, "SELECT last_value || '/' || is_called FROM " + seq);
  }
  std::string next_on_target(const std::string &seq) { return query_value(dst(), "SELECT nextval('" + seq + "')"); }
};

}  // namespace

// A descending sequence goes down: set below the column's min, not above its max.
TEST_F(Sequences, DescendingStandsBelowTheColumn) {
  copy_of(R"SQL(
    CREATE SEQUENCE d AS bigint INCREMENT BY -1 MINVALUE -1000000 MAXVALUE -1 START WITH -1;
    CREATE TABLE dt (id bigint PRIMARY KEY DEFAULT nextval('d'), v text);
    ALTER SEQUENCE d OWNED BY dt.id;
    INSERT INTO dt (v) SELECT 'x' FROM generate_series(1, 100);
  )SQL");
  exec(src(), "INSERT INTO dt (v) SELECT 'after' FROM generate_series(1, 10)");  // -101 .. -110
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(state(dst(), "d"), "-110/true");
  auto v = verify_sequences();
  EXPECT_EQ(v["public.d"], "") << "verify must accept a descending sequence below its column";
  // A descending sequence set forward (above its column) is a collision verify reports.
  exec(dst(), "SELECT setval('d', -5)");
  v = verify_sequences();
  EXPECT_NE(v["public.d"], "");
  EXPECT_EQ(next_on_target("d"), "-6");
}

// Not owned, shared by two tables' defaults: beyond both tables' values,
// including an explicit id in the second table.
TEST_F(Sequences, SharedNotOwnedStandsBeyondEveryTableItFeeds) {
  copy_of(R"SQL(
    CREATE SEQUENCE shared;
    CREATE TABLE a (id bigint PRIMARY KEY DEFAULT nextval('shared'), v text);
    CREATE TABLE b (id bigint PRIMARY KEY DEFAULT nextval('shared'), v text);
    INSERT INTO a (v) SELECT 'a' FROM generate_series(1, 50);
    INSERT INTO b (v) SELECT 'b' FROM generate_series(1, 50);
  )SQL");
  exec(src(), "INSERT INTO a (v) VALUES ('after'); INSERT INTO b (id, v) VALUES (500, 'explicit')");
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(next_on_target("shared"), "501");
  EXPECT_EQ(verify_sequences()["public.shared"], "");
  // Selected tables: the sequence feeds the selected one (second in name order).
  exec(src(), "INSERT INTO b (id, v) VALUES (900, 'explicit')");
  r = run_pgcutover({"sync", "--final", "--source", src(), "--target", dst(), "--overlap", "100ms", "--allow-scan",
                     "--table", "public.b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(next_on_target("shared"), "901");
}

// CACHE: a session that holds cached values has handed them out.
TEST_F(Sequences, CachedValuesCountAsHandedOut) {
  copy_of(R"SQL(
    CREATE SEQUENCE cached CACHE 50;
    CREATE TABLE ct (id bigint PRIMARY KEY DEFAULT nextval('cached'), v text);
    INSERT INTO ct (v) SELECT 'c' FROM generate_series(1, 30);
  )SQL");
  exec(src(), "SELECT nextval('cached')");  // another session: it caches 51 .. 100
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(state(dst(), "cached"), state(src(), "cached"));
  EXPECT_EQ(next_on_target("cached"), "101");
}

// Never called, and is_called = false: the target hands out exactly the
// source's next value, no value is skipped or repeated.
TEST_F(Sequences, NeverCalledAndNotCalledStandWhereTheSourceStands) {
  copy_of(R"SQL(
    CREATE SEQUENCE never START WITH 77;
    CREATE TABLE nt (id int PRIMARY KEY DEFAULT nextval('never'), v text);
    CREATE SEQUENCE later START WITH 1000;
    CREATE TABLE lt (id int PRIMARY KEY DEFAULT nextval('later'), v text);
    INSERT INTO lt (id, v) SELECT g, 'l' FROM generate_series(1, 20) g;
  )SQL");
  exec(src(), "SELECT setval('later', 1000, false); SELECT setval('never', 77, false)");
  exec(dst(), "SELECT setval('never', 5)");  // the target moved on its own
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(state(dst(), "later"), "1000/false");
  EXPECT_EQ(state(dst(), "never"), "77/false");
  auto v = verify_sequences();
  EXPECT_EQ(v["public.later"], "");
  EXPECT_EQ(v["public.never"], "");
}

// Created on the source after the base copy, one feeding a new table's
// default: sync creates it (through pg_dump) before the new table, and sets it.
TEST_F(Sequences, CreatedAfterTheCopyAreCreatedBySync) {
  copy_of("CREATE TABLE base (id int PRIMARY KEY, v text); INSERT INTO base VALUES (1, 'x');");
  exec(src(), R"SQL(
    CREATE SEQUENCE late_asc AS smallint START WITH 100;
    SELECT nextval('late_asc') FROM generate_series(1, 3);
    CREATE SEQUENCE late_desc INCREMENT BY -3 MINVALUE -1000 MAXVALUE -10 START WITH -10;
    SELECT nextval('late_desc') FROM generate_series(1, 5);
    CREATE TABLE late_t (id int PRIMARY KEY DEFAULT nextval('late_desc'), v text);
    INSERT INTO late_t VALUES (-500, 'explicit, below the sequence');
  )SQL");
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT format_type(seqtypid, NULL) || ' ' || seqincrement || ' ' || seqmin || ' ' || "
                               "seqmax FROM pg_sequence WHERE seqrelid = 'late_desc'::regclass"),
            "bigint -3 -1000 -10");
  EXPECT_EQ(state(dst(), "late_asc"), "102/true");
  EXPECT_EQ(next_on_target("late_desc"), "-503");
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM late_t"), "1");
}

// Identity ALWAYS (increment 10) and BY DEFAULT (smallint, explicit id above it).
TEST_F(Sequences, IdentityAlwaysAndSmallintByDefault) {
  copy_of(R"SQL(
    CREATE TABLE ia (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 10) PRIMARY KEY, v text);
    CREATE TABLE idf (id smallint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v text);
    INSERT INTO ia (v) SELECT 'i' FROM generate_series(1, 40);
    INSERT INTO idf (v) SELECT 'd' FROM generate_series(1, 40);
  )SQL");
  exec(src(), "INSERT INTO ia (v) VALUES ('after'); INSERT INTO idf (id, v) VALUES (700, 'explicit')");
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(state(dst(), "ia_id_seq"), "410/true");
  EXPECT_EQ(next_on_target("idf_id_seq"), "701");
  auto v = verify_sequences();
  EXPECT_EQ(v["public.ia_id_seq"], "");
  EXPECT_EQ(v["public.idf_id_seq"], "");
}

// A smallint sequence whose column holds its max: it stands exhausted, nextval
// fails instead of handing out a value the column holds; `sequences` alone too.
TEST_F(Sequences, SmallintAtItsBoundStandsExhausted) {
  copy_of(R"SQL(
    CREATE SEQUENCE small AS smallint;
    CREATE TABLE st (id int PRIMARY KEY DEFAULT nextval('small'), v text);
    INSERT INTO st (v) SELECT 's' FROM generate_series(1, 10);
  )SQL");
  exec(src(), "INSERT INTO st (id, v) VALUES (40000, 'explicit, beyond smallint')");
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(state(dst(), "small"), "32767/true");
  exec(src(), "INSERT INTO st (v) VALUES ('after')");
  r = run_pgcutover({"sequences", "--source", src(), "--target", dst()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(state(dst(), "small"), "32767/true");
}

// A cycling descending sequence stands exactly where the source's stands.
TEST_F(Sequences, CycleStandsExactlyWhereTheSourceStands) {
  copy_of(R"SQL(
    CREATE SEQUENCE cyc AS smallint INCREMENT BY -1 MINVALUE 1 MAXVALUE 50 START WITH 50 CYCLE;
    CREATE TABLE cy (n smallint PRIMARY KEY DEFAULT nextval('cyc'), v text);
    INSERT INTO cy (v) SELECT 'c' FROM generate_series(1, 40);
  )SQL");
  exec(src(), "DELETE FROM cy WHERE n > 30; INSERT INTO cy (v) SELECT 'after' FROM generate_series(1, 15)");  // wraps
  RunResult r = sync_final();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(state(dst(), "cyc"), state(src(), "cyc"));
  EXPECT_EQ(verify_sequences()["public.cyc"], "");
}
