// The traps a range must not fall into, on real servers: a stream cut at a
// row boundary, row counts that disagree, and a connection killed mid-range.
// In each case nothing of the range is committed on the target.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "compare.hpp"
#include "pg_cluster.hpp"
#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/pipeline/range_io.hpp"
#include "pgcutover/spill/spill_file.hpp"

using namespace pgcutover;
using namespace pgcutover::testing;

namespace {

std::string be16(int v) { return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)}; }
std::string be32(int v) {
  return {static_cast<char>((v >> 24) & 0xff), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}
// Binary COPY stream of (int4 id, text v) rows.
std::string header() { return std::string("PGCOPY\n\377\r\n\0", 11) + be32(0) + be32(0); }
std::string tuple(int id, const std::string &v) { return be16(2) + be32(4) + be32(id) + be32(static_cast<int>(v.size())) + v; }
std::string trailer() { return be16(-1); }

struct TrapFixture : ::testing::Test {
  std::string db = "traps";
  std::filesystem::path dir = test_temp_path("pgcutover-traps");
  void SetUp() override {
    recreate_database(target_cluster(), db);
    exec(target_cluster().conninfo(db), "CREATE TABLE public.t (id int PRIMARY KEY, v text)");
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // Loads a hand-made spill file through the same writer path copy uses.
  void load(const std::string &stream, i64 rows_claimed) {
    pg::SessionSettings s;
    s.role = "target";
    pg::Connection dst = pg::Connection::open(target_cluster().conninfo(db), s);
    catalog::Catalog cat = catalog::load_catalog(dst, {});
    plan::TablePlan tp;
    tp.table = *cat.find({"public", "t"});
    tp.strategy = merge::Strategy::Direct;
    tp.format = copybin::StreamFormat::Binary;
    plan::KeyRange range;
    nlohmann::json meta = pipeline::spill_meta(tp, range, {}, "test");
    std::filesystem::path path = dir / "r.pgcspill";
    spill::SpillWriter w(path, meta, 1);
    w.write({stream.data(), stream.size()});
    w.finish(rows_claimed);
    report::Progress progress;
    pipeline::load_spill(dst, tp, path, 1 << 16, progress);
  }
  std::string rows_on_target() { return query_value(target_cluster().conninfo(db), "SELECT count(*) FROM public.t"); }
};

}  // namespace

TEST_F(TrapFixture, WholeStreamCommits) {
  load(header() + tuple(1, "a") + tuple(2, "b") + trailer(), 2);
  EXPECT_EQ(rows_on_target(), "2");
}

// A stream cut exactly after a row looks complete to COPY FROM; the framer's
// missing trailer stops it.
TEST_F(TrapFixture, StreamCutAtRowBoundaryIsNotCommitted) {
  try {
    load(header() + tuple(1, "a") + tuple(2, "b"), 2);
    FAIL() << "a stream without its trailer was accepted";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DataFormat);
  }
  EXPECT_EQ(rows_on_target(), "0");
}

// The producer said 3 rows, the stream holds 2: refused before COMMIT.
TEST_F(TrapFixture, RowCountDisagreementIsNotCommitted) {
  try {
    load(header() + tuple(1, "a") + tuple(2, "b") + trailer(), 3);
    FAIL() << "a row count mismatch was accepted";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DataFormat);
    EXPECT_NE(std::string(e.what()).find("row counts disagree"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rows_on_target(), "0");
}

namespace {

// Source and target for the kill tests: a 60 MB table, copied into a target
// table whose row trigger slows COPY FROM down so a range is surely in flight
// when its backend is killed. Loopback socket buffers hold ~10 MB, so a source
// backend stays busy (killable) only for ranges well past that.
struct KillFixture : ::testing::Test {
  std::string db = "kills";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    std::string ddl = "CREATE TABLE public.slow (id int PRIMARY KEY, v text)";
    exec(src(), ddl + "; INSERT INTO public.slow SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 60000) g; ANALYZE");
    exec(dst(), ddl + R"SQL(;
      CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RETURN NEW; END $$;
      CREATE TRIGGER slow_down BEFORE INSERT ON public.slow FOR EACH ROW EXECUTE FUNCTION public.slow_down();
    )SQL");
  }

  // Kills the backend running `like` on `conninfo` once it shows up.
  bool kill_when_running(const std::string &conninfo, const std::string &like) {
    for (int i = 0; i < 1000; ++i) {
      std::string n = query_value(conninfo, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '" + like +
                                                "' AND state = 'active' AND pid <> pg_backend_pid()");
      if (n != "0") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  // Every range of the plan is on the target in full or not at all.
  void expect_whole_ranges_only(const nlohmann::json &plan) {
    int full = 0, empty = 0;
    for (auto &r : plan["tables"][0]["range_list"]) {
      std::string b = r["bounds"];  // "[lo, hi)"
      std::string lo = b.substr(1, b.find(',') - 1), hi = b.substr(b.find(", ") + 2);
      hi.pop_back();
      std::string where = "true";
      if (lo != "-inf") where += " AND id >= " + lo;
      if (hi != "+inf") where += " AND id < " + hi;
      std::string q = "SELECT count(*) FROM public.slow WHERE " + where;
      std::string on_target = query_value(dst(), q), on_source = query_value(src(), q);
      if (on_target == "0") ++empty;
      else {
        EXPECT_EQ(on_target, on_source) << "range " << b << " is half-committed";
        ++full;
      }
    }
    EXPECT_GE(empty, 1) << "the killed range should not be on the target";
  }

  // range_bytes: the source-side kill needs ranges much larger than the
  // socket buffers, or the source finishes sending before it can be killed.
  void run_and_kill(const std::string &kill_on, const std::string &like, const std::string &range_bytes) {
    std::vector<std::string> args = {"copy", "--source", src(), "--target", dst(), "--table", "public.slow",
                                     "--range-bytes", range_bytes, "--jobs", "1", "--retries", "0"};
    RunResult p = run_pgcutover({"plan", "--source", src(), "--target", dst(), "--table", "public.slow", "--range-bytes", range_bytes, "--json"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    nlohmann::json plan = nlohmann::json::parse(p.out);
    ASSERT_GE(plan["tables"][0]["ranges"].get<int>(), 2);

    PgcutoverProcess proc(args);
    // Let the copy get going, then kill a range in flight.
    ASSERT_TRUE(proc.wait_for_output("copying 1 table(s)", 60)) << proc.err_so_far();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(kill_when_running(kill_on, like)) << proc.err_so_far();
    RunResult r = proc.wait(120);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("table public.slow range "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing of this range was committed"), std::string::npos) << r.err;
    expect_whole_ranges_only(plan);

    // Rerunning the same command finishes the job (merge into the partly filled table).
    r = run_pgcutover(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(only_digest(src(), "public.slow", "id"), only_digest(dst(), "public.slow", "id"));
  }
};

}  // namespace

// With retries off, a killed connection ends the run with the range named.
TEST_F(KillFixture, SourceBackendKilledMidRange) { run_and_kill(src(), "COPY (SELECT%", "20MB"); }

TEST_F(KillFixture, TargetBackendKilledMidRange) { run_and_kill(dst(), "COPY %FROM STDIN%", "4MB"); }

// With retries on (the default), killed backends on both sides are survived:
// the range is retried on fresh connections and the copy is exact.
TEST_F(KillFixture, KilledBackendsAreRetried) {
  std::vector<std::string> args = {"copy", "--source", src(), "--target", dst(), "--table", "public.slow",
                                   "--range-bytes", "20MB", "--jobs", "2", "--retry-delay", "0.2"};
  PgcutoverProcess proc(args);
  ASSERT_TRUE(proc.wait_for_output("copying 1 table(s)", 60)) << proc.err_so_far();
  ASSERT_TRUE(kill_when_running(src(), "COPY (SELECT%")) << proc.err_so_far();
  ASSERT_TRUE(kill_when_running(dst(), "COPY %FROM STDIN%")) << proc.err_so_far();
  RunResult r = proc.wait(180);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("retry 1/5"), std::string::npos) << r.err;
  EXPECT_EQ(only_digest(src(), "public.slow", "id"), only_digest(dst(), "public.slow", "id"));
}
