// pgcutover rehearse against real servers: a rehearsal after traffic writes
// three reports whose phases add up, leaves the target equal, and follows the
// budget; a failing user check stops it by name; a failing sync is named in
// all three reports; the HTML report renders in headless Chromium (budget
// line, one bar per phase, the per-table numbers of report.json); under live
// traffic verify passes as of the sync's snapshot and the projection grows
// with time; same-rows checks, timed queries, and the history of rehearsals.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include <cstdio>

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

  // extra: more top-level keys (before the first table), then more tables ([[checks]], [[queries]]).
  std::string config(const std::string &budget, const std::string &check_sql, const std::string &keys = "",
                     const std::string &tables = "") {
    fs::path p = dir / "rehearsal.toml";
    std::ofstream(p) << "source = \"" << src() << "\"\ntarget = \"" << dst() << "\"\njobs = 2\nbudget = \"" << budget
                     << "\"\noverlap = \"100ms\"\ndeletes = \"detect\"\n" << keys
                     << "[[checks]]\nname = \"every order has a customer\"\nsql = \"" << check_sql << "\"\n" << tables;
    return p;
  }
  static std::string read(const fs::path &p) {
    std::ifstream f(p);
    return {std::istreambuf_iterator<char>(f), {}};
  }
};

// changes/h as the reports print it
std::string fmt_rate(const json &v) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v.get<double>());
  return buf;
}

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
  // Between the phases: connections, the plan, the history record; a fixed
  // few tenths of a second on a loaded machine, whatever the data.
  EXPECT_GE(sum, 0.8 * total - 0.3) << "the phases should account for the rehearsal's time";
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
  exec(dst(), "ALTER TABLE orders ADD CONSTRAINT small_total CHECK (total < 1000000)");  // validated: NOT VALID checks are set aside during writes
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
  // The verdict, no-go with the failure as its reason, in all three.
  EXPECT_FALSE(j["verdict"]["go"].get<bool>());
  ASSERT_FALSE(j["verdict"]["reasons"].empty());
  EXPECT_EQ(j["verdict"]["reasons"][0]["kind"], "failure");
  EXPECT_NE(md.find("## Verdict: NO-GO"), std::string::npos) << md;
  EXPECT_NE(md.find("- **blocking** (failure): "), std::string::npos) << md;
  EXPECT_NE(html.find("id=\"verdict\" class=\"bad\" data-go=\"false\""), std::string::npos);
  EXPECT_NE(html.find("<li class=\"reason blocking bad failure\">"), std::string::npos);
  EXPECT_NE(html.find("id=\"budget-line\""), std::string::npos) << "the timeline renders without a sync";
}

namespace {

// The attribute of the first element with this id (or this class) in a DOM text.
std::string attr(const std::string &dom, const std::string &selector, const std::string &name, size_t from = 0) {
  size_t at = dom.find(selector, from);
  if (at == std::string::npos) return "";
  size_t start = dom.rfind('<', at), end = dom.find('>', at);
  std::string tag = dom.substr(start, end - start);
  size_t a = tag.find(" " + name + "=\"");
  if (a == std::string::npos) return "";
  a += name.size() + 3;
  return tag.substr(a, tag.find('"', a) - a);
}

// The text of the first <td class="cls"> after `from`.
std::string cell(const std::string &dom, const std::string &cls, size_t from) {
  std::string open = "<td class=\"" + cls + "\">";
  size_t at = dom.find(open, from);
  if (at == std::string::npos) return "";
  at += open.size();
  return dom.substr(at, dom.find("</td>", at) - at);
}

}  // namespace

// Rendered by a real browser (Debian's chromium, headless): the DOM after
// layout holds the budget line inside the timeline, one bar per phase of
// report.json, and the per-table numbers of report.json.
TEST_F(Rehearse, HtmlReportRendersInHeadlessChromiumWithOneBarPerPhase) {
  // A missing browser is a failure, never a skip: scripts/test.sh installs it.
  ASSERT_EQ(std::system("command -v chromium >/dev/null 2>&1"), 0)
      << "chromium is not installed (scripts/test.sh installs it; or apt-get install chromium)";
  fs::path out = dir / "report";
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK), "--report", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(read(out / "report.json"));
  std::string html = read(out / "report.html");
  EXPECT_EQ(html.find("http://") == std::string::npos || html.find("http://www.w3.org/2000/svg") != std::string::npos, true);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "the report must open offline, with nothing to load";
  std::string flags = " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
                      "--disable-component-update --disable-sync --window-size=1200,900 --user-data-dir=" +
                      (dir / "chrome").string() + " ";
  fs::path dom_file = dir / "dom.html", shot = dir / "report.png";
  std::string url = "file://" + (out / "report.html").string();
  std::string cmd = "chromium" + flags + "--dump-dom " + url + " >" + dom_file.string() + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "headless chromium failed";
  std::string dom = read(dom_file);
  ASSERT_NE(dom.find("<svg id=\"phases\""), std::string::npos) << dom.substr(0, 2000);
  // The budget line, inside the timeline's width.
  std::string width = attr(dom, "id=\"phases\"", "width"), x1 = attr(dom, "id=\"budget-line\"", "x1");
  ASSERT_FALSE(width.empty());
  ASSERT_FALSE(x1.empty()) << "no budget line in the rendered DOM";
  EXPECT_GT(std::stod(x1), 0);
  EXPECT_LE(std::stod(x1), std::stod(width));
  EXPECT_FALSE(attr(dom, "id=\"safety-line\"", "x1").empty());
  EXPECT_NE(dom.find("class=\"tick\""), std::string::npos) << "a time axis";
  // Exactly one bar per phase of report.json.
  size_t bars = 0;
  for (size_t p = dom.find("class=\"phase-bar\""); p != std::string::npos; p = dom.find("class=\"phase-bar\"", p + 1)) ++bars;
  EXPECT_EQ(bars, j["phases"].size());
  // The per-table numbers of report.json.
  ASSERT_FALSE(j["sync"]["tables"].empty());
  size_t table = dom.find("id=\"tables\"");
  ASSERT_NE(table, std::string::npos);
  for (auto &t : j["sync"]["tables"]) {
    size_t row = dom.find("data-table=\"" + t["table"].get<std::string>() + "\"", table);
    ASSERT_NE(row, std::string::npos) << t.dump();
    EXPECT_EQ(cell(dom, "rows-read", row), t["rows_read"].dump()) << t.dump();
    EXPECT_EQ(cell(dom, "rows-written", row), t["rows_written"].dump()) << t.dump();
    EXPECT_EQ(cell(dom, "deleted", row), t["deleted"].dump()) << t.dump();
    EXPECT_EQ(cell(dom, "changes-per-hour", row), fmt_rate(t["changes_per_hour"])) << t.dump();
  }
  // And a screenshot that is not blank.
  cmd = "chromium" + flags + "--screenshot=" + shot.string() + " " + url + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
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

// A rehearsal under live traffic (`pgcutover traffic` writing all along):
// verify compares the target with the source as of the sync's snapshot, so
// it passes; the report shows the rows the traffic changed and a projection
// that grows with the time without a sync, up to the latest last sync.
TEST_F(Rehearse, UnderLiveTrafficVerifyPassesAsOfTheSyncsSnapshot) {
  fs::path out = dir / "report";
  PgcutoverProcess traffic({"traffic", "--source", src(), "--rate", "80", "--duration", "120s", "--mix", "80:15:5"});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(traffic.running()) << traffic.err_so_far();
  long long before = std::stoll(query_value(src(), "SELECT count(*) FROM orders WHERE updated_at > now() - interval '2 s'"));
  ASSERT_GT(before, 0) << "the traffic writes nothing";
  // A same-rows check that only holds with the source read in the sync's
  // snapshot. (The traffic deletes customers too: the usual check would fail.)
  RunResult r = run_pgcutover(
      {"rehearse", "--config",
       config("1h", "SELECT count(*) > 0 FROM orders", "",
              "[[checks]]\nname = \"order totals\"\nsql = \"SELECT count(*), sum(total) FROM orders\"\n"
              "same_rows = true\n"),
       "--report", out});
  bool still_writing = traffic.running();
  traffic.send_signal(SIGINT);
  traffic.wait(60);
  ASSERT_TRUE(still_writing) << "the traffic stopped before the rehearsal ended";
  ASSERT_TRUE(fs::exists(out / "report.json")) << r.err;
  json j = json::parse(read(out / "report.json"));
  EXPECT_EQ(r.exit_code, 0) << r.err << j["failure"];
  EXPECT_TRUE(j["verify_ok"].get<bool>()) << j["verify"].dump();
  EXPECT_NE(j["verify"]["source_as_of"].get<std::string>().find("the sync's snapshot"), std::string::npos);
  EXPECT_NE(j["verify"]["source_as_of"].get<std::string>().find(j["sync"]["snapshot"]["taken_at"].get<std::string>()),
            std::string::npos)
      << j["verify"]["source_as_of"] << " " << j["sync"]["snapshot"].dump();
  ASSERT_EQ(j["checks"].size(), 2u);
  EXPECT_TRUE(j["checks"][1]["ok"].get<bool>()) << j["checks"][1].dump();
  // The rows the traffic changed arrived in the sync.
  long long orders_read = 0;
  for (auto &t : j["sync"]["tables"])
    if (t["table"] == "public.orders") orders_read = t["rows_read"].get<long long>();
  EXPECT_GT(orders_read, 40) << j["sync"].dump();
  EXPECT_NE(read(out / "report.md").find("| public.orders |"), std::string::npos);
  // A projection that grows with time, and the latest last sync.
  ASSERT_EQ(j["projection"].size(), 3u);
  double p1 = j["projection"][0]["seconds"], p6 = j["projection"][1]["seconds"], p24 = j["projection"][2]["seconds"];
  EXPECT_LT(p1, p6);
  EXPECT_LT(p6, p24);
  EXPECT_EQ(j["projection"][2]["budget_seconds"], 3600.0);
  ASSERT_TRUE(j["latest_last_sync"]["hours"].is_number()) << j["latest_last_sync"].dump();
  EXPECT_GT(j["latest_last_sync"]["hours"].get<double>(), 0);
  EXPECT_TRUE(j["latest_last_sync"]["at"].is_string());
  EXPECT_NE(read(out / "report.md").find("Latest last sync: "), std::string::npos);
  EXPECT_NE(read(out / "report.html").find("id=\"budget-line\""), std::string::npos);
}

// A same-rows check runs its query on both sides and requires the same rows:
// it passes when they are equal and fails, naming the first differing row,
// when one row differs on the target (verify by counts does not see it).
TEST_F(Rehearse, SameRowsCheckFailsWhenOneRowDiffers) {
  fs::path out = dir / "report";
  std::string same = "[[checks]]\nname = \"first orders\"\nsql = \"SELECT id, total FROM orders WHERE id <= 10\"\nsame_rows = true\n";
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK, "verify = \"count\"\n", same), "--report", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(read(out / "report.json"));
  ASSERT_EQ(j["checks"].size(), 2u);
  EXPECT_TRUE(j["checks"][1]["ok"].get<bool>()) << j["checks"][1].dump();
  EXPECT_NE(j["checks"][1]["detail"].get<std::string>().find("10 row(s) on both sides"), std::string::npos) << j["checks"][1];

  exec(dst(), "UPDATE orders SET total = -1 WHERE id = 5");
  r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK, "verify = \"count\"\n", same), "--report", out});
  EXPECT_NE(r.exit_code, 0);
  j = json::parse(read(out / "report.json"));
  EXPECT_EQ(j["failure_detail"]["phase"], "user_checks") << j["failure_detail"].dump();
  EXPECT_EQ(j["failure_detail"]["table"], "check: first orders");
  std::string detail = j["checks"][1]["detail"];
  EXPECT_NE(detail.find("only on the target: (5, -1)"), std::string::npos) << detail;
  EXPECT_NE(read(out / "report.md").find("(5, -1)"), std::string::npos);
  EXPECT_FALSE(j["verdict"]["go"].get<bool>());
}

// Representative queries timed on both sides after ANALYZE; a query slower on
// the target is a warning, or no-go with queries_must_not_regress.
TEST_F(Rehearse, TimedQueriesShowBothLatenciesAndASlowerOneIsAReason) {
  // The same function on both sides, slow on the target only.
  exec(src(), "CREATE FUNCTION lookup(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT $1'");
  exec(dst(), "CREATE FUNCTION lookup(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT $1 FROM pg_sleep(0.03)'");
  std::string queries = "[[queries]]\nname = \"orders of a customer\"\nsql = \"SELECT * FROM orders WHERE customer_id = 42\"\n"
                        "[[queries]]\nname = \"lookup\"\nsql = \"SELECT public.lookup(7)\"\n";
  fs::path out = dir / "report";
  RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK, "query_runs = 3\n", queries), "--report", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(read(out / "report.json"));
  ASSERT_EQ(j["queries"].size(), 2u) << j["queries"].dump();
  for (auto &q : j["queries"]) {
    EXPECT_EQ(q["source_ms"].size(), 3u);
    EXPECT_EQ(q["target_ms"].size(), 3u);
    EXPECT_GT(q["source_median_ms"].get<double>(), 0);
    EXPECT_GT(q["target_median_ms"].get<double>(), 0);
  }
  EXPECT_TRUE(j["queries"][1]["slower"].get<bool>()) << j["queries"][1].dump();
  EXPECT_GE(j["queries"][1]["target_median_ms"].get<double>(), 30);
  // The timed queries are a measurement, not a step of the cutover: the
  // total leaves their phase out (it takes at least 3 x 30 ms here).
  double queries_seconds = -1, last_end = 0;
  for (auto &p : j["phases"]) {
    if (p["phase"] == "queries") queries_seconds = p["seconds"];
    last_end = std::max(last_end, p["end"].get<double>());
  }
  ASSERT_GE(queries_seconds, 0.09) << j["phases"].dump();
  EXPECT_LE(j["verdict"]["total_seconds"].get<double>(), last_end - queries_seconds + 0.01) << j["verdict"].dump();
  EXPECT_NE(read(out / "report.md").find("not counted in the total"), std::string::npos);
  EXPECT_TRUE(j["verdict"]["go"].get<bool>()) << "a warning by default";
  bool warned = false;
  for (auto &x : j["verdict"]["reasons"])
    if (x["kind"] == "query" && !x["blocking"].get<bool>()) warned = true;
  EXPECT_TRUE(warned) << j["verdict"].dump();
  std::string md = read(out / "report.md");
  EXPECT_NE(md.find("| lookup |"), std::string::npos) << md;
  EXPECT_NE(md.find("does not change the verdict"), std::string::npos);
  EXPECT_NE(read(out / "report.html").find("id=\"queries\""), std::string::npos);

  r = run_pgcutover({"rehearse", "--config",
                     config("1h", GOOD_CHECK, "query_runs = 3\nqueries_must_not_regress = true\n", queries), "--report", out});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  j = json::parse(read(out / "report.json"));
  EXPECT_FALSE(j["verdict"]["go"].get<bool>());
  EXPECT_TRUE(j["verdict"]["fits"].get<bool>()) << "within the budget, but no-go";
  EXPECT_NE(read(out / "report.md").find("## Verdict: NO-GO"), std::string::npos);
}

// Each rehearsal joins the history: in the target's ledger schema by default,
// in a folder with --history-dir; the second report shows both runs.
TEST_F(Rehearse, HistoryOfRehearsalsInTheLedgerOrAFolder) {
  fs::path out = dir / "report";
  for (int i = 0; i < 2; ++i) {
    RunResult r = run_pgcutover({"rehearse", "--config", config("1h", GOOD_CHECK), "--report", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.rehearsals"), "2");
  json j = json::parse(read(out / "report.json"));
  ASSERT_EQ(j["history"].size(), 2u) << j["history"].dump();
  EXPECT_LT(j["history"][0]["run_at"].get<std::string>(), j["history"][1]["run_at"].get<std::string>());
  EXPECT_EQ(j["history"][1]["run_at"], j["started_at"]);
  EXPECT_EQ(j["history"][1]["budget_seconds"], 3600.0);
  EXPECT_FALSE(j["history"][1]["phases"].empty());
  std::string html = read(out / "report.html");
  size_t rows = 0;
  for (size_t p = html.find("class=\"history-row\""); p != std::string::npos; p = html.find("class=\"history-row\"", p + 1)) ++rows;
  EXPECT_EQ(rows, 2u);
  EXPECT_NE(html.find("id=\"history-budget-line\""), std::string::npos);
  EXPECT_NE(read(out / "report.md").find(j["history"][0]["run_at"].get<std::string>()), std::string::npos);

  fs::path hist = dir / "history";
  for (int i = 0; i < 2; ++i) {
    RunResult r = run_pgcutover(
        {"rehearse", "--config", config("1h", GOOD_CHECK), "--report", out, "--history-dir", hist.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  j = json::parse(read(out / "report.json"));
  EXPECT_EQ(j["history"].size(), 2u) << "the folder's runs only";
  EXPECT_EQ(j["history_where"], hist.string());
  size_t files = 0;
  for (auto &f : fs::directory_iterator(hist)) files += f.path().extension() == ".json";
  EXPECT_EQ(files, 2u);
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.rehearsals"), "2") << "the folder instead of the ledger";
}
