// SIGINT and SIGTERM at random moments, many times in a row: copy without
// and with a spill folder, then sync. Every run ends in bounded time with
// 130/143 (or 0 when it finished first), never a crash; no pgcutover session
// stays on either server; no spill file stays (a second signal exits at once
// and unlinks them in the handler, see cancel.cpp); and the rerun after all of
// it is exact.
// The seed is printed, so a failure can be replayed (PGCUTOVER_STRESS_SEED).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct SignalStress : ::testing::Test {
  std::string db = "faults_stress";
  fs::path spill = test_temp_path("pgcutover-faults-stress-spill");
  std::mt19937 rng;
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    unsigned seed = std::getenv("PGCUTOVER_STRESS_SEED") ? std::stoul(std::getenv("PGCUTOVER_STRESS_SEED"))
                                                         : static_cast<unsigned>(std::random_device{}());
    std::printf("[signal stress] PGCUTOVER_STRESS_SEED=%u\n", seed);
    rng.seed(seed);
    fs::remove_all(spill);
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    const char *table = "CREATE TABLE public.work (id int PRIMARY KEY, v text, "
                        "updated_at timestamptz NOT NULL DEFAULT clock_timestamp()); "
                        "CREATE INDEX ON public.work (updated_at);";
    exec(src(), std::string(table) +
                    "INSERT INTO public.work (id, v) SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 20000) g; "
                    "ANALYZE");
    exec(dst(), std::string(table) + R"SQL(
      CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(0.0002); RETURN NEW; END $$;
      CREATE TRIGGER slow_down BEFORE INSERT OR UPDATE ON public.work FOR EACH ROW EXECUTE FUNCTION public.slow_down();
      ALTER TABLE public.work ENABLE ALWAYS TRIGGER slow_down;
    )SQL");
  }
  void TearDown() override { fs::remove_all(spill); }

  int ms(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

  long long sessions(const std::string &conninfo) {
    return std::stoll(query_value(conninfo, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgcutover' "
                                            "AND datname = current_database()"));
  }
  std::vector<std::string> spill_files() {
    std::vector<std::string> out;
    if (fs::exists(spill))
      for (const auto &e : fs::directory_iterator(spill)) out.push_back(e.path().filename().string());
    return out;
  }

  // One run, signalled once or twice at a random moment after ready_text.
  void interrupt(const std::vector<std::string> &args, const std::string &ready_text) {
    PgcutoverProcess p(args);
    bool ready = p.wait_for_output(ready_text, 30);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms(0, 2000)));
    int first = ms(0, 1) ? SIGINT : SIGTERM;
    bool twice = ms(0, 3) == 0;
    int second = ms(0, 1) ? SIGINT : SIGTERM;
    p.send_signal(first);
    if (twice) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms(0, 30)));
      if (p.running()) p.send_signal(second);
    }
    auto t0 = std::chrono::steady_clock::now();
    RunResult r = p.wait(60);
    std::string what = args[0] + (twice ? " (two signals)" : " (one signal)") + "\n" + r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s) << what;
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 130 || r.exit_code == 143) << "exit " << r.exit_code << ": " << what;
    if (!twice && r.exit_code != 0) {
      EXPECT_EQ(r.exit_code, first == SIGINT ? 130 : 143) << what;
      EXPECT_NE(r.err.find("interrupted by"), std::string::npos) << what;
    }
    if (!ready) EXPECT_EQ(r.exit_code, 0) << "it never got going: " << what;
    // No session stays on either server (the servers notice closed connections at once).
    long long left = 0;
    for (int i = 0; i < 50; ++i) {
      left = sessions(src()) + sessions(dst());
      if (left == 0) break;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(left, 0) << "pgcutover sessions left after: " << what;
    // Also after a second signal: the handler unlinks the files it registered (cancel::ExitUnlink).
    EXPECT_TRUE(spill_files().empty()) << spill_files().size() << " spill file(s) left after: " << what;
  }
};

}  // namespace

TEST_F(SignalStress, RandomSignalsManyTimesThenExactRerun) {
  std::vector<std::string> copy = {"copy", "--source", src(), "--target", dst(), "--table", "public.work",
                                   "--range-bytes", "1MB", "--jobs", "2", "--retry-delay", "0.2"};
  std::vector<std::string> copy_spill = copy;
  copy_spill.insert(copy_spill.end(), {"--spill-dir", spill.string()});
  for (int i = 0; i < 6; ++i) interrupt(i % 2 ? copy_spill : copy, "copying 1 table(s)");
  RunResult r = run_pgcutover(copy_spill, {}, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(spill_files().empty());
  ASSERT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));

  // Changes on the source, then syncs interrupted the same way.
  exec(src(), "UPDATE public.work SET v = md5(v), updated_at = clock_timestamp() WHERE id % 3 = 0");
  std::vector<std::string> sync = {"sync", "--source", src(), "--target", dst(), "--table", "public.work",
                                   "--overlap", "100ms", "--range-bytes", "1MB", "--jobs", "2"};
  for (int i = 0; i < 4; ++i) interrupt(sync, "syncing changes up to");
  r = run_pgcutover(sync, {}, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(table_digest(src(), "public.work", "id"), table_digest(dst(), "public.work", "id"));
}
