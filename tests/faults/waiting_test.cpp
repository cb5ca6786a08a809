// Waiting is bounded: a peer that accepts TCP and never answers, and the loss
// of the session that holds the copy's snapshot.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "pg_cluster.hpp"
#include "pgcutover/pg/connection.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

// A TCP port that completes handshakes (the kernel's backlog) and never says a word.
struct SilentListener {
  int fd = -1;
  int port = 0;
  SilentListener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd); }
  std::string conninfo() const { return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=x user=postgres"; }
};

}  // namespace

TEST(Waiting, SilentPeerEndsWithConnectTimeout) {
  SilentListener silent;
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = run_pgcutover({"copy", "--source", silent.conninfo(), "--target", target_cluster().conninfo()}, {}, 60);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot connect to the source"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no answer within 10 s"), std::string::npos) << r.err;
  EXPECT_LT(took, 20s);
  // The conninfo's own connect_timeout wins.
  t0 = std::chrono::steady_clock::now();
  r = run_pgcutover({"copy", "--source", silent.conninfo() + " connect_timeout=2", "--target", target_cluster().conninfo()},
                    {}, 60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("no answer within 2 s"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
}

TEST(Waiting, SignalDuringConnectEndsAtOnce) {
  SilentListener silent;
  PgcutoverProcess p({"copy", "--source", silent.conninfo() + " connect_timeout=0", "--target", target_cluster().conninfo()});
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(p.running()) << p.err_so_far();
  auto t0 = std::chrono::steady_clock::now();
  p.send_signal(SIGTERM);
  RunResult r = p.wait(30);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_NE(r.err.find("interrupted by SIGTERM"), std::string::npos) << r.err;
}

// main() says what an interrupted run left behind, per command: verify only
// reads, so "rolled back" would be a false comfort (and a false alarm). And a
// run blocked in a statement (here a lock wait) stops at once on the signal.
TEST(Interrupted, VerifySaysItWroteNothing) {
  recreate_database(source_cluster(), "faults_intr");
  recreate_database(target_cluster(), "faults_intr");
  std::string src = source_cluster().conninfo("faults_intr"), dst = target_cluster().conninfo("faults_intr");
  for (const std::string &c : {src, dst})
    exec(c, "CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t SELECT generate_series(1, 1000)");
  // The source table is locked for a while, so verify is still at work when the signal comes.
  std::thread holder([&] {
    try {
      exec(src, "BEGIN; LOCK TABLE public.t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT");
    } catch (...) {
    }
  });
  std::this_thread::sleep_for(500ms);
  PgcutoverProcess p({"verify", "--source", src, "--target", dst});
  std::this_thread::sleep_for(1500ms);
  bool was_running = p.running();
  p.send_signal(SIGINT);
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = p.wait(60);
  auto took = std::chrono::steady_clock::now() - t0;
  holder.join();
  ASSERT_TRUE(was_running) << r.err;
  EXPECT_LT(took, 2s) << "the run waited for the lock after the signal";
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted by SIGINT: verify only reads: nothing was written"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("rolled back"), std::string::npos) << r.err;
}

// The session holding the copy's snapshot is terminated mid-copy: the run
// stops after the ranges in flight, says what happened and that a rerun
// resumes; the rerun finishes exactly.
TEST(Waiting, SnapshotHolderLossEndsTheRunAndARerunResumes) {
  std::string db = "faults_holder";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, "CREATE TABLE public.work (id int PRIMARY KEY, v text);"
            "INSERT INTO public.work SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 20000) g; ANALYZE");
  exec(dst, R"SQL(
    CREATE TABLE public.work (id int, v text);
    CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(0.0003); RETURN NEW; END $$;
    CREATE TRIGGER slow_down BEFORE INSERT ON public.work FOR EACH ROW EXECUTE FUNCTION public.slow_down();
    ALTER TABLE public.work ENABLE ALWAYS TRIGGER slow_down;
  )SQL");
  std::vector<std::string> args = {"copy", "--source", src, "--target", dst, "--table", "public.work",
                                   "--range-bytes", "1MB", "--jobs", "2", "--retry-delay", "0.2"};
  PgcutoverProcess p(args);
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  std::string err = p.err_so_far();
  size_t at = err.find("held by source pid ");
  ASSERT_NE(at, std::string::npos) << err;
  std::string pid = std::to_string(std::stoi(err.substr(at + 19)));
  std::this_thread::sleep_for(1000ms);
  ASSERT_EQ(query_value(src, "SELECT pg_terminate_backend(" + pid + ")"), "t");
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = p.wait(60);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("the source session holding the copy's snapshot"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rerun the same command to resume"), std::string::npos) << r.err;
  long long rows = std::stoll(query_value(dst, "SELECT count(*) FROM public.work"));
  EXPECT_LT(rows, 20000) << "the copy finished before the holder was lost: nothing tested";
  EXPECT_EQ(std::to_string(rows),
            query_value(dst, "SELECT coalesce(sum(rows), 0) FROM pgcutover.ranges WHERE state = 'done'"));
  r = run_pgcutover(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming job"), std::string::npos) << r.err;
  EXPECT_EQ(table_digest(src, "public.work", "id"), table_digest(dst, "public.work", "id, v"));
}

// A copy without --lock-timeout waits for a lock a session holds on the target
// table: the run says so on stderr, naming the table, the server and the
// holder, and goes on once the lock is released.
TEST(Waiting, LockWaitIsReportedWithItsHolder) {
  std::string db = "faults_lockwait";
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  exec(src, "CREATE TABLE public.work (id int PRIMARY KEY, v text);"
            "INSERT INTO public.work SELECT g, md5(g::text) FROM generate_series(1, 5000) g; ANALYZE");
  exec(dst, "CREATE TABLE public.work (id int PRIMARY KEY, v text)");
  pgcutover::pg::SessionSettings settings;
  settings.role = "target";
  settings.application_name = "locker";
  pgcutover::pg::Connection holder = pgcutover::pg::Connection::open(dst, settings);
  std::string pid(holder.exec("SELECT pg_backend_pid()").get(0, 0));
  holder.exec("BEGIN");
  holder.exec("LOCK TABLE public.work IN ACCESS EXCLUSIVE MODE");
  PgcutoverProcess p({"copy", "--source", src, "--target", dst, "--table", "public.work"});
  bool seen = p.wait_for_output("for a lock on public.work (target): held by pid " + pid, 30);
  std::string err = p.err_so_far();
  holder.exec("COMMIT");
  RunResult r = p.wait(60);
  ASSERT_TRUE(seen) << "no waiting line naming the table and the holder:\n" << r.err;
  EXPECT_NE(err.find("application locker, mode AccessExclusiveLock"), std::string::npos) << err;
  EXPECT_NE(err.find("query \"LOCK TABLE public.work IN ACCESS EXCLUSIVE MODE\""), std::string::npos) << err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(table_digest(src, "public.work", "id"), table_digest(dst, "public.work", "id"));
}
