// pgcutover rehearse against real servers: a rehearsal after traffic writes
// three reports whose phases add up, leaves the target equal, and follows the
// budget; a failing user check stops it by name; the HTML report renders in
// headless Chromium with one bar per phase.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <unistd.h>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Rehearse : ::testing::Test {
  std::string db = "rehearse";
  // Per process: other checkouts may run this suite at the same time.
  fs::path dir = fs::temp_directory_path() / ("pgcutover-rehearse-test-" + std::to_string(::getpid()));
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir);
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE TABLE customers (id bigint PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE INDEX ON customers (updated_at);
      CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, total numeric, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE INDEX ON orders (updated_at);
      INSERT INTO customers (id, name) SELECT g, 'c' || g FROM generate_series(1, 500) g;
      INSERT INTO orders (customer_id, total) SELECT 1 + g % 500, g FROM generate_series(1, 5000) g;
      ANALYZE;
    )SQL");
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Traffic before the rehearsal: inserts, updates, deletes.
    for (int i = 0; i < 40; ++i)
      exec(src(), "INSERT INTO orders (customer_id, total) VALUES (" + std::to_string(1 + i) + ", 1);"
                  "UPDATE orders SET total = total + 1, updated_at = clock_timestamp() WHERE id = " + std::to_string(10 + i * 37) + ";"
                  "DELETE FROM orders WHERE id = " + std::to_string(4000 + i));
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string config(const std::string &budget, const std::string &check_sql) {
    fs::path p = dir / "rehearsal.toml";
    std::ofstream(p) << "source = \"" << src() << "\"\ntarget = \"" << dst() << "\"\njobs = 2\nbudget = \"" << budget
                     << "\"\noverlap = \"100ms\"\ndeletes = \"detect\"\n[[checks]]\nname = \"every order has a customer\"\nsql = \""
                     << check_sql << "\"\n";
    return p;
  }
  static std::string read(const fs::path &p) {
    std::ifstream f(p);
    return {std::istreambuf_iterator<char>(f), {}};
  }
};

const char *GOOD_CHECK =
    "SELECT NOT EXISTS (SELECT 1 FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL)";

}  // namespace

TEST_F(Rehearse, ReportsAddUpTargetIsEqualAndExitFollowsTheBudget) {
  fs::path out = dir / "report";
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK), "--report", out});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const char *f : {"report.json", "report.md", "report.html"}) EXPECT_TRUE(fs::exists(out / f)) << f;
  json j = json::parse(read(out / "report.json"));
  double sum = 0;
  std::set<std::string> names;
  for (auto &p : j["phases"]) {
    sum += p["seconds"].get<double>();
    names.insert(p["phase"]);
  }
  double total = j["verdict"]["total_seconds"];
  EXPECT_GT(sum, 0);
  EXPECT_LE(sum, total + 1e-6);
  EXPECT_GE(sum, 0.8 * total) << "the phases should account for the rehearsal's time";
  for (const char *p : {"schema_drift", "sync_changes", "detect_deletes", "reset_sequences", "verify", "analyze", "user_checks"})
    EXPECT_TRUE(names.count(p)) << p;
  EXPECT_TRUE(j["verify_ok"].get<bool>());
  EXPECT_EQ(j["checks_passed"], 1);
  EXPECT_EQ(j["projection"].size(), 3u);
  EXPECT_GE(expect_same_content(src(), dst()), 2);
  EXPECT_NE(read(out / "report.md").find("fits the budget"), std::string::npos);
  // The change rate per table: orders changed since the copy, customers not.
  for (auto &t : j["sync"]["tables"]) {
    ASSERT_TRUE(t.contains("changes_per_hour")) << t.dump();
    if (t["table"] == "public.orders") {
      EXPECT_GT(t["changes_per_hour"].get<double>(), 0) << t.dump();
    }
    if (t["table"] == "public.customers") {
      EXPECT_EQ(t["changes_per_hour"].get<double>(), 0) << t.dump();
    }
  }
  EXPECT_NE(read(out / "report.md").find("| changes/h |"), std::string::npos);
  // Statistics were gathered on the target.
  EXPECT_NE(query_value(dst(), "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'orders'"), "f");

  // A budget too small to fit: same work, exit code 3, verdict says so.
  exec(src(), "UPDATE orders SET total = total + 1, updated_at = clock_timestamp() WHERE id < 50");
  r = run_pgcutover({"rehearse", "--config", config("1ms", GOOD_CHECK), "--report", out});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  j = json::parse(read(out / "report.json"));
  EXPECT_FALSE(j["verdict"]["fits"].get<bool>());
  EXPECT_NE(read(out / "report.md").find("OVER BUDGET"), std::string::npos);
  EXPECT_TRUE(j["failure_detail"].is_null()) << "over budget is no failure";
}

TEST_F(Rehearse, FailingUserCheckStopsWithItsName) {
  fs::path out = dir / "report";
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", "SELECT count(*) = 0 FROM orders"), "--report", out});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("user check 'every order has a customer' failed"), std::string::npos) << r.err;
  json j = json::parse(read(out / "report.json"));  // the report of what ran is still written
  EXPECT_NE(j["failure"].get<std::string>().find("every order has a customer"), std::string::npos);
  EXPECT_FALSE(j["verdict"]["fits"].get<bool>());
  EXPECT_EQ(j["failure_detail"]["phase"], "user_checks") << j["failure_detail"].dump();
  EXPECT_EQ(j["failure_detail"]["table"], "check: every order has a customer");
  std::string md = read(out / "report.md");
  EXPECT_NE(md.find("# Cutover rehearsal: FAILED in user_checks"), std::string::npos) << md;
  EXPECT_NE(read(out / "report.html").find("failed in user_checks"), std::string::npos);
}

// A failure before the sync ends (here: the target database does not exist)
// is reported as itself, with the report of what ran, never as an internal
// error of the report's JSON.
TEST_F(Rehearse, FailureBeforeTheSyncEndsKeepsItsOwnMessage) {
  fs::path out = dir / "report";
  fs::path cfg = dir / "broken.toml";
  std::ofstream(cfg) << "source = \"" << src() << "\"\ntarget = \"" << target_cluster().conninfo("no_such_db_here")
                     << "\"\njobs = 2\nbudget = \"1h\"\n";
  RunResult r = run_pgcutover({"rehearse", "--config", cfg.string(), "--report", out});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no_such_db_here"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(out / "report.json"));
  json j = json::parse(read(out / "report.json"));
  EXPECT_NE(j["failure"].get<std::string>().find("no_such_db_here"), std::string::npos) << j.dump();
  EXPECT_FALSE(j["verdict"]["fits"].get<bool>());
  // Headed as the failure it is, not as over budget.
  EXPECT_EQ(j["failure_detail"]["phase"], "sync") << j.dump();
  EXPECT_NE(read(out / "report.md").find("# Cutover rehearsal: FAILED in sync"), std::string::npos);
  EXPECT_EQ(read(out / "report.md").find("OVER BUDGET"), std::string::npos);
}

TEST_F(Rehearse, FailureInsideTheSyncKeepsItsOwnMessage) {
  fs::path out = dir / "report";
  exec(dst(), "ALTER TABLE orders ADD CONSTRAINT small_total CHECK (total < 1000000) NOT VALID");
  exec(src(), "UPDATE orders SET total = 5000000, updated_at = clock_timestamp() WHERE id = 3");
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK), "--report", out});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("small_total"), std::string::npos) << r.err;
  json j = json::parse(read(out / "report.json"));
  EXPECT_NE(j["failure"].get<std::string>().find("small_total"), std::string::npos) << j.dump();
  // The failure, phase and message, in all three reports.
  ASSERT_TRUE(j["failure_detail"].is_object()) << j.dump();
  EXPECT_EQ(j["failure_detail"]["phase"], "sync");
  EXPECT_NE(j["failure_detail"]["message"].get<std::string>().find("small_total"), std::string::npos);
  std::string md = read(out / "report.md"), html = read(out / "report.html");
  EXPECT_NE(md.find("## Failure"), std::string::npos) << md;
  EXPECT_NE(md.find("- phase: **sync**"), std::string::npos) << md;
  EXPECT_NE(md.find("small_total"), std::string::npos) << md;
  size_t box = html.find("<table id=\"failure\">");
  ASSERT_NE(box, std::string::npos) << html;
  EXPECT_NE(html.find("small_total", box), std::string::npos);
  EXPECT_NE(html.find("failed in sync"), std::string::npos);
}

TEST_F(Rehearse, HtmlReportRendersInHeadlessChromiumWithOneBarPerPhase) {
  fs::path out = dir / "report";
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK), "--report", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(read(out / "report.json"));
  std::string html = read(out / "report.html");
  // One bar per phase in the phase timeline.
  std::string phases_svg = html.substr(html.find("<svg id=\"phases\""));
  phases_svg = phases_svg.substr(0, phases_svg.find("</svg>"));
  size_t bars = 0;
  for (size_t p = phases_svg.find("class=\"phase-bar\""); p != std::string::npos; p = phases_svg.find("class=\"phase-bar\"", p + 1))
    ++bars;
  EXPECT_EQ(bars, j["phases"].size());
  EXPECT_EQ(html.find("http://") == std::string::npos || html.find("http://www.w3.org/2000/svg") != std::string::npos, true);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "the report must open offline, with nothing to load";
  // Rendered by a real browser: a screenshot of a page that is not blank.
  fs::path shot = dir / "report.png";
  std::string cmd = "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                    "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
                    (dir / "chrome").string() + " --window-size=1200,900 --screenshot=" + shot.string() + " file://" +
                    (out / "report.html").string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "headless chromium failed (is Debian's chromium installed?)";
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_GT(fs::file_size(shot), 20000u) << "the screenshot looks blank";
}

// Under traffic the live source's sequences move on after the sync's snapshot;
// the check compares the target with the positions the sync read right after
// it, so a writer inserting all along does not make it "stand behind".
TEST_F(Rehearse, SequenceCheckUnderTrafficComparesWithTheSyncsSnapshot) {
  fs::path out = dir / "report";
  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0}, failed{0};
  std::string error;
  std::thread writer([&] {
    while (!stop) {
      try {
        exec(src(), "INSERT INTO orders (customer_id, total) VALUES (1, 1)");
        ++inserted;
      } catch (const std::exception &e) {
        if (failed++ == 0) error = e.what();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK), "--report", out});
  int during = inserted;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  writer.join();
  ASSERT_EQ(failed, 0) << error;
  ASSERT_GT(during, 5) << "the writer did not run during the rehearsal";
  ASSERT_TRUE(fs::exists(out / "report.json")) << r.err;
  json j = json::parse(read(out / "report.json"));
  ASSERT_TRUE(j["verify"].contains("sequences")) << j.dump();
  bool saw_orders = false;
  for (auto &s : j["verify"]["sequences"]) {
    EXPECT_TRUE(s["ok"].get<bool>()) << s.dump();
    if (s["sequence"].get<std::string>().find("orders_id_seq") != std::string::npos) {
      saw_orders = true;
      // The live source stands past the position compared: traffic went on.
      long long live = std::stoll(query_value(src(), "SELECT last_value FROM orders_id_seq"));
      EXPECT_GT(live, s["source_value"].get<long long>());
    }
  }
  EXPECT_TRUE(saw_orders) << j["verify"].dump();
  EXPECT_NE(j["verify"]["sequences_as_of"].get<std::string>().find("right after its snapshot"), std::string::npos);
  EXPECT_NE(read(out / "report.md").find("sequences compared with the source positions the sync read"), std::string::npos);
  for (auto &s : j["verify"]["sequences"]) EXPECT_EQ(s["problem"].get<std::string>().find("stands behind"), std::string::npos);
}
