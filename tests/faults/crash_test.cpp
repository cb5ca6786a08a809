// Crashes of the target (issue 23, point 6): a crash of the target loses
// nothing that the ledger calls done.
//
// The fixture's servers run with fsync and synchronous_commit off, so the
// copy's asynchronous range commits (and the one synchronous commit that makes
// them durable at the end of the data) are never put to the test there. Here
// the target is a cluster of its own with fsync, synchronous_commit and
// full_page_writes on, and its postmaster is killed with SIGKILL at random
// points of a copy and of a sync, while range commits are in flight. Its
// children exit once they notice (they are waited for), the cluster is started
// again (crash recovery, checked in its log), the run ends by itself (exit 0
// when its retries outlast the restart, else 1 with a message naming the
// target; never a hang: every wait is bounded) and the same command is run
// again until it exits 0.
//
// A SIGKILL of the postmaster loses only the WAL still in the server's WAL
// buffers: what the WAL writer (every 200 ms, or sooner) has handed to the
// kernel survives it. So most kills are preceded by a random moment with the
// WAL writer stopped (SIGSTOP, as a busy machine may not schedule it), and the
// crash then takes back range commits pgcutover was told had committed (the
// log lines "the crash took back ..." count them).
//
// After every crash, before any rerun, what the target holds must be exactly
// what its ledger calls done: the rows of the done ranges of the keyed table,
// hashed on both sides; the key-less table (one range) either empty or whole,
// never twice. After every run that exited 0 the target equals the source by
// the fixture's independent comparison (compare.hpp). The durable end: a run
// from start to exit with the WAL writer stopped, a crash right after its
// exit 0, and the target still equals the source.
//
// Every choice (kill points, WAL writer holds, retry settings, changed rows)
// comes from one seed, printed as "crash seed: N": PGCUTOVER_CRASH_SEED=N
// replays a run (timing aside: a kill point is a time or a number of ranges
// done, and the servers' pace varies).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Later lines of postgresql.conf win over the fixture's durability-off lines.
constexpr const char *DURABLE_CONF = "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n";

constexpr long long ITEMS = 60000;   // keyed table: ~50 MB, ~55 ranges of 1 MB
constexpr long long EVENTS = 20000;  // key-less table: one range

unsigned crash_seed() {
  static const unsigned seed = [] {
    const char *env = std::getenv("PGCUTOVER_CRASH_SEED");
    return env && *env ? static_cast<unsigned>(std::stoul(env)) : static_cast<unsigned>(std::random_device{}());
  }();
  return seed;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string read_text(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------
// Processes, through /proc (the servers run as the `postgres` OS user).

struct ProcStat {
  char state = '?';
  pid_t ppid = 0;
};

std::optional<ProcStat> proc_stat(pid_t pid) {
  std::string s = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');  // the command name may hold spaces and parentheses
  if (s.empty() || close == std::string::npos) return std::nullopt;
  std::istringstream rest(s.substr(close + 1));
  ProcStat st;
  rest >> st.state >> st.ppid;
  return st;
}

// Gone or a zombie (PID 1 of a container may never reap the orphans).
bool process_gone(pid_t pid) {
  auto st = proc_stat(pid);
  return !st || st->state == 'Z' || st->state == 'X';
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  if (DIR *d = opendir("/proc")) {
    while (dirent *e = readdir(d)) {
      char *end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (pid <= 0 || *end) continue;
      if (auto st = proc_stat(static_cast<pid_t>(pid)); st && st->ppid == parent && !process_gone(static_cast<pid_t>(pid)))
        out.push_back(static_cast<pid_t>(pid));
    }
    closedir(d);
  }
  return out;
}

pid_t postmaster_pid(const Cluster &c) {
  std::ifstream f(c.data_dir + "/postmaster.pid");
  long pid = 0;
  if (!(f >> pid) || pid <= 0) throw std::runtime_error("no postmaster.pid in " + c.data_dir);
  return static_cast<pid_t>(pid);
}

std::string cmdline_of(pid_t pid) {
  std::string s = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  for (char &ch : s)
    if (ch == '\0') ch = ' ';
  return s;
}

bool waiting_in_epoll(pid_t pid) {
  long nr = -1;
  std::istringstream(read_text("/proc/" + std::to_string(pid) + "/syscall")) >> nr;
#ifdef SYS_epoll_wait
  if (nr == SYS_epoll_wait) return true;
#endif
  return nr == SYS_epoll_pwait;
}

// Stops the WAL writer (SIGSTOP) where it holds nothing: in its main loop's
// wait for its latch (epoll). Stopped inside a write it could hold
// WALWriteLock, and every backend needing it would wait for good (an LWLock
// wait sees neither a signal nor the postmaster's death). Returns its pid.
pid_t stop_idle_walwriter(const Cluster &c) {
  pid_t walwriter = 0;
  for (pid_t k : children_of(postmaster_pid(c)))
    if (cmdline_of(k).find("walwriter") != std::string::npos) walwriter = k;
  if (!walwriter) throw std::runtime_error("the target has no walwriter process to hold");
  for (int attempt = 0; attempt < 500; ++attempt) {
    ::kill(walwriter, SIGSTOP);
    for (int i = 0; i < 200; ++i) {
      auto st = proc_stat(walwriter);
      if (!st) throw std::runtime_error("the target's walwriter exited");
      if (st->state == 'T' || st->state == 't') break;
      std::this_thread::sleep_for(1ms);
    }
    if (waiting_in_epoll(walwriter)) return walwriter;
    ::kill(walwriter, SIGCONT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + attempt % 7));
  }
  throw std::runtime_error("could not catch the target's walwriter idle in 500 attempts");
}

// SIGKILL to the postmaster only; its children (backends mid-COPY included)
// exit by themselves when they notice. Returns once every one is gone.
//
// hold_walwriter_ms > 0: first the WAL writer is stopped (SIGSTOP, while idle) for
// that long, so the asynchronous commits of that time stay in the server's WAL
// buffers, unwritten, as they may for a moment on any busy server; then the
// postmaster is killed and the WAL writer let go (SIGCONT: it sees the
// postmaster gone and exits without writing). The crash then loses the
// commits of that time, which pgcutover was told had committed.
// just_before_kill runs right before the SIGKILL.
void crash(Cluster &c, int hold_walwriter_ms = 0, const std::function<void()> &just_before_kill = {}) {
  const pid_t pm = postmaster_pid(c);
  if (process_gone(pm)) throw std::runtime_error("the target's postmaster " + std::to_string(pm) + " is not running");
  std::vector<pid_t> kids = children_of(pm);
  if (kids.empty()) throw std::runtime_error("the target's postmaster has no children: not a running server?");
  if (hold_walwriter_ms > 0) {
    stop_idle_walwriter(c);
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_walwriter_ms));
  }
  if (just_before_kill) just_before_kill();
  if (::kill(pm, SIGKILL) != 0) throw std::runtime_error("kill -9 " + std::to_string(pm) + " failed");
  for (pid_t k : kids)  // a WAL writer held here or by stop_idle_walwriter() goes on, sees the postmaster gone, exits
    if (auto st = proc_stat(k); st && (st->state == 'T' || st->state == 't')) ::kill(k, SIGCONT);
  const auto t0 = Clock::now();
  for (;;) {
    std::vector<pid_t> alive;
    if (!process_gone(pm)) alive.push_back(pm);
    for (pid_t k : kids)
      if (!process_gone(k)) alive.push_back(k);
    if (alive.empty()) break;
    if (Clock::now() > t0 + 30s) {
      std::string list;
      for (pid_t p : alive) list.append(" ").append(std::to_string(p)).append(" (").append(cmdline_of(p)).append(")");
      throw std::runtime_error("30 s after SIGKILL to the postmaster " + std::to_string(pm) +
                               ", these server processes still run:" + list);
    }
    std::this_thread::sleep_for(10ms);
  }
  // The dead postmaster stays a zombie until its new parent (PID 1) reaps it,
  // and a zombie's pid still answers kill(pid, 0): the server's start would
  // take the lock file for a running postmaster's. Wait for the reaping; a
  // PID 1 that never reaps gets the stale lock file removed after 20 s.
  while (proc_stat(pm)) {
    if (Clock::now() > t0 + 20s) {
      std::cerr << "  [crash] the dead postmaster " << pm << " is still not reaped after 20 s: removing its lock file\n";
      std::filesystem::remove(c.data_dir + "/postmaster.pid");
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
}

// pg_ctl start -w: the server must go through crash recovery.
void start_after_crash(Cluster &c) {
  const auto log_before = std::filesystem::file_size(c.log_file);
  c.start();
  const std::string log = read_text(c.log_file).substr(log_before);
  if (log.find("automatic recovery in progress") == std::string::npos)
    throw std::runtime_error("the target started without crash recovery; its log:\n" + log);
}

long long to_ll(const std::string &s) { return s.empty() ? 0 : std::stoll(s); }

// ---------------------------------------------------------------------------

struct TargetCrash : ::testing::Test {
  std::string db = "crash";
  std::unique_ptr<ScopedCluster> target;
  std::mt19937 rng;
  int kills_while_running = 0;     // kills that landed while pgcutover ran
  int kills_with_work_pending = 0;  // ... with ranges still to do (copy) or before the sync's end
  int crash_no = 0;
  int lost_done_marks = 0;         // crashes that took back done marks seen committed before the kill

  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target->cluster().conninfo(db); }

  void SetUp() override {
    const unsigned seed = crash_seed();
    RecordProperty("crash_seed", std::to_string(seed));
    std::cerr << "crash seed: " << seed << " (replay with PGCUTOVER_CRASH_SEED=" << seed << ")\n";
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::seed_seq seq{seed, static_cast<unsigned>(std::hash<std::string>{}(name))};
    rng.seed(seq);

    // Crash recovery first fsyncs every file of the data dir (seconds on a busy
    // disk); from 14 on one syncfs() does it.
    std::string conf = DURABLE_CONF;
    if (server_major_of(pg_bin_dir()) >= 14) conf += "recovery_init_sync_method = syncfs\n";
    target = std::make_unique<ScopedCluster>("crash_target", "", ScopedCluster::Setup{conf, ""});
    for (const char *setting : {"fsync", "synchronous_commit", "full_page_writes"})
      ASSERT_EQ(query_value(target->cluster().conninfo(), std::string("SHOW ") + setting), "on") << setting;
    recreate_database(source_cluster(), db);
    recreate_database(target->cluster(), db);
    // v: ~800 bytes, stored inline (under the TOAST threshold), not compressible to nothing.
    exec(src(), R"SQL(
      CREATE TABLE public.items (id bigint PRIMARY KEY, v text NOT NULL, n int NOT NULL,
                                 updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE INDEX items_updated_at ON public.items (updated_at);
      INSERT INTO public.items (id, v, n)
        SELECT g, repeat(md5(g::text), 25), g % 1000 FROM generate_series(1, )SQL" + std::to_string(ITEMS) + R"SQL() g;
      CREATE TABLE public.events (at int, payload text);
      INSERT INTO public.events SELECT g % 500, md5(g::text) FROM generate_series(1, )SQL" + std::to_string(EVENTS) + R"SQL() g;
      ANALYZE;
    )SQL");
  }

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

  long long source_count(const std::string &table) { return to_ll(query_value(src(), "SELECT count(*) FROM " + table)); }

  // A copy of one table (the crash tests that hold a run at one point).
  std::vector<std::string> copy_table(const std::string &table) {
    return {"copy", "--source", src(), "--target", dst(), "--table", table,
            "--range-bytes", "1MB", "--jobs", "2", "--retries", "0"};
  }
  // public.events copied first: the ledger's tables exist from here on.
  RunResult copy_events_first() { return run_pgcutover(copy_table("public.events"), {}, 180); }

  bool target_has(const std::string &rel) {
    return query_value(dst(), "SELECT to_regclass('" + rel + "') IS NOT NULL") == "t";
  }

  // The ledger's done ranges of public.items as a predicate over id ("false" if none).
  std::string done_items_predicate() {
    auto rows = query_rows(dst(), "SELECT quote_literal(lower_bound[1]), quote_literal(upper_bound[1]) "
                                  "FROM pgcutover.ranges WHERE table_schema = 'public' AND table_name = 'items' "
                                  "AND state = 'done' ORDER BY range_id");
    std::string pred;
    for (auto &r : rows) {
      std::string p;
      if (r[0]) p = "id >= " + *r[0] + "::bigint";
      if (r[1]) p += (p.empty() ? "" : " AND ") + std::string("id < ") + *r[1] + "::bigint";
      pred += (pred.empty() ? "" : " OR ") + std::string("(") + (p.empty() ? "true" : p) + ")";
    }
    return pred.empty() ? "false" : pred;
  }

  // What the target holds is exactly what its ledger calls done.
  void expect_target_is_what_the_ledger_says(const std::string &when) {
    SCOPED_TRACE(when);
    if (!target_has("pgcutover.ranges")) {
      for (const char *t : {"public.items", "public.events"})
        if (target_has(t)) {
          EXPECT_EQ(query_value(dst(), std::string("SELECT count(*) FROM ") + t), "0") << t;
        }
      return;
    }
    const long long done_ranges = to_ll(query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE state = 'done'"));
    if (!target_has("public.items")) {
      EXPECT_EQ(done_ranges, 0) << "ranges are done, yet their tables are gone";
      return;
    }
    // Keyed table: the rows of the done ranges, no other, none twice.
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM (SELECT id FROM public.items GROUP BY id HAVING count(*) > 1) d"), "0")
        << "rows of public.items are on the target twice";
    const std::string pred = done_items_predicate();
    EXPECT_EQ(table_digest(dst(), "public.items", "id"),
              table_digest(src(), "(SELECT * FROM public.items WHERE " + pred + ")", "id"))
        << "public.items on the target is not exactly the rows of the ranges the ledger calls done (" << done_ranges
        << " done range(s) in all tables)";
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM public.items"),
              query_value(dst(), "SELECT coalesce(sum(rows), 0) FROM pgcutover.ranges WHERE table_name = 'items' "
                                 "AND state = 'done'"));
    // Key-less table: one range, so empty or exactly the source's rows.
    if (!target_has("public.events")) return;
    auto ev = query_rows(dst(), "SELECT count(*), count(*) FILTER (WHERE state = 'done') FROM pgcutover.ranges "
                                "WHERE table_schema = 'public' AND table_name = 'events'");
    EXPECT_EQ(*ev[0][0], "1") << "the key-less table should be one range";
    if (*ev[0][1] == "1") {
      EXPECT_EQ(table_digest(dst(), "public.events", "pgcutover_digest_row::text"),
                table_digest(src(), "public.events", "pgcutover_digest_row::text"))
          << "the key-less table's range is done, its rows are not exactly the source's";
    } else {
      EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM public.events"), "0")
          << "the key-less table holds rows its ledger range does not call done";
    }
  }

  void expect_exact(const std::string &when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(expect_same_content(src(), dst()), 2);
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM public.events"), std::to_string(source_count("public.events")))
        << "the key-less table holds a range twice, or lacks one";
  }

  // The copy's ledger: every range done, and the rows it counts are the source's.
  void expect_copy_ledger_complete() {
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE state <> 'done'"), "0");
    EXPECT_EQ(query_value(dst(), "SELECT string_agg(state, ',') FROM pgcutover.jobs"), "finished");
    for (const char *t : {"items", "events"})
      EXPECT_EQ(to_ll(query_value(dst(), std::string("SELECT coalesce(sum(rows), 0) FROM pgcutover.ranges WHERE "
                                                     "table_schema = 'public' AND table_name = '") + t + "'")),
                source_count(std::string("public.") + t))
          << t;
  }

  // Kills the target, waits for every server process to go, starts it again
  // (crash recovery), and waits for the run to end by itself: exit 0 (its
  // retries outlasted the restart) or 1 with a message, never a hang.
  // right_after_restart runs as soon as the server is back (racing the run's retries).
  // hold_ms: see crash(); just_before_kill: also.
  RunResult crash_and_finish(PgcutoverProcess &p, const std::string &what, int hold_ms,
                             const std::function<void()> &just_before_kill,
                             const std::function<void()> &right_after_restart) {
    ++crash_no;
    auto t0 = Clock::now();
    crash(target->cluster(), hold_ms, just_before_kill);
    const double down = seconds_since(t0);
    start_after_crash(target->cluster());
    const double restarted = seconds_since(t0);
    if (right_after_restart) right_after_restart();
    RunResult r = p.wait(180);
    std::cerr << "[crash " << crash_no << "] " << what << ": server gone after " << down << " s, back after "
              << restarted << " s; the run exited " << r.exit_code << " after " << seconds_since(t0) << " s\n";
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << what << ": exit " << r.exit_code << "\n" << r.err;
    if (r.exit_code == 1) {
      // It says what failed and where: the target, by its endpoint.
      EXPECT_NE(r.err.find("error"), std::string::npos) << what << ": no error message\n" << r.err;
      EXPECT_TRUE(r.err.find(std::to_string(target->cluster().port)) != std::string::npos ||
                  r.err.find("target") != std::string::npos)
          << what << ": the error does not name the target\n" << r.err;
      std::cerr << "  its error: " << error_line(r.err) << "\n";
    }
    return r;
  }

  // The first line saying "error:" (else the last line), and the one after it.
  static std::string error_line(const std::string &s) {
    auto at = s.find("error:");
    if (at == std::string::npos) {
      std::string t = s;
      while (!t.empty() && t.back() == '\n') t.pop_back();
      auto nl = t.rfind('\n');
      return nl == std::string::npos ? t : t.substr(nl + 1);
    }
    auto end = s.find('\n', at);
    if (end != std::string::npos) end = s.find('\n', end + 1);
    std::string out = s.substr(at, end == std::string::npos ? std::string::npos : end - at);
    for (char &ch : out)
      if (ch == '\n' || ch == '\t') ch = ' ';
    return out;
  }

  // Runs args until exit 0 (the target is up); at most `attempts` runs.
  RunResult rerun_until_done(const std::vector<std::string> &args, const std::string &what, int attempts = 4) {
    RunResult r;
    for (int i = 1; i <= attempts; ++i) {
      auto t0 = Clock::now();
      r = run_pgcutover(args, {}, 180);
      std::cerr << "  rerun " << i << " of " << what << ": exit " << r.exit_code << " after " << seconds_since(t0)
                << " s\n";
      if (r.exit_code == 0) return r;
      std::cerr << "  its stderr:\n" << r.err << "\n";
    }
    ADD_FAILURE() << what << " did not converge in " << attempts << " reruns with the target up; last stderr:\n" << r.err;
    return r;
  }

  // (done, total) ranges of the copy's ledger; nullopt while there is none.
  std::optional<std::pair<long long, long long>> copy_progress() {
    try {
      auto rows = query_rows(dst(), "SELECT count(*) FILTER (WHERE state = 'done'), count(*) FROM pgcutover.ranges");
      long long total = to_ll(*rows[0][1]);
      if (total == 0) return std::nullopt;
      return std::make_pair(to_ll(*rows[0][0]), total);
    } catch (const std::exception &) {
      return std::nullopt;  // no ledger yet
    }
  }

  // The durable end: the run goes from start to exit with the target's WAL
  // writer stopped, so nothing but the run's own synchronous commits (and
  // full WAL buffers) writes its asynchronous commits out; right after its
  // exit the target crashes. Returns the run's result (the target is up again).
  RunResult run_held_then_crash(const std::vector<std::string> &args, const std::string &what) {
    const pid_t walwriter = stop_idle_walwriter(target->cluster());
    auto t0 = Clock::now();
    PgcutoverProcess p(args);
    while (p.running() && seconds_since(t0) < 120) std::this_thread::sleep_for(20ms);
    if (p.running()) {  // bounded: the held WAL writer must not make a hang of it
      ::kill(walwriter, SIGCONT);
      ADD_FAILURE() << what << ": still running after 120 s with the WAL writer held";
    }
    RunResult r = p.wait(120);
    const double ran = seconds_since(t0);
    ++crash_no;
    crash(target->cluster());
    start_after_crash(target->cluster());
    std::cerr << "[crash " << crash_no << "] " << what << " ran " << ran << " s with the WAL writer held, exited "
              << r.exit_code << "; crashed right after, back after " << seconds_since(t0) - ran << " s\n";
    return r;
  }

  bool job_finished() {
    try {
      return query_value(dst(), "SELECT coalesce(string_agg(state, ','), '') FROM pgcutover.jobs") == "finished";
    } catch (const std::exception &) {
      return false;  // no ledger yet
    }
  }

  // Parts of a sync in progress: one per range committed, cleared when the table's point commits.
  long long sync_parts() {
    try {
      return to_ll(query_value(dst(), "SELECT count(*) FROM pgcutover.watermarks WHERE part LIKE 'sync %'"));
    } catch (const std::exception &) {
      return 0;
    }
  }
};

}  // namespace

// Three crashes at random points of one copy (a time after the start, or a
// share of the ranges left done, up to all: the post-data and the finish),
// each with or without the WAL writer held for a moment before it, then the
// run's own end (its retries may outlast the restart) and a check of the
// target against its ledger; reruns until exit 0 and the exact comparison.
// Then the durable end: `copy --restart` from start to exit with the WAL
// writer held, a crash right after its exit 0, and the exact comparison.
TEST_F(TargetCrash, CopyKilledAtRandomPointsLosesNothingTheLedgerCallsDone) {
  const auto t_test = Clock::now();
  auto copy = [&](bool survive, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB", "--jobs", "2"};
    if (survive)
      a.insert(a.end(), {"--retries", "5", "--retry-delay", "0.5"});  // 15 s of retries: outlasts the restart
    else
      a.insert(a.end(), {"--retries", "0"});  // the crash ends the run: a rerun resumes
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  for (int round = 0; round < 3; ++round) {
    const bool survive = uniform(0, 1) == 1;
    const bool by_progress = round == 0 || uniform(0, 2) > 0;
    const int delay_ms = uniform(100, 2500);
    // The first kill always lands with ranges to do; later ones anywhere, up to after the last.
    const double fraction = std::uniform_real_distribution<double>(0.05, round == 0 ? 0.8 : 1.0)(rng);
    const int hold_ms = uniform(0, 2) ? uniform(50, 400) : 0;
    // A run whose retries outlasted an earlier crash finished the job: copy it all again.
    const bool restart = job_finished();
    PgcutoverProcess p(copy(survive, restart ? std::vector<std::string>{"--restart"} : std::vector<std::string>{}));
    auto t0 = Clock::now();
    std::string point;
    std::optional<std::pair<long long, long long>> last;
    if (by_progress) {
      // Kill when the ledger shows a random share of the ranges left at the start done.
      std::optional<long long> threshold;
      while (p.running() && seconds_since(t0) < 120) {
        if (auto pr = copy_progress()) {
          last = pr;
          // (--restart: the finished job's ranges count until the new plan replaces them.)
          if (!threshold && !(restart && pr->first == pr->second))
            threshold = pr->first + static_cast<long long>(std::ceil(fraction * (pr->second - pr->first)));
          if (threshold && pr->first >= *threshold) break;
        }
        std::this_thread::sleep_for(20ms);
      }
      point = "at " + (threshold ? std::to_string(*threshold) : std::string("?")) + " ranges done";
    } else {
      while (p.running() && seconds_since(t0) * 1000 < delay_ms) {
        if (auto pr = copy_progress()) last = pr;
        std::this_thread::sleep_for(20ms);
      }
      point = "after " + std::to_string(delay_ms) + " ms";
    }
    bool running = false;
    std::optional<std::pair<long long, long long>> at_kill;
    auto before_kill = [&] {
      running = p.running();
      at_kill = copy_progress();
      if (!at_kill) at_kill = last;
    };
    std::optional<std::pair<long long, long long>> after;
    auto after_restart = [&] { after = copy_progress(); };
    const std::string what = "copy round " + std::to_string(round + 1) + " (kill " + point +
                             (hold_ms ? ", WAL writer held " + std::to_string(hold_ms) + " ms before" : "") + ", " +
                             (survive ? "retries" : "no retries") + (restart ? ", --restart" : "") + ")";
    RunResult r = crash_and_finish(p, what, hold_ms, before_kill, after_restart);
    // Ranges were still to copy when the kill point came (the WAL writer's hold may let the rest finish).
    const bool pending = running && (!last || last->first < last->second || !at_kill || at_kill->first < at_kill->second);
    kills_while_running += running;
    kills_with_work_pending += pending;
    std::cerr << "  ranges done at the kill: "
              << (at_kill ? std::to_string(at_kill->first) + "/" + std::to_string(at_kill->second) : "no ledger")
              << (running ? " (run in progress)" : " (run already ended)") << "; right after the recovery: "
              << (after ? std::to_string(after->first) : "no ledger");
    if (at_kill && (!after || after->first < at_kill->first)) {
      ++lost_done_marks;
      std::cerr << ": the crash took back done marks the run had committed";
    }
    std::cerr << "\n";
    expect_target_is_what_the_ledger_says(what);
    if (r.exit_code == 0) {
      expect_exact(what + ", the run that exited 0");
      expect_copy_ledger_complete();
    }
  }
  EXPECT_GE(kills_while_running, 1) << "no kill landed while the copy ran: the test proved nothing";
  EXPECT_GE(kills_with_work_pending, 1) << "no kill landed while ranges were still to copy";

  rerun_until_done(copy(true), "the copy");
  expect_exact("copy, after the reruns");
  expect_copy_ledger_complete();
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_index WHERE indrelid = 'public.items'::regclass AND indisprimary"),
            "1")
      << "the copy did not finish the post-data (primary key)";
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_index WHERE indrelid = 'public.items'::regclass"), "2")
      << "public.items lacks indexes on the target (the source has its key and items_updated_at)";

  // The durable end: exit 0 means every range is on disk.
  RunResult r = run_held_then_crash(copy(true, {"--restart"}), "copy --restart");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exact("crash right after the exit 0 of copy --restart");
  expect_copy_ledger_complete();
  // And the job stays finished: a rerun copies nothing.
  r = run_pgcutover(copy(true), {}, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("already finished"), std::string::npos) << r.out;
  std::cerr << "[copy] " << crash_no << " crashes, " << kills_while_running << " while the copy ran, "
            << kills_with_work_pending << " with ranges to do, " << lost_done_marks
            << " took back done marks the run had committed; " << seconds_since(t_test) << " s\n";
}

// A base copy; then twice: changes on the source (updates through the indexed
// updated_at, inserts, deletes; the key-less table changed too), a sync with
// delete detection killed at a random point (a number of its ranges
// committed, or a time after its snapshot; with or without the WAL writer
// held for a moment before), reruns until exit 0, and the exact comparison.
// Then more changes and the durable end: `sync --final --deletes detect` from
// start to exit with the WAL writer held, a crash right after its exit 0, and
// the exact comparison.
TEST_F(TargetCrash, SyncKilledAtRandomPointsConvergesExactly) {
  const auto t_test = Clock::now();
  {
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB", "--jobs", "2"},
                                {}, 180);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_exact("base copy");
    std::cerr << "[sync] base copy done after " << seconds_since(t_test) << " s\n";
  }
  auto sync = [&](bool survive, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"sync", "--source", src(), "--target", dst(), "--deletes", "detect",
                                  "--overlap", "100ms", "--range-bytes", "1MB", "--jobs", "2"};
    a.insert(a.end(), {"--retries", survive ? "5" : "0"});  // 5: 1+2+4+8+16 s of retries outlast the restart
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  long long next_id = ITEMS + 1;
  auto change_source = [&] {
    // A third of the rows updated, some inserted, some deleted (the residues are seeded).
    const int upd = uniform(0, 2), del = uniform(0, 96), ev = uniform(0, 9);
    const int inserts = uniform(2000, 6000);
    exec(src(), "UPDATE public.items SET v = md5(v) || substr(v, 33), n = n + 1, updated_at = clock_timestamp() "
                "WHERE id % 3 = " + std::to_string(upd) + ";"
                "INSERT INTO public.items (id, v, n) SELECT g, repeat(md5((g * 7)::text), 25), -1 "
                "FROM generate_series(" + std::to_string(next_id) + ", " + std::to_string(next_id + inserts - 1) + ") g;"
                "DELETE FROM public.items WHERE id % 97 = " + std::to_string(del) + ";"
                "UPDATE public.events SET payload = md5(payload) WHERE at % 10 = " + std::to_string(ev) + ";"
                "DELETE FROM public.events WHERE at % 50 = " + std::to_string(ev + 1) + ";"
                "INSERT INTO public.events SELECT 1000 + g, md5(g::text) FROM generate_series(1, 300) g;"
                "ANALYZE");
    next_id += inserts;
  };
  // Two rounds at random points; then, while no kill has yet landed between a
  // sync range's commit and the sync's end (a sync of these changes takes
  // about a second, and a WAL writer hold before the kill can outlast it),
  // rounds aimed at that window: killed at 1-3 ranges committed, no hold.
  for (int round = 0; round < 2 || (kills_with_work_pending == 0 && round < 6); ++round) {
    change_source();
    const bool aimed = round >= 1 && kills_with_work_pending == 0;
    const bool survive = uniform(0, 1) == 1;
    const bool by_progress = round == 0 || aimed || uniform(0, 1) == 1;
    const int parts = aimed ? uniform(1, 3) : uniform(1, 12);
    const int delay_ms = uniform(0, 2500);
    const int hold_ms = !aimed && uniform(0, 2) ? uniform(50, 400) : 0;
    PgcutoverProcess p(sync(survive));
    auto t0 = Clock::now();
    std::string point;
    const bool snapshot_taken = p.wait_for_output("syncing changes up to", 60);
    if (by_progress) {
      while (p.running() && seconds_since(t0) < 120 && sync_parts() < parts) std::this_thread::sleep_for(20ms);
      point = "at " + std::to_string(parts) + " ranges committed";
    } else {
      auto t1 = Clock::now();
      while (p.running() && seconds_since(t1) * 1000 < delay_ms) std::this_thread::sleep_for(10ms);
      point = std::to_string(delay_ms) + " ms after its snapshot";
    }
    bool running = false;
    long long at_kill = 0, after = 0;
    auto before_kill = [&] {
      running = p.running();
      at_kill = sync_parts();
    };
    const std::string what = "sync round " + std::to_string(round + 1) + " (kill " + point +
                             (hold_ms ? ", WAL writer held " + std::to_string(hold_ms) + " ms before" : "") + ", " +
                             (survive ? "retries" : "no retries") + (snapshot_taken ? "" : ", no snapshot line seen") +
                             ")";
    RunResult r = crash_and_finish(p, what, hold_ms, before_kill, [&] { after = sync_parts(); });
    kills_while_running += running;
    kills_with_work_pending += running && at_kill > 0;
    std::cerr << "  sync ranges committed at the kill: " << at_kill
              << (running ? " (run in progress)" : " (run already ended)") << "; right after the recovery: " << after;
    if (running && after < at_kill) {
      ++lost_done_marks;
      std::cerr << ": the crash took back range commits the run had made";
    }
    std::cerr << "\n";
    if (r.exit_code == 0) {
      expect_exact(what + ", the run that exited 0");
      EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.watermarks WHERE part <> ''"), "0")
          << what << ": a sync that exited 0 left parts of its point behind";
    }
    rerun_until_done(sync(true), "the sync of round " + std::to_string(round + 1));
    expect_exact("sync round " + std::to_string(round + 1) + ", after the reruns");
  }
  EXPECT_GE(kills_while_running, 1) << "no kill landed while a sync ran: the test proved nothing";
  EXPECT_GE(kills_with_work_pending, 1) << "no kill landed after a sync range had committed";

  // The durable end: exit 0 means every change is on disk.
  change_source();
  RunResult r = run_held_then_crash(sync(true, {"--final"}), "sync --final --deletes detect");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exact("crash right after the exit 0 of sync --final");
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.watermarks WHERE part <> ''"), "0");
  // And a sync after it finds the target equal.
  r = run_pgcutover(sync(true), {}, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exact("a sync after the crash");
  std::cerr << "[sync] " << crash_no << " crashes, " << kills_while_running << " while a sync ran, "
            << lost_done_marks << " took back range commits the run had made; " << seconds_since(t_test) << " s\n";
}

// Found by the random crashes above (issue 23 point 6): `copy --restart` of a
// finished job used to empty the tables the job created (committed) and only
// then replace the job's ranges in the ledger, so a crash in between left a
// finished job whose ranges were all done over empty tables (a plain rerun
// said "nothing to copy" and exited 0). The emptying now commits with the new
// job: held here, by a lock on the ledger's ranges, after the TRUNCATE and
// before the ledger's reset, then crashed.
TEST_F(TargetCrash, CrashBetweenRestartsTruncateAndItsLedgerResetLosesNothing) {
  std::vector<std::string> copy = {"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB",
                                   "--jobs", "2", "--retries", "0"};
  RunResult r = run_pgcutover(copy, {}, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::thread holder([&] {
    try {
      exec(dst(), "BEGIN; LOCK pgcutover.ranges IN EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT");
    } catch (const std::exception &) {  // the crash ends it
    }
  });
  std::vector<std::string> restart = copy;
  restart.push_back("--restart");
  std::optional<PgcutoverProcess> p;
  p.emplace(restart);
  ASSERT_TRUE(p->wait_for_output("--restart: emptying", 60)) << p->err_so_far();
  // The tables are emptied; the ledger's reset waits for the lock.
  bool waiting = false;
  for (int i = 0; i < 300 && !waiting; ++i) {
    waiting = query_value(dst(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                                 "'DELETE FROM \"pgcutover\".\"jobs\"%'") != "0";
    if (!waiting) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(waiting) << "the restart never reached the ledger's reset\n" << p->err_so_far();
  // The TRUNCATE has run (its lock is held), uncommitted.
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_locks WHERE relation = 'public.items'::regclass AND mode = "
                               "'AccessExclusiveLock' AND granted"),
            "1")
      << "the restart should have emptied public.items by now";
  crash(target->cluster());
  start_after_crash(target->cluster());
  holder.join();
  r = p->wait(60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  expect_target_is_what_the_ledger_says("crash between the restart's TRUNCATE and its ledger reset");
  r = run_pgcutover(copy, {}, 180);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_exact("a plain rerun after the crash");
}

// Also found here: the copy used to create the missing tables (pg_restore of
// the pre-data, committed) and record the job with the tables it created in a
// later transaction, so a crash in between left tables no job called its own;
// the rerun took them for the target's own tables, copied the rows and exited
// 0 without their primary key and indexes. The job is now recorded first
// ("creating", with the tables it will create) and set running after they
// are: held here between the two (the job's row locked while it says
// "creating", so setting it running waits), then crashed.
TEST_F(TargetCrash, CrashBetweenCreatingTheTablesAndRecordingTheJobLosesNoIndex) {
  RunResult r = copy_events_first();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::thread holder([&] {
    try {
      // Each PERFORM reads committed rows anew (READ COMMITTED): the row is
      // locked the moment the copy's job is recorded, long before pg_restore
      // (a process of its own) has created the table.
      exec(dst(), "BEGIN; DO $$ BEGIN LOOP PERFORM 1 FROM pgcutover.jobs WHERE state = 'creating' FOR SHARE; "
                  "EXIT WHEN FOUND; PERFORM pg_sleep(0.002); END LOOP; END $$; SELECT pg_sleep(60); COMMIT");
    } catch (const std::exception &) {  // the crash ends it
    }
  });
  std::optional<PgcutoverProcess> p;
  p.emplace(copy_table("public.items"));
  // The table is created; setting the job running waits for the lock.
  bool waiting = false;
  for (int i = 0; i < 300 && !waiting; ++i) {
    waiting = query_value(dst(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                                 "'UPDATE \"pgcutover\".\"jobs\"%'") != "0";
    if (!waiting) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(waiting) << "the copy never reached setting its job running\n" << p->err_so_far();
  EXPECT_TRUE(target_has("public.items")) << "the table should be created by now";
  crash(target->cluster());
  start_after_crash(target->cluster());
  holder.join();
  r = p->wait(60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  r = run_pgcutover(copy_table("public.items"), {}, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exact("the rerun after the crash");
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_index WHERE indrelid = 'public.items'::regclass AND indisprimary"),
            "1")
      << "public.items has no primary key on the target";
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_index WHERE indrelid = 'public.items'::regclass"), "2")
      << "public.items lacks indexes on the target (the source has its key and items_updated_at)";
}

// The ledger of an earlier version kept the tables a job created as JSON in
// the job's row (jobs.created_tables); it now keeps them in `created`, moved
// there in place the first time a newer run opens the ledger. A job stopped
// mid-data under the old layout still owns its tables after the move: the
// rerun resumes it and builds their primary key and indexes. (The job is held
// with its ranges locked, so no range can be claimed, and killed.)
TEST_F(TargetCrash, AJobRecordedByAnEarlierLedgerLayoutKeepsTheTablesItCreated) {
  RunResult r = copy_events_first();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::thread holder([&] {
    try {
      exec(dst(), "SET application_name = 'range holder'; BEGIN; DO $$ BEGIN LOOP PERFORM 1 FROM pgcutover.ranges r "
                  "JOIN pgcutover.jobs j USING (job) WHERE j.state = 'creating' FOR UPDATE OF r; "
                  "EXIT WHEN FOUND; PERFORM pg_sleep(0.002); END LOOP; END $$; SELECT pg_sleep(120); COMMIT");
    } catch (const std::exception &) {  // terminated below
    }
  });
  std::optional<PgcutoverProcess> p;
  p.emplace(copy_table("public.items"));
  bool held = false;
  for (int i = 0; i < 600 && !held; ++i) {
    held = query_value(dst(), "SELECT count(*) FROM pgcutover.jobs j JOIN pgcutover.ranges r USING (job) WHERE "
                              "j.state = 'running' AND r.table_name = 'items' AND r.state = 'pending'") != "0" &&
           target_has("public.items");
    if (!held) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(held) << "the copy never reached its data with the ranges held\n" << p->err_so_far();
  std::this_thread::sleep_for(1s);  // a round or two of finding every range held
  p->send_signal(SIGKILL);
  r = p->wait(60);
  EXPECT_NE(r.exit_code, 0);
  exec(dst(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'range holder'");
  holder.join();
  ASSERT_EQ(query_value(dst(), "SELECT count(*) FROM pg_index WHERE indrelid = 'public.items'::regclass"), "0")
      << "the post-data of public.items should not be built yet";
  // The earlier layout: no `created`, no jobs.created_whole, the JSON filled.
  exec(dst(), "UPDATE pgcutover.jobs j SET created_tables = jsonb_build_object('whole', j.created_whole, 'tables', "
              "coalesce((SELECT jsonb_agg(jsonb_build_array(c.table_schema, c.table_name) ORDER BY c.position) "
              "FROM pgcutover.created c WHERE c.job = j.job), '[]'::jsonb)); "
              "DROP TABLE pgcutover.created; ALTER TABLE pgcutover.jobs DROP COLUMN created_whole");
  ASSERT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.jobs WHERE created_tables::text LIKE '%items%' AND "
                               "state = 'running'"),
            "1");
  r = run_pgcutover(copy_table("public.items"), {}, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming job"), std::string::npos) << r.err;
  expect_exact("the rerun on the earlier ledger layout");
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_index WHERE indrelid = 'public.items'::regclass AND indisprimary"),
            "1")
      << "public.items has no primary key on the target";
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_index WHERE indrelid = 'public.items'::regclass"), "2")
      << "public.items lacks indexes on the target (the source has its key and items_updated_at)";
}
