// Spill files hold table data: private to their owner (0600), and gone after
// an interrupted or failed run unless --keep-spill asked for them.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Spill : ::testing::Test {
  std::string db = "faults_spill";
  fs::path dir = test_temp_path("pgcutover-faults-spill");
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    fs::remove_all(dir);
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), "CREATE TABLE public.work (id int PRIMARY KEY, v text);"
                "INSERT INTO public.work SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 20000) g; ANALYZE");
    // A slow target, so the readers run ahead and files wait for their load when the signal comes.
    exec(dst(), R"SQL(
      CREATE TABLE public.work (id int PRIMARY KEY, v text);
      CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(0.0003); RETURN NEW; END $$;
      CREATE TRIGGER slow_down BEFORE INSERT ON public.work FOR EACH ROW EXECUTE FUNCTION public.slow_down();
      ALTER TABLE public.work ENABLE ALWAYS TRIGGER slow_down;
    )SQL");
  }
  void TearDown() override { fs::remove_all(dir); }
  std::vector<std::string> args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst(), "--table", "public.work",
                                  "--range-bytes", "1MB", "--jobs", "2", "--spill-dir", dir.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  long long sessions(const std::string &conninfo) {
    return std::stoll(query_value(conninfo, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgcutover' "
                                            "AND datname = current_database()"));
  }
  std::vector<std::string> files() {
    std::vector<std::string> out;
    if (fs::exists(dir))
      for (const auto &e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
  }
};

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += x + " ";
  return s;
}

}  // namespace

TEST_F(Spill, InterruptedRunLeavesNoSpillFileBehind) {
  PgcutoverProcess p(args());
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  // Wait until files are queued for loading, then interrupt.
  for (int i = 0; i < 100 && files().size() < 2; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_GE(files().size(), 2u) << "no spill files appeared before the signal";
  p.send_signal(SIGINT);
  RunResult r = p.wait(60);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_TRUE(files().empty()) << "left behind: " << join(files());
  r = run_pgcutover(args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(files().empty()) << "left behind: " << join(files());
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));
}

TEST_F(Spill, FailedRunLeavesNoSpillFileBehind) {
  // The target loses its table's column mid-run: loads fail permanently.
  PgcutoverProcess p(args({"--retries", "0"}));
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  for (int i = 0; i < 100 && files().size() < 2; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_GE(files().size(), 2u) << "no spill files appeared before the fault";
  exec(dst(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
              "AND pid <> pg_backend_pid() AND application_name = 'pgcutover'; "
              "ALTER TABLE public.work RENAME TO gone");
  RunResult r = p.wait(60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(files().empty()) << "left behind: " << join(files());
}

TEST_F(Spill, KeptSpillFilesArePrivate) {
  RunResult r = run_pgcutover(args({"--keep-spill"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GT(files().size(), 2u);
  for (const auto &e : fs::directory_iterator(dir)) {
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path() << " is readable by others";
  }
}

// A second signal exits in the handler at once: the handler itself removes
// this process's unloaded spill files (and unfinished ones) before _exit.
TEST_F(Spill, SecondSignalLeavesNoSpillFileBehind) {
  PgcutoverProcess p(args());
  ASSERT_TRUE(p.wait_for_output("copying 1 table(s)", 30)) << p.err_so_far();
  for (int i = 0; i < 100 && files().size() < 3; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_GE(files().size(), 3u) << "no spill files appeared before the signals";
  // Close together: 50 ms after the first signal the orderly path has removed
  // the files already, and the second signal would find nothing to leave.
  auto t0 = std::chrono::steady_clock::now();
  p.send_signal(SIGINT);
  std::this_thread::sleep_for(2ms);
  ASSERT_TRUE(p.running()) << "the first signal ended the run before the second came: nothing tested";
  p.send_signal(SIGTERM);
  RunResult r = p.wait(60);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // The two handlers run on whichever threads the kernel picks; on a loaded
  // machine the SIGTERM one can run first, and then SIGINT is the second.
  EXPECT_TRUE(r.exit_code == 143 || r.exit_code == 130) << r.exit_code << "\n" << r.err;
  EXPECT_NE(r.err.find("second signal"), std::string::npos) << r.err;
  EXPECT_TRUE(files().empty()) << "left behind: " << join(files());
  long long left = 0;
  for (int i = 0; i < 50; ++i) {
    left = sessions(src()) + sessions(dst());
    if (left == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(left, 0) << "pgcutover sessions left on the servers";
  RunResult again = run_pgcutover(args());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));
}

// Two processes share one spill folder: one keeps its files (--keep-spill),
// the other (the same table into another target database, so the same ranges)
// is interrupted mid-run. Each claims its files before writing them, so the
// keeper's files are all there and load, and the other's cleanup removed its
// own files only.
TEST_F(Spill, ProcessesSharingAFolderTouchOnlyTheirOwnFiles) {
  std::string db2 = "faults_spill_other", db3 = "faults_spill_load";
  recreate_database(target_cluster(), db2);
  recreate_database(target_cluster(), db3);
  std::string dst2 = target_cluster().conninfo(db2), dst3 = target_cluster().conninfo(db3);
  exec(dst2, R"SQL(
    CREATE TABLE public.work (id int PRIMARY KEY, v text);
    CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$;
    CREATE TRIGGER slow_down BEFORE INSERT ON public.work FOR EACH ROW EXECUTE FUNCTION public.slow_down();
    ALTER TABLE public.work ENABLE ALWAYS TRIGGER slow_down;
  )SQL");
  exec(dst3, "CREATE TABLE public.work (id int PRIMARY KEY, v text)");
  PgcutoverProcess keeper(args({"--keep-spill"}));
  ASSERT_TRUE(keeper.wait_for_output("copying 1 table(s)", 30)) << keeper.err_so_far();
  PgcutoverProcess other({"copy", "--source", src(), "--target", dst2, "--table", "public.work", "--range-bytes", "1MB",
                          "--jobs", "2", "--spill-dir", dir.string()});
  ASSERT_TRUE(other.wait_for_output("copying 1 table(s)", 30)) << other.err_so_far();
  std::this_thread::sleep_for(1500ms);  // both write and load files side by side
  other.send_signal(SIGINT);
  RunResult o = other.wait(60);
  EXPECT_EQ(o.exit_code, 130) << o.err;
  RunResult k = keeper.wait(180);
  ASSERT_EQ(k.exit_code, 0) << k.err;
  std::string other_tag = "_p" + std::to_string(other.pid()) + ".";
  for (const std::string &f : files()) EXPECT_EQ(f.find(other_tag), std::string::npos) << "the interrupted run left " << f;
  // Every file the keeper's manifest names is there, and the folder loads exactly.
  RunResult l = run_pgcutover({"load", "--from-spill", dir.string(), "--target", dst3, "--jobs", "2"});
  ASSERT_EQ(l.exit_code, 0) << l.err << "\nfiles: " << join(files());
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst3, "public.work", "id"));
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));
}

// The manifest lists one run's files: while a run keeps its files in a folder
// (it holds keep-spill.lock), a second --keep-spill run there is refused
// before it writes anything, naming the folder; once the first is gone, the
// folder is free again.
TEST_F(Spill, SecondKeepSpillRunInOneFolderIsRefused) {
  fs::create_directories(dir);
  int fd = ::open((dir / "keep-spill.lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running --keep-spill process holds it
  RunResult r = run_pgcutover(args({"--keep-spill"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("keep-spill.lock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("another running pgcutover process"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM public.work"), "0");
  ::close(fd);  // the other run ended
  r = run_pgcutover(args({"--keep-spill"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "manifest.json"));
  EXPECT_FALSE(fs::exists(dir / "keep-spill.lock")) << "removed when the run ends";
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));
}
