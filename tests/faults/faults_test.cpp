// Fault injection against real servers: SIGKILL at several points, SIGINT,
// two processes on one job, a target restart, bad inputs, and secrets. The
// target table has no primary key on purpose, so a range copied twice would
// show as extra rows instead of being absorbed by a key.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>
#include <cstdlib>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

struct Faults : ::testing::Test {
  std::string db = "faults";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), "CREATE TABLE public.work (id int PRIMARY KEY, v text);"
                "INSERT INTO public.work SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 20000) g; ANALYZE");
    // No key on the target (a double copy shows), and a row trigger that
    // slows COPY FROM so faults land mid-range.
    exec(dst(), R"SQL(
      CREATE TABLE public.work (id int, v text);
      CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(0.0003); RETURN NEW; END $$;
      CREATE TRIGGER slow_down BEFORE INSERT ON public.work FOR EACH ROW EXECUTE FUNCTION public.slow_down();
      -- ALWAYS: writers run with session_replication_role = replica, where ordinary user triggers do not fire
      ALTER TABLE public.work ENABLE ALWAYS TRIGGER slow_down;
    )SQL");
  }

  std::vector<std::string> args(std::vector<std::string> extra = {}, const std::string &jobs = "2") {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst(), "--table", "public.work",
                                  "--range-bytes", "1MB", "--jobs", jobs, "--retry-delay", "0.2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  long long target_rows() { return std::stoll(query_value(dst(), "SELECT count(*) FROM public.work")); }
  long long ledger_done_rows() {
    return std::stoll(query_value(dst(), "SELECT coalesce(sum(rows), 0) FROM pgcutover.ranges WHERE state = 'done'"));
  }
  // What is on the target is exactly the ranges the ledger marks done.
  void expect_consistent_with_ledger() {
    EXPECT_EQ(target_rows(), ledger_done_rows());
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM (SELECT id FROM public.work GROUP BY id HAVING count(*) > 1) d"), "0")
        << "some rows were copied twice";
  }
  void expect_exact() {
    EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id, v"));
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE state <> 'done'"), "0");
  }
};

}  // namespace

TEST_F(Faults, SigkillAtSeveralPointsThenRerunFinishesExactly) {
  for (auto delay : {600ms, 1400ms, 2300ms}) {
    PgcutoverProcess p(args());
    std::this_thread::sleep_for(delay);
    if (!p.running()) break;  // finished before the kill: nothing left to test at this point
    p.send_signal(SIGKILL);
    RunResult r = p.wait(60);
    EXPECT_EQ(r.exit_code, 128 + SIGKILL);
    std::this_thread::sleep_for(200ms);  // the servers notice the dead client
    expect_consistent_with_ledger();
  }
  EXPECT_LT(target_rows(), 20000) << "the kills came too late to test anything";
  RunResult r = run_pgcutover(args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming job"), std::string::npos) << r.err;
  expect_exact();
}

TEST_F(Faults, SigintRollsBackInFlightRangesAndSaysHowToResume) {
  PgcutoverProcess p(args());
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  std::this_thread::sleep_for(1200ms);
  p.send_signal(SIGINT);
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = p.wait(60);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "SIGINT took too long to stop the copy";
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rerun the same command"), std::string::npos) << r.err;
  std::this_thread::sleep_for(200ms);
  expect_consistent_with_ledger();
  EXPECT_LT(target_rows(), 20000);
  r = run_pgcutover(args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exact();
}

TEST_F(Faults, TwoProcessesShareOneJobAndCopyEachRangeOnce) {
  PgcutoverProcess a(args({}, "1"));
  PgcutoverProcess b(args({}, "1"));
  RunResult ra = a.wait(180), rb = b.wait(180);
  EXPECT_EQ(ra.exit_code, 0) << ra.err;
  EXPECT_EQ(rb.exit_code, 0) << rb.err;
  expect_exact();
  expect_consistent_with_ledger();
  EXPECT_EQ(query_value(dst(), "SELECT count(DISTINCT done_by) FROM pgcutover.ranges"), "2")
      << "both processes should have copied ranges";
}

TEST_F(Faults, TargetRestartMidCopyIsSurvivedByRetries) {
  PgcutoverProcess p(args());
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  std::this_thread::sleep_for(1000ms);
  target_cluster().restart();
  RunResult r = p.wait(180);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("retry 1/5"), std::string::npos) << r.err;
  expect_exact();
}

TEST_F(Faults, UnwritableSpillDirIsRefusedUpFront) {
  RunResult r = run_pgcutover(args({"--spill-dir", "/proc/pgcutover-cannot-write-here"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot write to the spill folder /proc/pgcutover-cannot-write-here"), std::string::npos) << r.err;
  EXPECT_EQ(target_rows(), 0);
}

TEST_F(Faults, LockTimeoutNamesTheLockHolder) {
  // Another session holds the target table locked; the copy gives up after the timeout.
  std::thread holder([&] {
    try {
      exec(dst(), "BEGIN; LOCK TABLE public.work IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT");
    } catch (...) {
    }
  });
  std::this_thread::sleep_for(500ms);
  RunResult r = run_pgcutover(args({"--lock-timeout", "1s", "--retries", "0"}));
  holder.join();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("lock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("AccessExclusiveLock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pg_sleep"), std::string::npos) << r.err;
  EXPECT_EQ(target_rows(), 0);
}

// Every place a run writes to: stdout, stderr (at debug level), --json, spill
// files and their manifest, the ledger, and every process's command line while
// it runs (pgcutover and its pg_dump / pg_restore children).
TEST_F(Faults, PasswordsNeverAppearAnywhere) {
  recreate_database(target_cluster(), "faults_secret");
  std::string pw = SECRET_PASSWORD;
  std::string src_uri = "postgresql://" + std::string(SECRET_USER) + ":" + pw + "@127.0.0.1:" +
                        std::to_string(source_cluster().port) + "/" + db;
  std::string dst_ci = "host=127.0.0.1 port=" + std::to_string(target_cluster().port) + " dbname=faults_secret user=" +
                       SECRET_USER + " password=" + pw;
  std::string spill = test_temp_path("pgcutover-secret-spill");
  std::filesystem::remove_all(spill);
  PgcutoverProcess p({"copy", "--source", src_uri, "--target", dst_ci, "--range-bytes", "1MB", "-v", "--json",
                      "--spill-dir", spill, "--keep-spill"});
  std::set<std::string> leaking;
  // argv holds the password from exec until main() scrubs it, first thing; from
  // the first line the process writes on, no command line may show it.
  ASSERT_TRUE(p.wait_for_output("pgcutover:", 30)) << p.err_so_far();
  while (p.running()) {
    if (DIR *d = opendir("/proc")) {
      while (dirent *e = readdir(d)) {
        std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline", std::ios::binary);
        std::string cmd((std::istreambuf_iterator<char>(f)), {});
        if (cmd.find(pw) != std::string::npos) leaking.insert(cmd);
      }
      closedir(d);
    }
    std::this_thread::sleep_for(10ms);
  }
  RunResult r = p.wait(60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(leaking.empty()) << "a command line shows the password: " << *leaking.begin();
  EXPECT_EQ(r.out.find(pw), std::string::npos);
  EXPECT_EQ(r.err.find(pw), std::string::npos);
  EXPECT_NE(r.err.find("debug"), std::string::npos) << "the run should have logged at debug level";
  for (auto &e : std::filesystem::directory_iterator(spill)) {
    std::ifstream f(e.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(f)), {});
    EXPECT_EQ(content.find(pw), std::string::npos) << e.path();
  }
  std::string ledger = query_value(target_cluster().conninfo("faults_secret"),
                                   "SELECT (SELECT string_agg(j::text, '') FROM pgcutover.jobs j) || "
                                   "(SELECT string_agg(r::text, '') FROM pgcutover.ranges r)");
  EXPECT_EQ(ledger.find(pw), std::string::npos);
  EXPECT_FALSE(ledger.empty());
  std::filesystem::remove_all(spill);
}

// A second signal exits at once; the servers roll back what was in flight.
TEST_F(Faults, SecondSignalExitsAtOnceWithoutHalfMergedRanges) {
  PgcutoverProcess p(args());
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  std::this_thread::sleep_for(1000ms);
  // Signals of one kind do not queue, and a clean stop takes milliseconds: keep
  // signalling every millisecond so a second one lands during the first's stop.
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 500 && p.running(); ++i) {
    p.send_signal(SIGINT);
    std::this_thread::sleep_for(1ms);
  }
  RunResult r = p.wait(30);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("second signal"), std::string::npos) << r.err;
  std::this_thread::sleep_for(300ms);
  expect_consistent_with_ledger();
  r = run_pgcutover(args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exact();
}

// A full target: the table lives in a tablespace on a 3 MB tmpfs. The range
// that hits the wall fails with a clear message and commits nothing; the
// ledger and the target still agree.
TEST_F(Faults, FullTargetDiskStopsTheRangeCleanly) {
  ASSERT_EQ(geteuid(), 0u) << "this test mounts a small tmpfs and needs root (CI and scripts/test.sh run as root)";
  std::string mnt = "/tmp/pgcutover-tiny-tablespace";
  std::filesystem::create_directories(mnt);
  ASSERT_EQ(std::system(("mount -t tmpfs -o size=3m tmpfs " + mnt + " && chown postgres " + mnt).c_str()), 0);
  struct Unmount {
    std::string m;
    ~Unmount() { (void)!std::system(("umount " + m + " 2>/dev/null; rmdir " + m + " 2>/dev/null").c_str()); }
  } unmount{mnt};
  exec(target_cluster().conninfo("postgres"), "CREATE TABLESPACE tiny LOCATION '" + mnt + "'");
  exec(dst(), "DROP TABLE public.work; CREATE TABLE public.work (id int, v text) TABLESPACE tiny");
  RunResult r = run_pgcutover(args({"--retries", "2"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("table public.work range"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ran out of disk space"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("retry 1/"), std::string::npos) << "a full disk is not worth retrying";
  expect_consistent_with_ledger();
  exec(dst(), "DROP TABLE public.work");
  exec(target_cluster().conninfo("postgres"), "DROP TABLESPACE tiny");
}
