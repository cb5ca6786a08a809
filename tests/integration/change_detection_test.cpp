// Change detection that never misses a row: each test writes the way a real
// application does (its own session, the server's TimeZone, transactions that
// stay open) and would lose rows without the matching rule in sync:
//   - `timestamp without time zone` written in a zone west of UTC
//   - `date` change columns changed later on the watermark's day
//   - change columns set to NULL, or stamped in the future
//   - a transaction that stamps now() at its start, stays open across a sync
//     longer than --overlap, and commits after it
// The check is independent of pgcutover: ordered md5 of every table.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "compare.hpp"
#include "hostile.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct ChangeDetection : ::testing::Test {
  std::string db = "changedet";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    // The application's sessions run in Los Angeles time (west of UTC): a
    // `timestamp without time zone` read as UTC would look 7-8 hours old.
    exec(source_cluster().conninfo(), "ALTER DATABASE " + db + " SET TimeZone = 'America/Los_Angeles'");
    exec(src(), R"SQL(
      CREATE TABLE local_ts (id int PRIMARY KEY, v text, updated_at timestamp without time zone NOT NULL DEFAULT now());
      CREATE INDEX ON local_ts (updated_at);
      CREATE TABLE daily (id int PRIMARY KEY, v text, updated_on date NOT NULL DEFAULT current_date);
      CREATE INDEX ON daily (updated_on);
      CREATE TABLE nullable (id int PRIMARY KEY, v text, updated_at timestamptz);
      CREATE INDEX ON nullable (updated_at);
      CREATE TABLE long_tx (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX ON long_tx (updated_at);
      INSERT INTO local_ts SELECT g, 'v' || g, now()::timestamp - interval '3 days' FROM generate_series(1, 200) g;
      INSERT INTO daily SELECT g, 'v' || g, current_date - 3 FROM generate_series(1, 200) g;
      INSERT INTO nullable SELECT g, 'v' || g, now() - interval '3 days' FROM generate_series(1, 200) g;
      INSERT INTO long_tx SELECT g, 'v' || g, now() - interval '3 days' FROM generate_series(1, 200) g;
      ANALYZE;
    )SQL");
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::this_thread::sleep_for(1200ms);
  }

  RunResult sync(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"sync", "--source", src(), "--target", dst(), "--overlap", "1s", "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a, {}, 180);
  }
  std::string on_target(const std::string &sql) { return query_value(dst(), sql); }
};

}  // namespace

TEST_F(ChangeDetection, LocalTimeTimestampsAreReadInTheWritersZone) {
  hostile::Session app(src(), false);  // the server's defaults: the application's session
  ASSERT_EQ(app.value("SHOW TimeZone"), "America/Los_Angeles");
  app.exec("UPDATE local_ts SET v = 'changed in local time', updated_at = now() WHERE id <= 10");
  app.exec("INSERT INTO local_ts (id, v) VALUES (1000, 'inserted in local time')");
  RunResult r = sync();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(on_target("SELECT count(*) FROM local_ts WHERE v = 'changed in local time'"), "10");
  EXPECT_EQ(on_target("SELECT v FROM local_ts WHERE id = 1000"), "inserted in local time");
  EXPECT_EQ(expect_same_content(src(), dst()), 4);
}

TEST_F(ChangeDetection, DateColumnsAreReadByTheWholeDay) {
  hostile::Session app(src(), false);
  // A first sync moves the watermark to today; later changes the same day
  // carry the same date, which is not after the watermark.
  app.exec("UPDATE daily SET v = 'changed today, before the first sync', updated_on = current_date WHERE id <= 5");
  ASSERT_EQ(sync().exit_code, 0);
  std::this_thread::sleep_for(1500ms);
  app.exec("UPDATE daily SET v = 'changed today, after the first sync', updated_on = current_date WHERE id BETWEEN 6 AND 15");
  app.exec("INSERT INTO daily (id, v) VALUES (1000, 'inserted today')");
  RunResult r = sync();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(on_target("SELECT count(*) FROM daily WHERE v = 'changed today, after the first sync'"), "10");
  EXPECT_EQ(on_target("SELECT v FROM daily WHERE id = 1000"), "inserted today");
  EXPECT_EQ(expect_same_content(src(), dst()), 4);
}

TEST_F(ChangeDetection, NullAndFutureStampsAreReadAndCounted) {
  hostile::Session app(src(), false);
  app.exec("UPDATE nullable SET v = 'stamp set NULL', updated_at = NULL WHERE id BETWEEN 1 AND 3");
  app.exec("UPDATE nullable SET v = 'stamp set infinity', updated_at = 'infinity' WHERE id = 4");
  app.exec("UPDATE nullable SET v = 'stamped 3 hours ahead', updated_at = now() + interval '3 hours' WHERE id = 5");
  ASSERT_EQ(sync().exit_code, 0);
  // A row whose stamp is already NULL changes again: only its content says so.
  app.exec("UPDATE nullable SET v = 'changed again, stamp still NULL' WHERE id = 1");
  RunResult r = sync();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(on_target("SELECT v FROM nullable WHERE id = 1"), "changed again, stamp still NULL");
  EXPECT_EQ(on_target("SELECT v FROM nullable WHERE id = 4"), "stamp set infinity");
  EXPECT_EQ(expect_same_content(src(), dst()), 4);
  json j = json::parse(r.out);
  bool counted = false;
  for (const json &t : j["tables"])
    if (t["table"] == "public.nullable") {
      counted = true;
      EXPECT_EQ(t["null_stamped"], 3) << t.dump();
      EXPECT_EQ(t["future_stamped"], 2) << t.dump();
    }
  EXPECT_TRUE(counted) << r.out;
}

TEST_F(ChangeDetection, ALongTransactionCommittingAfterTheSyncIsNotMissed) {
  hostile::Session longtx(src(), false);
  longtx.exec("BEGIN");
  longtx.exec("UPDATE long_tx SET v = 'long transaction', updated_at = now() WHERE id = 1");
  std::this_thread::sleep_for(2500ms);  // older than --overlap 1s when the sync starts
  RunResult during = sync();  // must not wait for the open transaction
  ASSERT_EQ(during.exit_code, 0) << during.err;
  longtx.exec("COMMIT");
  RunResult after = sync();
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(on_target("SELECT v FROM long_tx WHERE id = 1"), "long transaction")
      << "the long transaction's row was missed";
  EXPECT_EQ(expect_same_content(src(), dst()), 4);
}
