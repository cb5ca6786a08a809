// Two runs on one target at once (issue 23, point 1): the target's run lock
// lets copies share it and gives a sync, a repair, a sequence reset, a load
// and finish the target to themselves; the run that cannot have it stops
// before writing anything and names the holder.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

struct TwoRuns : ::testing::Test {
  std::string db = "faults_two_runs";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE TABLE public.acct (id int PRIMARY KEY, v text, n int NOT NULL DEFAULT 0,
                                updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE INDEX ON public.acct (updated_at);
      INSERT INTO public.acct (id, v) SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 40000) g;
      ANALYZE;
    )SQL");
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::vector<std::string> sync_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"sync", "--source", src(), "--target", dst(), "--overlap", "100ms", "--jobs", "1",
                                  "--range-bytes", "1MB"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

// Writes on the source until stopped; every statement must succeed.
struct Traffic {
  std::atomic<bool> stop{false};
  std::atomic<long> writes{0};
  std::string error;
  std::thread thread;
  explicit Traffic(std::string conninfo) {
    thread = std::thread([this, conninfo] {
      try {
        for (long i = 0; !stop.load(); ++i) {
          exec(conninfo, "UPDATE public.acct SET n = n + 1, v = md5(v), updated_at = clock_timestamp() WHERE id % 97 = " +
                             std::to_string(i % 97));
          ++writes;
        }
      } catch (const std::exception &e) {
        error = e.what();
      }
    });
  }
  void finish() {
    stop = true;
    thread.join();
    ASSERT_EQ(error, "") << "the traffic's writes failed";
    ASSERT_GT(writes.load(), 10) << "the traffic wrote (almost) nothing: the test proves nothing";
  }
};

}  // namespace

// Two syncs started together under live traffic: one runs, the other stops
// before writing anything and names the one that runs; the target then ends
// equal to the source.
TEST_F(TwoRuns, TwoSyncsStartedTogetherOneRunsTheOtherNamesIt) {
  Traffic traffic(src());
  std::this_thread::sleep_for(500ms);
  // A slow first sync: the second one starts while it holds the target.
  exec(dst(), R"SQL(
    CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0005); RETURN NEW; END $$;
    CREATE TRIGGER slow BEFORE INSERT OR UPDATE ON public.acct FOR EACH ROW EXECUTE FUNCTION public.slow();
    ALTER TABLE public.acct ENABLE ALWAYS TRIGGER slow;
  )SQL");
  PgcutoverProcess a(sync_args());
  PgcutoverProcess b(sync_args());
  RunResult ra = a.wait(180), rb = b.wait(180);
  int ok = (ra.exit_code == 0) + (rb.exit_code == 0);
  ASSERT_EQ(ok, 1) << "exactly one of two syncs at once may run\nA: " << ra.err << "\nB: " << rb.err;
  const RunResult &refused = ra.exit_code == 0 ? rb : ra;
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("in use by pgcutover sync ("), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(", since 20"), std::string::npos) << "the holder's start time" << refused.err;
  EXPECT_NE(refused.err.find("nothing was written"), std::string::npos) << refused.err;
  exec(dst(), "DROP TRIGGER slow ON public.acct");
  traffic.finish();
  RunResult f = run_pgcutover(sync_args({"--final"}));
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(expect_same_content(src(), dst()), 1);
}

// A copy shares the target with copies only: a sync, a repair, a sequence
// reset and finish started while it runs refuse naming it, and write nothing.
TEST_F(TwoRuns, WhileACopyRunsNoSyncRepairOrFinishStarts) {
  exec(src(), "CREATE TABLE public.more (id int PRIMARY KEY, v text);"
              "INSERT INTO public.more SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
  exec(dst(), R"SQL(
    CREATE TABLE public.more (id int PRIMARY KEY, v text);
    CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0005); RETURN NEW; END $$;
    CREATE TRIGGER slow BEFORE INSERT ON public.more FOR EACH ROW EXECUTE FUNCTION public.slow();
    ALTER TABLE public.more ENABLE ALWAYS TRIGGER slow;
  )SQL");
  std::string watermarks = query_value(dst(), "SELECT string_agg(point::text || part, ',' ORDER BY table_name, part) FROM pgcutover.watermarks WHERE table_name = 'acct'");
  PgcutoverProcess copy({"copy", "--source", src(), "--target", dst(), "--table", "public.more", "--jobs", "1",
                         "--range-bytes", "1MB"});
  ASSERT_TRUE(copy.wait_for_output("copying 1 table(s)", 60)) << copy.err_so_far();
  for (std::vector<std::string> cmd :
       {sync_args(), std::vector<std::string>{"verify", "--source", src(), "--target", dst(), "--repair"},
        std::vector<std::string>{"sequences", "--source", src(), "--target", dst()},
        std::vector<std::string>{"finish", "--target", dst(), "--force"}}) {
    RunResult r = run_pgcutover(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd[0] << ": " << r.err;
    EXPECT_NE(r.err.find("in use by pgcutover copy ("), std::string::npos) << cmd[0] << ": " << r.err;
  }
  ASSERT_TRUE(copy.running()) << "the copy ended before the other commands ran: the test proves nothing";
  RunResult c = copy.wait(180);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(query_value(dst(), "SELECT string_agg(point::text || part, ',' ORDER BY table_name, part) FROM pgcutover.watermarks WHERE table_name = 'acct'"),
            watermarks) << "a refused sync moved a watermark";
  EXPECT_EQ(table_digest(src(), "public.more", "id"), table_digest(dst(), "public.more", "id"));
  // Then each of them runs.
  RunResult s = run_pgcutover(sync_args());
  EXPECT_EQ(s.exit_code, 0) << s.err;
}
