// pgcutover sync and sequences against real servers: the whole cutover
// maneuver after a base copy, concurrent writers, a crash mid-sync, and drift.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Sync : ::testing::Test {
  std::string db = "syncm";
  std::string config = test_temp_path("pgcutover-sync-test.toml");
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE TABLE t_int (id serial PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE INDEX ON t_int (updated_at);
      CREATE TABLE t_big (id bigserial PRIMARY KEY, body jsonb, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE INDEX ON t_big (updated_at);
      CREATE TABLE t_ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created_at timestamptz DEFAULT clock_timestamp(), v text);
      CREATE INDEX ON t_ident (created_at);
      CREATE TABLE t_plain (k int PRIMARY KEY, v text);
      INSERT INTO t_int (v) SELECT 'v' || g FROM generate_series(1, 3000) g;
      INSERT INTO t_big (body) SELECT jsonb_build_object('g', g, 's', 'short') FROM generate_series(1, 3000) g;
      INSERT INTO t_ident (v) SELECT 'i' || g FROM generate_series(1, 2000) g;
      INSERT INTO t_plain SELECT g, 'p' || g FROM generate_series(1, 2000) g;
      ANALYZE;
    )SQL");
    std::ofstream(config) << "[tables.\"public.t_ident\"]\nchange_column = \"xmin\"\n";
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::this_thread::sleep_for(50ms);
  }
  void TearDown() override { std::filesystem::remove(config); }

  RunResult sync(std::vector<std::string> extra) {
    std::vector<std::string> a = {"sync", "--source", src(), "--target", dst(), "--overlap", "100ms", "--allow-scan",
                                  "--config", config, "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a);
  }
  void source_changes() {
    exec(src(), R"SQL(
      INSERT INTO t_int (v) SELECT 'new' || g FROM generate_series(1, 100) g;
      UPDATE t_int SET v = v || ' changed', updated_at = clock_timestamp() WHERE id % 50 = 0;
      DELETE FROM t_int WHERE id % 97 = 0;
      -- values grow past 512 bytes and past the TOAST threshold
      UPDATE t_big SET body = jsonb_build_object('g', id, 's', repeat(md5(id::text), 200)), updated_at = clock_timestamp() WHERE id % 10 = 0;
      SELECT setval('t_big_id_seq', 7000000000);
      INSERT INTO t_big (body) VALUES ('{"after": "setval"}');
      INSERT INTO t_ident (v) SELECT 'late' || g FROM generate_series(1, 30) g;
      UPDATE t_ident SET v = 'updated, seen through xmin' WHERE id % 100 = 0;
      UPDATE t_plain SET v = 'changed' WHERE k % 200 = 0;
      DELETE FROM t_plain WHERE k % 333 = 0;
      ALTER TABLE t_int ADD COLUMN extra int NOT NULL DEFAULT 7;
      CREATE TABLE t_new (id bigserial PRIMARY KEY, v text);
      INSERT INTO t_new (v) SELECT 'n' || g FROM generate_series(1, 40) g;
    )SQL");
  }
};

}  // namespace

TEST_F(Sync, CutoverManeuverLeavesTargetEqualToSource) {
  source_changes();
  // Without delete detection: everything but the deletes, and the JSON says so.
  RunResult r = sync({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_NE(j["deletes"].get<std::string>().find("not detected"), std::string::npos);
  std::map<std::string, json> tables;
  for (auto &t : j["tables"]) tables[t["table"]] = t;
  // t_int got a column: every row is read again so its values are the source's.
  EXPECT_EQ(tables["public.t_int"]["method"], "reread");
  EXPECT_EQ(tables["public.t_big"]["method"], "updated_at");
  EXPECT_EQ(tables["public.t_ident"]["method"], "xmin");
  EXPECT_EQ(tables["public.t_plain"]["method"], "xmin");
  // Rows the overlap brings again unchanged are not rewritten: far fewer rows
  // written than read for the xmin tables... and no more than changed.
  EXPECT_LE(tables["public.t_big"]["rows_written"].get<long long>(), 310);
  // Rows deleted on the source still hold NULL in t_int.extra: its NOT NULL waits for delete detection.
  EXPECT_NE(r.err.find("NOT NULL not set yet"), std::string::npos) << r.err;
  bool saw_new_table = false, saw_added_column = false;
  for (auto &d : j["drift"]) {
    saw_new_table = saw_new_table || (d["kind"] == "new_table" && d["table"] == "public.t_new");
    saw_added_column = saw_added_column || (d["kind"] == "added_column" && d["column"] == "extra");
  }
  EXPECT_TRUE(saw_new_table);
  EXPECT_TRUE(saw_added_column);
  EXPECT_NE(query_value(src(), "SELECT count(*) FROM t_int"), query_value(dst(), "SELECT count(*) FROM t_int"))
      << "deletes were applied although detection was off";

  // With delete detection, then sequences: equal by content.
  r = sync({"--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pgcutover({"sequences", "--source", src(), "--target", dst()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("public.t_big_id_seq"), std::string::npos) << r.out;
  EXPECT_GE(expect_same_content(src(), dst()), 5);
  // Default ids on the target never collide (int, bigint past 2^32, identity).
  exec(dst(), "INSERT INTO t_int (v) VALUES ('t'); INSERT INTO t_big (body) VALUES ('{}'); "
              "INSERT INTO t_ident (v) VALUES ('t'); INSERT INTO t_new (v) VALUES ('t')");
  EXPECT_EQ(query_value(dst(), "SELECT max(id) FROM t_big"), "7000000002");
}

TEST_F(Sync, ConcurrentWritersThenFinalSyncIsEqual) {
  std::atomic<bool> stop{false};
  std::atomic<long> writes{0};
  std::mutex m;
  std::vector<std::string> errors;  // every writer statement must succeed: a silent writer proves nothing
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; !stop.load(); ++i) {
        try {
          exec(src(), "INSERT INTO t_big (body) VALUES ('{\"writer\": " + std::to_string(w) + "}');"
                      "UPDATE t_big SET body = body || '{\"w\": 1}', updated_at = clock_timestamp() WHERE id = " +
                          std::to_string(1 + (i * 37 + w * 101) % 3000) + ";"
                      "UPDATE t_int SET v = 'w', updated_at = clock_timestamp() WHERE id = " + std::to_string(1 + (i * 13 + w) % 3000));
          ++writes;
        } catch (const std::exception &e) {
          std::lock_guard lock(m);
          errors.push_back(e.what());
          return;
        }
      }
    });
  for (int round = 0; round < 3; ++round) {
    RunResult r = sync({"--jobs", "2"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  stop = true;
  for (auto &t : writers) t.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  ASSERT_GT(writes.load(), 30) << "the writers wrote (almost) nothing during the syncs";
  RunResult r = sync({"--final"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(expect_same_content(src(), dst()), 4);
}

TEST_F(Sync, KilledMidSyncThenRerunSkipsNothing) {
  // Many changed rows and a slow target row trigger: the sync is mid-range when killed.
  exec(src(), "UPDATE t_big SET body = body || '{\"big\": \"change\"}', updated_at = clock_timestamp()");
  exec(dst(), R"SQL(
    CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0005); RETURN NEW; END $$;
    CREATE TRIGGER slow_down BEFORE INSERT OR UPDATE ON public.t_big FOR EACH ROW EXECUTE FUNCTION public.slow_down();
    -- ALWAYS: writers run with session_replication_role = replica, where ordinary user triggers do not fire
    ALTER TABLE public.t_big ENABLE ALWAYS TRIGGER slow_down;
  )SQL");
  std::string mark = "SELECT coalesce(max(point)::text, '') FROM pgcutover.watermarks WHERE table_name = 't_big' AND part = ''";
  std::string before = query_value(dst(), mark);
  PgcutoverProcess p({"sync", "--source", src(), "--target", dst(), "--overlap", "100ms", "--table", "public.t_big"});
  ASSERT_TRUE(p.wait_for_output("syncing changes up to", 30)) << p.err_so_far();
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(p.running()) << "the sync ended before the kill";
  p.send_signal(SIGKILL);
  p.wait(30);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(query_value(dst(), mark), before) << "the watermark moved although the sync did not finish";
  exec(dst(), "DROP TRIGGER slow_down ON public.t_big");
  RunResult r = run_pgcutover({"sync", "--source", src(), "--target", dst(), "--overlap", "100ms", "--table", "public.t_big"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(only_digest(src(), "public.t_big", "id"), only_digest(dst(), "public.t_big", "id"));
  EXPECT_NE(query_value(dst(), mark), before);
}

TEST_F(Sync, TypeChangeStopsTheTableWithAClearMessage) {
  TableDigest before = only_digest(dst(), "public.t_plain", "k");
  exec(src(), "ALTER TABLE t_plain ALTER COLUMN v TYPE varchar(40); UPDATE t_plain SET v = 'x' WHERE k < 5;"
              "UPDATE t_int SET v = 'still synced', updated_at = clock_timestamp() WHERE id = 1");
  RunResult r = run_pgcutover({"sync", "--source", src(), "--target", dst(), "--overlap", "100ms", "--allow-scan"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("public.t_plain: column \"v\" is character varying(40) on the source but text on the target"),
            std::string::npos) << r.err;
  EXPECT_NE(r.out.find("not synced: public.t_plain"), std::string::npos) << r.out;
  EXPECT_EQ(only_digest(dst(), "public.t_plain", "k"), before) << "the table was touched";
  EXPECT_EQ(query_value(dst(), "SELECT v FROM t_int WHERE id = 1"), "still synced") << "other tables must still sync";
}
