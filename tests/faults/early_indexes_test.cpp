// Indexes overlapped with the data (issue 15): a table the copy created gets
// its own indexes and key constraints as soon as its last range is done,
// while another table's ranges still load, and a foreign key between two
// such tables once both are in; a foreign key to the partitioned parent, the
// parent's key and the ATTACH items come after all the data. When each
// CREATE INDEX / ADD CONSTRAINT ran is read from an event trigger on the
// target (clock_timestamp() per DDL command), and compared with the ledger's
// done time of the slow table's range: both are the server's clock, neither
// comes from the code under test. A kill after the early build and a rerun
// builds nothing twice. The target's indexes and constraints must equal the
// source's (pg_get_indexdef / pg_get_constraintdef, by name).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

namespace {

struct EarlyIndexes : ::testing::Test {
  std::string db = "early_indexes";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    // quick: small, created by the copy, done long before slow. parted: a
    // partitioned table (its leaves' indexes early, the parent's key and the
    // ATTACH items at the end) that quick references.
    exec(src(), R"SQL(
      CREATE TABLE public.parted (id int, k int, note text, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
      CREATE TABLE public.parted_1 PARTITION OF public.parted FOR VALUES IN (1);
      CREATE TABLE public.parted_2 PARTITION OF public.parted FOR VALUES IN (2);
      CREATE INDEX parted_note_idx ON public.parted (note);
      INSERT INTO public.parted SELECT g, 1 + g % 2, 'n' || g FROM generate_series(1, 2000) g;
      CREATE TABLE public.kinds (code text PRIMARY KEY);
      INSERT INTO public.kinds VALUES ('a'), ('b');
      CREATE TABLE public.quick (id int PRIMARY KEY, email text NOT NULL, pid int, pk int,
                                 kind text NOT NULL CONSTRAINT quick_kind_fkey REFERENCES public.kinds,
                                 CONSTRAINT quick_email_key UNIQUE (email),
                                 CONSTRAINT quick_parted_fkey FOREIGN KEY (pid, pk) REFERENCES public.parted (id, k));
      CREATE INDEX quick_pid_idx ON public.quick (pid);
      COMMENT ON INDEX public.quick_pid_idx IS 'by parent';
      INSERT INTO public.quick SELECT g, 'user' || g || '@example.com', g, 1 + g % 2, substr('ab', 1 + g % 2, 1)
        FROM generate_series(1, 2000) g;
      CREATE TABLE public.slow (id int PRIMARY KEY, v text);
      INSERT INTO public.slow SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 8000) g;
      ANALYZE;
    )SQL");
    // slow exists on the target already, with an ALWAYS trigger that makes its
    // one range take about 4 s. The event trigger logs every DDL command.
    exec(dst(), R"SQL(
      CREATE TABLE public.slow (id int PRIMARY KEY, v text);
      CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(0.0005); RETURN NEW; END $$;
      CREATE TRIGGER slow_down BEFORE INSERT ON public.slow FOR EACH ROW EXECUTE FUNCTION public.slow_down();
      ALTER TABLE public.slow ENABLE ALWAYS TRIGGER slow_down;
      CREATE SCHEMA audit;
      CREATE TABLE audit.ddl_log (at timestamptz NOT NULL, tag text NOT NULL, obj text NOT NULL, q text NOT NULL);
      CREATE FUNCTION audit.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
            INSERT INTO audit.ddl_log VALUES (clock_timestamp(), r.command_tag, r.object_identity, current_query());
          END LOOP;
        END $$;
      CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION audit.log_ddl();
      ALTER EVENT TRIGGER log_ddl ENABLE ALWAYS;
    )SQL");
  }

  std::vector<std::string> copy_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst(), "--jobs", "2", "--json"};
    if (extra.empty()) extra = {"--index-builds", "during-data"};  // both servers are local: auto builds after the data
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // When slow's one range was marked done (the server's clock).
  std::string slow_done_at() {
    return query_value(dst(), "SELECT max(finished_at)::text FROM pgcutover.ranges WHERE table_name = 'slow'");
  }
  // Whether the statements pg_restore sent that contain `text` ran before
  // slow's range was done ("not logged" when none did).
  std::string logged_before_slow_done(const std::string &text) {
    return query_value(dst(), "SELECT coalesce(bool_and(l.at < (SELECT max(finished_at) FROM pgcutover.ranges"
                              " WHERE table_name = 'slow'))::text, 'not logged') FROM audit.ddl_log l WHERE l.q LIKE '%" +
                                  text + " %'");
  }
  std::string times_logged(const std::string &text) {
    return query_value(dst(), "SELECT count(*) FROM audit.ddl_log WHERE q LIKE '%" + text + " %'");
  }

  // Every index and constraint of the three tables, by name, with its definition.
  static std::string post_data_of(const std::string &conninfo) {
    return query_value(conninfo, R"SQL(
      SELECT string_agg(d, E'\n' ORDER BY d) FROM (
        SELECT 'index ' || i.relname || ': ' || pg_get_indexdef(i.oid) || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END AS d
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         WHERE t.relnamespace = 'public'::regnamespace AND t.relname IN ('parted', 'parted_1', 'parted_2', 'quick', 'slow', 'kinds')
        UNION ALL
        SELECT 'constraint ' || t.relname || '.' || c.conname || ': ' || pg_get_constraintdef(c.oid) || ' '
               || c.convalidated::text
          FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
         WHERE t.relnamespace = 'public'::regnamespace AND t.relname IN ('parted', 'parted_1', 'parted_2', 'quick', 'slow', 'kinds')
        UNION ALL
        SELECT 'comment ' || obj_description('public.quick_pid_idx'::regclass, 'pg_class')) s)SQL");
  }

  void expect_same_tables() {
    for (const char *t : {"public.parted", "public.quick", "public.slow"})
      EXPECT_EQ(table_digest(src(), t, "id"), table_digest(dst(), t, "id")) << t;
    EXPECT_EQ(table_digest(src(), "public.kinds", "code"), table_digest(dst(), "public.kinds", "code"));
    EXPECT_EQ(post_data_of(src()), post_data_of(dst()));
  }
};

}  // namespace

TEST_F(EarlyIndexes, CreatedTablesGetTheirIndexesWhileOtherDataLoads) {
  RunResult r = run_pgcutover(copy_args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_TRUE(j.contains("post_data")) << r.out;
  std::vector<std::string> early;
  for (const auto &b : j["post_data"]["during_data"]) early.push_back(b["table"]);
  std::sort(early.begin(), early.end());
  EXPECT_EQ(early, (std::vector<std::string>{"public.kinds", "public.parted_1", "public.parted_2", "public.quick"}))
      << r.out;
  EXPECT_GT(j["post_data"]["after_data_items"].get<int>(), 0) << r.out;  // the foreign key, parent key, ATTACH, comment

  ASSERT_NE(slow_done_at(), "");
  // quick's own index and key constraints, and the leaves' keys, were built
  // while slow still loaded ...
  EXPECT_EQ(logged_before_slow_done("CREATE INDEX quick_pid_idx"), "true");
  EXPECT_EQ(logged_before_slow_done("ADD CONSTRAINT quick_email_key"), "true");
  EXPECT_EQ(logged_before_slow_done("ADD CONSTRAINT quick_pkey"), "true");
  EXPECT_EQ(logged_before_slow_done("ADD CONSTRAINT parted_1_pkey"), "true");
  EXPECT_EQ(logged_before_slow_done("CREATE INDEX parted_2_note_idx"), "true");
  // A foreign key between two plain tables, both in: checked early too ...
  EXPECT_EQ(logged_before_slow_done("ADD CONSTRAINT quick_kind_fkey"), "true");
  // ... one to the partitioned table, and the parent's key, after all the data.
  EXPECT_EQ(logged_before_slow_done("ADD CONSTRAINT quick_parted_fkey"), "false");
  EXPECT_EQ(logged_before_slow_done("ADD CONSTRAINT parted_pkey"), "false");
  expect_same_tables();
}

TEST_F(EarlyIndexes, AfterDataOnRequest) {
  // Both servers on this machine: auto builds after the data, as --index-builds after-data does.
  for (const char *choice : {"after-data", "auto"}) {
    if (std::string(choice) == "auto") SetUp();  // both databases afresh
    RunResult r = run_pgcutover(copy_args({"--index-builds", choice}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_TRUE(j["post_data"]["during_data"].empty()) << choice << ": " << r.out;
    EXPECT_NE(j["post_data"]["index_builds"].get<std::string>().find("after the data"), std::string::npos) << r.out;
    EXPECT_EQ(logged_before_slow_done("CREATE INDEX quick_pid_idx"), "false") << choice;
    EXPECT_EQ(logged_before_slow_done("ADD CONSTRAINT quick_pkey"), "false") << choice;
    expect_same_tables();
  }
}

TEST_F(EarlyIndexes, KilledAfterAnEarlyBuildTheRerunBuildsOnlyWhatIsMissing) {
  {
    PgcutoverProcess p(copy_args());
    // Wait for quick's early index, then kill the copy while slow still loads.
    std::string seen = "0";
    for (int i = 0; i < 200 && seen == "0" && p.running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      seen = times_logged("CREATE INDEX quick_pid_idx");
    }
    ASSERT_EQ(seen, "1") << "quick's index was not built while slow loaded; stderr: " << p.err_so_far();
    ASSERT_TRUE(p.running()) << p.err_so_far();
    p.send_signal(SIGKILL);
    RunResult killed = p.wait(60);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL);
  }
  ASSERT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE table_name = 'slow' AND state = 'done'"), "0");
  RunResult r = run_pgcutover(copy_args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_TRUE(j["resumed"].get<bool>()) << r.out;
  // Nothing built twice (pg_restore would have failed on "already exists"),
  // nothing missing: every item ran exactly once over the two runs.
  for (const char *item : {"CREATE INDEX quick_pid_idx", "ADD CONSTRAINT quick_pkey", "ADD CONSTRAINT quick_email_key",
                           "ADD CONSTRAINT quick_kind_fkey", "ADD CONSTRAINT quick_parted_fkey",
                           "ADD CONSTRAINT kinds_pkey", "ADD CONSTRAINT parted_1_pkey", "ADD CONSTRAINT parted_pkey"})
    EXPECT_EQ(times_logged(item), "1") << item;
  expect_same_tables();
}
