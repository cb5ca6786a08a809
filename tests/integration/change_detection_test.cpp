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

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <map>
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

// Issue 23, point 4: an application that writes local times in a zone of its
// own (its role's setting, a JVM zone), not the tool role's: the config
// file's writer_time_zone (or --writer-time-zone) names it, and plan and
// sync show which zone each table is read in.
TEST_F(ChangeDetection, AWriterInItsOwnZoneIsReadInThatZone) {
  hostile::Session app(src(), false);
  app.exec("SET TimeZone = 'Pacific/Honolulu'");  // two to three hours west of the database's Los Angeles
  app.exec("UPDATE local_ts SET v = 'written in Honolulu time', updated_at = now() WHERE id <= 7");
  std::string config = test_temp_path("writer-zone.toml");
  std::ofstream(config) << "[tables.\"public.local_ts\"]\nwriter_time_zone = \"Pacific/Honolulu\"\n";
  RunResult plan = run_pgcutover({"plan", "--source", src(), "--target", dst(), "--config", config,
                                  "--writer-time-zone", "Europe/Berlin", "--json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  std::map<std::string, json> zones;
  const json planned = json::parse(plan.out);
  for (const json &t : planned["tables"]) zones[t["table"].get<std::string>()] = t["sync"];
  EXPECT_EQ(zones["public.local_ts"]["time_zone"], "Pacific/Honolulu");
  EXPECT_EQ(zones["public.local_ts"]["time_zone_from"], "the config file");
  EXPECT_EQ(zones["public.daily"]["time_zone"], "Europe/Berlin") << "a date column is local time too";
  EXPECT_EQ(zones["public.daily"]["time_zone_from"], "--writer-time-zone");
  EXPECT_TRUE(zones["public.long_tx"]["time_zone"].is_null()) << "timestamptz needs no zone";
  RunResult r = sync({"--config", config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(on_target("SELECT count(*) FROM local_ts WHERE v = 'written in Honolulu time'"), "7")
      << "rows stamped in the writer's zone were missed";
  bool shown = false;
  const json synced = json::parse(r.out);
  for (const json &t : synced["tables"])
    if (t["table"] == "public.local_ts") {
      shown = true;
      EXPECT_EQ(t["time_zone"], "Pacific/Honolulu") << t.dump();
    } else if (t["table"] == "public.daily") {
      EXPECT_EQ(t["time_zone"], "America/Los_Angeles") << "the source role's zone by default: " << t.dump();
      EXPECT_EQ(t["time_zone_from"], "the source role's TimeZone");
    }
  EXPECT_TRUE(shown) << r.out;
  EXPECT_EQ(expect_same_content(src(), dst()), 4);
  // An unknown zone is a usage error before anything is written.
  RunResult bad = sync({"--writer-time-zone", "Mars/Olympus_Mons"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("does not know the time zone \"Mars/Olympus_Mons\""), std::string::npos) << bad.err;
}

// A DST fall-back inside the window repeats an hour of local time: a row
// written in the second 01:10 carries an earlier stamp than a window that
// starts at the first 01:30. The start moves back by the hour.
TEST_F(ChangeDetection, ADstFallBackInTheWindowMovesItsStartBack) {
  // New York fell back at 2026-11-01 06:00 UTC (02:00 EDT -> 01:00 EST).
  exec(src(), "UPDATE local_ts SET v = 'second 01:10 (EST)', updated_at = '2026-11-01 01:10' WHERE id = 1");
  exec(src(), "UPDATE local_ts SET v = 'before the window', updated_at = '2026-10-31 23:00' WHERE id = 2");
  RunResult r = sync({"--table", "public.local_ts", "--since", "2026-11-01T05:30:00Z", "--writer-time-zone",
                      "America/New_York"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(on_target("SELECT v FROM local_ts WHERE id = 1"), "second 01:10 (EST)")
      << "the row written in the repeated hour was missed";
  json t = json::parse(r.out)["tables"][0];
  EXPECT_EQ(t["widened_seconds"], 3600.0) << t.dump();
  EXPECT_EQ(t["since"], "2026-11-01T04:29:59.000000Z") << "--since less the 1 s overlap and the hour: " << t.dump();
  EXPECT_EQ(on_target("SELECT v FROM local_ts WHERE id = 2"), "v2") << "the widened window reads an hour, not more";
}

// Issue 23, point 5: a prepared (two-phase) transaction stamps its rows
// before the sync and commits after it: the look-back includes it, and
// names it.
TEST_F(ChangeDetection, APreparedTransactionHoldsTheLookBackAndIsNamed) {
  hostile::Session tx(src(), false);
  tx.exec("BEGIN");
  tx.exec("UPDATE long_tx SET v = 'prepared, committed later', updated_at = now() WHERE id = 3");
  tx.exec("PREPARE TRANSACTION 'pgcutover_test_2pc'");
  std::this_thread::sleep_for(2500ms);  // older than --overlap 1s when the sync starts
  RunResult during = sync();
  ASSERT_EQ(during.exit_code, 0) << during.err;
  json held = json::parse(during.out)["snapshot"];
  ASSERT_TRUE(held.contains("oldest_open_transaction")) << held.dump();
  EXPECT_NE(held["oldest_open_transaction"]["holder"].get<std::string>().find("prepared transaction 'pgcutover_test_2pc'"),
            std::string::npos) << held.dump();
  EXPECT_GE(held["oldest_open_transaction"]["age_seconds"].get<double>(), 2.0) << held.dump();
  exec(src(), "COMMIT PREPARED 'pgcutover_test_2pc'");
  RunResult after = sync();
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(on_target("SELECT v FROM long_tx WHERE id = 3"), "prepared, committed later")
      << "the prepared transaction's row was missed";
  EXPECT_EQ(expect_same_content(src(), dst()), 4);
}

// A VACUUM writes no rows: it does not hold the look-back. An idle session
// in a transaction can still write: it does, named, with a warning past
// --warn-look-back.
TEST_F(ChangeDetection, VacuumDoesNotHoldTheLookBackAnIdleTransactionDoesAndIsNamed) {
  exec(src(), "CREATE TABLE big (id int, v text); INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 200000) g;"
              "DELETE FROM big WHERE id % 2 = 0");
  std::string vacuum_error;
  std::thread vacuum([&] {
    try {
      exec(src() + " options='-c vacuum_cost_delay=50 -c vacuum_cost_limit=1'", "VACUUM big");
    } catch (const std::exception &e) {
      vacuum_error = e.what();
    }
  });
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(query_value(src(), "SELECT count(*) FROM pg_stat_activity WHERE query = 'VACUUM big' AND state = 'active' "
                               "AND pid <> pg_backend_pid()"), "1") << "the slow VACUUM is not running: " << vacuum_error;
  RunResult r = sync();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json snap = json::parse(r.out)["snapshot"];
  EXPECT_FALSE(snap.contains("oldest_open_transaction")) << "a VACUUM held the look-back: " << snap.dump();
  EXPECT_EQ(snap["changes_from"], snap["taken_at"]) << snap.dump();
  exec(src(), "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'VACUUM big' AND pid <> pg_backend_pid()");
  vacuum.join();

  hostile::Session idle(src(), false);
  idle.exec("BEGIN");
  idle.exec("SELECT count(*) FROM long_tx");
  std::this_thread::sleep_for(2000ms);
  r = sync({"--warn-look-back", "1s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  snap = json::parse(r.out)["snapshot"];
  ASSERT_TRUE(snap.contains("oldest_open_transaction")) << snap.dump();
  EXPECT_NE(snap["oldest_open_transaction"]["holder"].get<std::string>().find("idle in transaction"), std::string::npos)
      << snap.dump();
  EXPECT_NE(r.err.find("warning: session"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("idle in transaction"), std::string::npos) << r.err;
  idle.exec("COMMIT");
}

// A sync counts the changed rows of many tables a batch of tables per
// statement: each table's counts (changed, NULL-stamped, stamped ahead) must
// land on that table, across batch boundaries (70 tables: three batches).
TEST_F(ChangeDetection, CountsOfManyTablesCountedInBatchesLandOnTheirOwnTables) {
  const int n = 70;
  std::string ddl;
  for (int k = 0; k < n; ++k) {
    std::string t = fmt::format("many_{:02}", k);
    ddl += fmt::format("CREATE TABLE {0} (id int PRIMARY KEY, v text, updated_at timestamptz); CREATE INDEX ON {0} (updated_at); "
                       "INSERT INTO {0} SELECT g, 'v' || g, now() - interval '3 days' FROM generate_series(1, 10) g;",
                       t);
  }
  exec(src(), ddl + " ANALYZE;");
  ASSERT_EQ(sync().exit_code, 0);  // creates and copies them
  std::this_thread::sleep_for(1200ms);
  hostile::Session app(src(), false);
  std::map<std::string, std::array<int, 3>> want;  // table: changed rows read, NULL-stamped, stamped ahead
  for (int k = 0; k < n; ++k) {
    std::string t = fmt::format("many_{:02}", k);
    int changed = k % 4, nulls = k % 7 == 3 ? 2 : 0, ahead = k % 11 == 5 ? 1 : 0;
    if (changed) app.exec(fmt::format("UPDATE {} SET v = 'changed', updated_at = now() WHERE id <= {}", t, changed));
    if (nulls) app.exec(fmt::format("UPDATE {} SET v = 'NULL stamp', updated_at = NULL WHERE id BETWEEN 5 AND {}", t, 4 + nulls));
    if (ahead) app.exec(fmt::format("UPDATE {} SET v = 'ahead', updated_at = now() + interval '2 hours' WHERE id = 10", t));
    want["public." + t] = {changed + nulls + ahead, nulls, ahead};
  }
  RunResult r = sync();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  int seen = 0;
  for (const json &t : j["tables"]) {
    auto w = want.find(t["table"].get<std::string>());
    if (w == want.end()) continue;
    ++seen;
    EXPECT_EQ(t["rows_read"], w->second[0]) << t.dump();
    EXPECT_EQ(t["null_stamped"], w->second[1]) << t.dump();
    EXPECT_EQ(t["future_stamped"], w->second[2]) << t.dump();
  }
  EXPECT_EQ(seen, n) << r.out;
  EXPECT_EQ(expect_same_content(src(), dst()), 4 + n);
}

// TRUNCATE and the rewriting forms of ALTER TABLE are not MVCC-safe: a table
// rewritten on the source after the sync took its snapshot looks empty to
// every read in that snapshot. The sync must not take that for the table's
// content: delete detection would delete every one of its rows on the
// target, and the table's point would move past changes it never read. The
// sync is held after its snapshot by a lock on another table's target (its
// merge waits), the source's table is rewritten meanwhile (SET UNLOGGED:
// no schema drift for the next sync to notice).
TEST_F(ChangeDetection, ATableRewrittenOnTheSourceDuringTheSyncIsNotTakenForEmpty) {
  exec(src(), R"SQL(
    CREATE TABLE rewritten (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX ON rewritten (updated_at);
    INSERT INTO rewritten SELECT g, 'v' || g, now() - interval '3 days' FROM generate_series(1, 1000) g;
    CREATE TABLE a_blocker (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX ON a_blocker (updated_at);
    INSERT INTO a_blocker SELECT g, 'v' || g, now() - interval '3 days' FROM generate_series(1, 10) g;
    ANALYZE;
  )SQL");
  ASSERT_EQ(sync().exit_code, 0);  // creates and copies them
  std::this_thread::sleep_for(1200ms);
  exec(src(), "UPDATE a_blocker SET v = 'changed', updated_at = now() WHERE id = 1; "
              "UPDATE rewritten SET v = 'changed before the rewrite', updated_at = now() WHERE id = 7");

  hostile::Session holder(dst());
  holder.exec("BEGIN; LOCK TABLE public.a_blocker IN EXCLUSIVE MODE");
  PgcutoverProcess p({"sync", "--source", src(), "--target", dst(), "--overlap", "1s", "--jobs", "1", "--deletes",
                      "detect", "--json"});
  bool waiting = false;
  for (int i = 0; i < 600 && !waiting && p.running(); ++i) {
    waiting = query_value(dst(), "SELECT count(*) FROM pg_locks WHERE relation = 'a_blocker'::regclass AND NOT granted") != "0";
    if (!waiting) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(waiting) << "the sync never waited on a_blocker: " << p.err_so_far();
  exec(src(), "ALTER TABLE rewritten SET UNLOGGED");  // a rewrite, after the sync's snapshot
  holder.exec("COMMIT");
  RunResult r = p.wait(120);
  EXPECT_NE(r.err.find("rewritten"), std::string::npos) << r.err;
  EXPECT_EQ(on_target("SELECT count(*) FROM rewritten"), "1000") << "rows deleted on the target: " << r.err;
  EXPECT_EQ(on_target("SELECT v FROM a_blocker WHERE id = 1"), "changed") << r.err;

  // The next sync reads the table's window again: the change made before
  // the rewrite arrives.
  RunResult again = sync({"--deletes", "detect"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(on_target("SELECT v FROM rewritten WHERE id = 7"), "changed before the rewrite");
  EXPECT_EQ(on_target("SELECT count(*) FROM rewritten"), "1000");
  EXPECT_EQ(expect_same_content(src(), dst()), 6);
}
