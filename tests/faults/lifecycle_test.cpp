// The job lifecycle: a copy job is finished only after every phase, ledger
// writes check what they changed, and a rerun of a finished job does nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "compare.hpp"
#include "pg_cluster.hpp"
#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pg/connection.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

struct Lifecycle : ::testing::Test {
  std::string db = "faults_life";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    const char *table = "CREATE TABLE public.t (id bigserial PRIMARY KEY, v text);";
    exec(src(), std::string(table) + "INSERT INTO public.t (v) SELECT md5(g::text) FROM generate_series(1, 3000) g");
    exec(dst(), table);
  }
  std::vector<std::string> copy(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst(), "--table", "public.t"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  // Changes whenever any row of the target is written again.
  std::string row_versions() { return query_value(dst(), "SELECT sum(xmin::text::bigint) || '/' || count(*) FROM public.t"); }
  std::string job_state() { return query_value(dst(), "SELECT string_agg(state, ',') FROM pgcutover.jobs"); }
};

}  // namespace

TEST_F(Lifecycle, RerunOfAFinishedCopyDoesNothingAndSaysSo) {
  RunResult r = run_pgcutover(copy());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(job_state(), "finished");
  std::string before = row_versions();
  r = run_pgcutover(copy());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("already finished"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--restart"), std::string::npos) << r.out;
  EXPECT_EQ(row_versions(), before) << "a rerun of a finished copy wrote the rows again";
  // --json says it too.
  r = run_pgcutover(copy({"--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"already_finished\": true"), std::string::npos) << r.out;
  // --restart copies again.
  r = run_pgcutover(copy({"--restart"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(row_versions(), before) << "--restart should copy again";
  EXPECT_EQ(table_digest(src(), "public.t", "id"), table_digest(dst(), "public.t", "id"));
  EXPECT_EQ(job_state(), "finished");
}

// The sequences phase fails (a lock on the target's sequence outlasts
// --lock-timeout) after every range is in: the job stays running, and a
// rerun finishes it, sequences included.
TEST_F(Lifecycle, JobIsFinishedOnlyAfterItsSequences) {
  std::thread holder([&] {
    try {
      exec(dst(), "BEGIN; ALTER SEQUENCE public.t_id_seq CACHE 1; SELECT pg_sleep(8); COMMIT");
    } catch (...) {
    }
  });
  std::this_thread::sleep_for(500ms);
  RunResult r = run_pgcutover(copy({"--lock-timeout", "1s", "--retries", "0"}));
  holder.join();
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("lock"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE state <> 'done'"), "0")
      << "the data phase should have ended before the sequences";
  EXPECT_EQ(job_state(), "running") << "the job was marked finished before its sequences were set";
  r = run_pgcutover(copy());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("already finished"), std::string::npos) << r.out;
  EXPECT_EQ(job_state(), "finished");
  EXPECT_EQ(query_value(dst(), "SELECT last_value FROM public.t_id_seq"), "3000");
  EXPECT_EQ(table_digest(src(), "public.t", "id"), table_digest(dst(), "public.t", "id"));
}

// Marking a range done changes exactly one pending row, or fails (and the
// range's transaction rolls back): a range that is not in the job any more,
// or was marked already, is never counted as copied.
TEST_F(Lifecycle, MarkDoneChecksThatItMarkedOneRange) {
  pgcutover::pg::SessionSettings settings;
  settings.role = "target";
  pgcutover::pg::Connection c = pgcutover::pg::Connection::open(dst(), settings);
  pgcutover::ledger::Ledger ledger("pgcutover", "some-job");
  ledger.ensure_tables(c);
  exec(dst(), "INSERT INTO pgcutover.jobs (job, command, source, plan) VALUES ('some-job', 'copy', 'x', '[]');"
              "INSERT INTO pgcutover.ranges (job, table_schema, table_name, range_id, planned_bytes, strategy, format) "
              "VALUES ('some-job', 'public', 't', 1, 0, 'direct', 'binary')");
  pgcutover::pg::SnapshotInfo snap;
  snap.id = "s";
  snap.changes_from = "2024-01-01T00:00:00Z";
  snap.xmin = "1";
  EXPECT_THROW(ledger.mark_done(c, {"public", "t"}, 2, 1, 1, snap, "2024-01-01T00:00:00Z"), pgcutover::Error)
      << "marking a range that is not in the job passed";
  EXPECT_NO_THROW(ledger.mark_done(c, {"public", "t"}, 1, 1, 1, snap, "2024-01-01T00:00:00Z"));
  EXPECT_THROW(ledger.mark_done(c, {"public", "t"}, 1, 1, 1, snap, "2024-01-01T00:00:00Z"), pgcutover::Error)
      << "marking a range done twice passed";
  pgcutover::ledger::Ledger other("pgcutover", "no-such-job");
  EXPECT_THROW(other.set_state(c, "finished", "post_data_done"), pgcutover::Error);
}

// --restart from a second process while a first one still runs the old plan:
// the restart fences the job (a new generation), the first process's next
// claim fails, its range in flight rolls back, and it stops saying so. Every
// range of the new plan is marked by the process that restarted it.
TEST(Restart, OldWorkerIsFencedOutOfTheRestartedJob) {
  std::string db = "faults_restart";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, "CREATE TABLE public.work (id int PRIMARY KEY, v text);"
            "INSERT INTO public.work SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 20000) g; ANALYZE");
  // A slow target: each range takes a fraction of a second.
  exec(dst, R"SQL(
    CREATE TABLE public.work (id int PRIMARY KEY, v text);
    CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(0.0003); RETURN NEW; END $$;
    CREATE TRIGGER slow_down BEFORE INSERT ON public.work FOR EACH ROW EXECUTE FUNCTION public.slow_down();
    ALTER TABLE public.work ENABLE ALWAYS TRIGGER slow_down;
  )SQL");
  std::vector<std::string> args = {"copy", "--source", src, "--target", dst, "--table", "public.work",
                                   "--range-bytes", "1MB", "--jobs", "1"};
  PgcutoverProcess old_worker(args);
  auto done = [&] {
    try {
      return std::stoi(query_value(dst, "SELECT count(*) FROM pgcutover.ranges WHERE state = 'done'"));
    } catch (...) {
      return 0;
    }
  };
  for (int i = 0; i < 600 && done() < 2 && old_worker.running(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_GE(done(), 2) << old_worker.err_so_far();
  int total = std::stoi(query_value(dst, "SELECT count(*) FROM pgcutover.ranges"));
  ASSERT_LT(done(), total - 3) << "the first copy is nearly done: nothing tested";
  std::vector<std::string> restart = args;
  restart.push_back("--restart");
  RunResult r = run_pgcutover(restart);
  RunResult old = old_worker.wait(120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(old.exit_code, 0) << old.err;
  EXPECT_NE(old.err.find("the job was restarted by"), std::string::npos) << old.err;
  EXPECT_NE(old.err.find("this process stops"), std::string::npos) << old.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pgcutover.ranges WHERE state <> 'done'"), "0");
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pgcutover.ranges WHERE done_by LIKE '%:" +
                                 std::to_string(old_worker.pid()) + "'"),
            "0")
      << "the process running the old plan marked ranges of the restarted job";
  EXPECT_EQ(query_value(dst, "SELECT string_agg(state, ',') FROM pgcutover.jobs"), "finished");
  EXPECT_EQ(expect_same_content(src, dst), 1);
}
