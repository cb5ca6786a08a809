// The post-data phase obeys the same rules as the data phase (issue 23,
// point 7): while pg_restore builds indexes and constraints after the data,
// a signal stops its processes with pgcutover and the run exits 130/143 at
// once; a lock met there is shown and bounded by --lock-timeout; a rerun
// after a stop finishes the job. An index on a deliberately slow immutable
// function keeps pg_restore busy long enough to be interrupted (pg_sleep's
// granularity makes each row take about a millisecond: 5 s for the index).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

struct PostData : ::testing::Test {
  std::string db = "faults_post_data";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE FUNCTION public.slow_key(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
        $$ BEGIN PERFORM pg_catalog.pg_sleep(0.0002); RETURN i; END $$;
      CREATE TABLE public.parent (id int PRIMARY KEY, name text);
      CREATE TABLE public.child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES public.parent, v text);
      INSERT INTO public.parent SELECT g, 'p' || g FROM generate_series(1, 100) g;
      INSERT INTO public.child SELECT g, 1 + g % 100, md5(g::text) FROM generate_series(1, 5000) g;
      CREATE INDEX child_slow ON public.child (public.slow_key(id));
      CREATE INDEX child_v ON public.child (v);
      ANALYZE;
    )SQL");
  }
  std::vector<std::string> copy(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst(), "--jobs", "2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  // Sessions of pgcutover or its children still at work on the target.
  int tool_sessions() {
    return std::stoi(query_value(dst(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND application_name IN ('pgcutover', 'pg_restore') AND pid <> pg_backend_pid()"));
  }
  bool sessions_gone_within(std::chrono::seconds limit) {
    for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(200ms))
      if (tool_sessions() == 0) return true;
    return false;
  }
  std::string indexes(const std::string &conninfo) {
    return query_value(conninfo, "SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'") +
           " | " + query_value(conninfo, "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint "
                                         "WHERE connamespace = 'public'::regnamespace");
  }
  void expect_finished_exactly() {
    EXPECT_EQ(indexes(src()), indexes(dst()));
    EXPECT_EQ(expect_same_content(src(), dst()), 2);
    EXPECT_EQ(query_value(dst(), "SELECT string_agg(state || '/' || schema_state, ',') FROM pgcutover.jobs"),
              "finished/post_data_done");
  }
};

}  // namespace

TEST_F(PostData, ASignalStopsPgRestoreWithTheRunAndARerunFinishes) {
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
    recreate_database(target_cluster(), db);
    PgcutoverProcess p(copy());
    ASSERT_TRUE(p.wait_for_output("post-data item(s)", 120)) << p.err_so_far();
    std::this_thread::sleep_for(1500ms);  // pg_restore is building the slow index now
    ASSERT_GT(tool_sessions(), 0) << "pg_restore is not at work: the test lost its point\n" << p.err_so_far();
    auto t0 = std::chrono::steady_clock::now();
    p.send_signal(sig);
    RunResult r = p.wait(60);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "the signal did not stop the post-data phase";
    EXPECT_EQ(r.exit_code, 128 + sig) << r.err;
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    EXPECT_TRUE(sessions_gone_within(3s)) << "pg_restore went on writing to the target after pgcutover stopped";
    RunResult again = run_pgcutover(copy(), {}, 300);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    expect_finished_exactly();
  }
}

TEST_F(PostData, ASecondSignalExitsAtOnceAndLeavesNoChildBehind) {
  PgcutoverProcess p(copy());
  ASSERT_TRUE(p.wait_for_output("post-data item(s)", 120)) << p.err_so_far();
  std::this_thread::sleep_for(1500ms);
  ASSERT_GT(tool_sessions(), 0) << "pg_restore is not at work: the test lost its point\n" << p.err_so_far();
  auto t0 = std::chrono::steady_clock::now();
  p.send_signal(SIGTERM);
  std::this_thread::sleep_for(100ms);
  p.send_signal(SIGTERM);
  RunResult r = p.wait(60);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_TRUE(sessions_gone_within(3s)) << "pg_restore went on writing to the target after pgcutover exited";
  RunResult again = run_pgcutover(copy(), {}, 300);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  expect_finished_exactly();
}

// A lock held on a table the post-data needs (the foreign key locks its
// parent, which the target already has and which the copy merges into): the
// wait is shown, naming the holder, and --lock-timeout ends it, although
// pg_restore's sessions set lock_timeout = 0; once the lock is gone a rerun
// finishes.
TEST_F(PostData, ALockInThePostDataIsShownAndBoundedByLockTimeout) {
  exec(dst(), "CREATE TABLE public.parent (id int PRIMARY KEY, name text);"
              "INSERT INTO public.parent SELECT g, 'p' || g FROM generate_series(1, 100) g");
  std::string holder_error;
  std::thread holder([&] {
    try {
      exec(dst(), "BEGIN; LOCK TABLE public.parent IN ROW EXCLUSIVE MODE; SELECT pg_sleep(40); COMMIT");
    } catch (const std::exception &e) {
      holder_error = e.what();
    }
  });
  std::this_thread::sleep_for(500ms);
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = run_pgcutover(copy({"--table", "public.child", "--with-fk-parents", "--lock-timeout", "4s"}), {}, 120);
  auto waited = std::chrono::steady_clock::now() - t0;
  exec(target_cluster().conninfo(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(40)%' "
                                    "AND pid <> pg_backend_pid()");
  holder.join();
  EXPECT_NE(r.exit_code, 0) << "the post-data waited out the lock instead of giving up: " << r.err;
  EXPECT_LT(waited, 30s) << "--lock-timeout 4s did not bound the post-data's wait";
  EXPECT_NE(r.err.find("ADD CONSTRAINT child_parent_id_fkey"), std::string::npos) << "not the post-data's wait: " << r.err;
  EXPECT_NE(r.err.find("lock timeout: gave up after --lock-timeout 4s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("waiting"), std::string::npos) << "the wait was not shown: " << r.err;
  EXPECT_NE(r.err.find("pg_sleep(40)"), std::string::npos) << "the holder was not named: " << r.err;
  RunResult again = run_pgcutover(copy({"--table", "public.child", "--with-fk-parents"}), {}, 300);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(indexes(src()), indexes(dst()));
  EXPECT_EQ(expect_same_content(src(), dst()), 2);
}
